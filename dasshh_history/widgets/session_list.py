"""The session list pane: one two-line row per session, newest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from dasshh_history.data.browse import SessionSummary
from dasshh_history.domain.text import format_when, one_line

#: Titles are cut to this many characters before the pane's own ellipsis.
TITLE_LIMIT = 200


def session_row(summary: SessionSummary, *, now: datetime, tz: tzinfo | None) -> Text:
    """The two lines shown for a session: its title, then when and how much."""
    count = summary.event_count
    meta = f"{format_when(summary.updated_at, now=now, tz=tz)} · {count:,} message{'' if count == 1 else 's'}"
    row = Text(one_line(summary.detail, TITLE_LIMIT), style="bold", end="")
    row.append("\n")
    row.append(meta, style="dim")
    return row


class SessionList(OptionList):
    """Sessions, most recently updated first; posts :class:`SessionList.Highlighted`."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    class Highlighted(Message):
        """The highlight moved to another session (``None``: the list is empty)."""

        def __init__(self, summary: SessionSummary | None) -> None:
            super().__init__()
            self.summary = summary

    class Opened(Message):
        """Enter was pressed on a session."""

        def __init__(self, summary: SessionSummary) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, *, clock: Callable[[], datetime], tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._clock = clock
        self._tz = tz
        self._summaries: list[SessionSummary] = []

    @property
    def summaries(self) -> list[SessionSummary]:
        return self._summaries

    @property
    def current(self) -> SessionSummary | None:
        index = self.highlighted
        if index is None or not 0 <= index < len(self._summaries):
            return None
        return self._summaries[index]

    def set_summaries(self, summaries: list[SessionSummary], *, highlight_id: str | None = None) -> None:
        """Replace the rows, keeping the highlight on ``highlight_id`` when it is listed."""
        now = self._clock()
        self._summaries = summaries
        self.set_options(
            Option(session_row(summary, now=now, tz=self._tz), id=summary.id) for summary in summaries
        )
        self.border_title = f"Sessions ({len(summaries):,})"
        index = next((i for i, s in enumerate(summaries) if s.id == highlight_id), 0 if summaries else None)
        self.highlighted = index
        if index is None:
            self.post_message(self.Highlighted(None))

    def index_of(self, session_id: str) -> int | None:
        return next((i for i, s in enumerate(self._summaries) if s.id == session_id), None)

    def _on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.current))

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if (summary := self.current) is not None:
            self.post_message(self.Opened(summary))
