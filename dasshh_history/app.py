"""The dasshh-history app: wires the data layer to the session list and timeline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo

from rich.align import Align
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import get_current_worker

from dasshh_history.data.browse import HistoryReader, SessionSummary
from dasshh_history.data.client import DatabaseUnavailableError, DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.data.session import SessionNotFoundError, SessionService
from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.domain.text import format_timestamp, one_line
from dasshh_history.keys import help_sections
from dasshh_history.screens.confirm_delete import ConfirmDeleteScreen
from dasshh_history.screens.help import HelpScreen
from dasshh_history.screens.rename import RenameScreen
from dasshh_history.widgets.blocks import Block, BlockBuilder
from dasshh_history.widgets.session_list import PAGE_SIZE, SessionList
from dasshh_history.widgets.timeline import Timeline

EMPTY_STATE = (
    "No history yet.\n\n"
    "dasshh saves every conversation you have with it to\n~/.dasshh/db/dasshh.db;\n"
    "they will be listed here.\n\n"
    "To look around with sample data, run:\ndasshh-history --demo"
)


def empty_state() -> RenderableType:
    text = Text(EMPTY_STATE)
    text.stylize("bold", 0, len("No history yet."))
    text.highlight_regex(r"dasshh-history --demo|~/\.dasshh/db/dasshh\.db", "bold")
    return Padding(Group(*(Align.center(line) if line.plain else Text() for line in text.split("\n"))), (4, 2, 0, 2))


#: What a worker catches from the data layer; anything else is a bug and should surface.
DB_ERRORS = (SQLAlchemyError, DatabaseUnavailableError)


def describe_error(exc: BaseException) -> str:
    """A one-line, user-facing description of a database error."""
    if isinstance(exc, DatabaseUnavailableError):
        return f"the database file {exc.reason}; restart dasshh-history to open it again"
    orig = getattr(exc, "orig", None)
    message = " ".join(str(orig if orig is not None else exc).split())
    if "readonly" in message or "read-only" in message:
        return "the database is read-only"
    if "locked" in message:
        return "the database is locked by another program; try again"
    return message[:160]


class HistoryApp(App[None]):
    """Browse, rename and delete dasshh chat sessions."""

    CSS_PATH = "app.tcss"
    TITLE = "dasshh-history"

    BINDINGS = [
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete", key_display="d"),
        Binding("tab", "app.focus_next", "Switch pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Switch pane", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        client: DBClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.service = SessionService(client)
        self.reader = HistoryReader(client)
        self.clock = clock
        self.tz = tz
        self._shown_id: str | None = None  # the session whose timeline is shown or loading
        self.displayed_session_id: str | None = None  # the session whose events the timeline shows

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield SessionList(self._read_page, clock=self.clock, tz=self.tz, id="sessions")
            yield Timeline(id="timeline")
        yield Footer()

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    def on_mount(self) -> None:
        self.session_list.border_title = "Sessions"
        self.timeline.border_title = "Timeline"
        self.session_list.focus()
        self.load_sessions(prefer_recent=True)

    # -- loading ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sessions")
    def load_sessions(
        self, *, highlight_id: str | None = None, prefer_recent: bool = False, keep_index: int = 0
    ) -> None:
        """Count the sessions and read the page under the highlight, off the UI thread.

        The highlight goes to ``highlight_id`` (the recent session with
        ``prefer_recent``) when it exists, else stays at ``keep_index``.
        """
        try:
            total = self.reader.count_sessions()
            if prefer_recent:
                recent = self.service.get_recent_session()
                highlight_id = recent.id if recent else None
            index = self.reader.rank(session_id=highlight_id) if highlight_id else None
            index = min(keep_index, total - 1) if index is None else index
            page = max(index, 0) // PAGE_SIZE
            pages = {page: self.reader.list_summaries(offset=page * PAGE_SIZE, limit=PAGE_SIZE)}
        except DB_ERRORS as exc:
            self.call_from_thread(self.say, f"Could not read sessions: {describe_error(exc)}", severity="error")
            return
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self.session_list.reset, total, pages, index)

    def _read_page(self, offset: int, limit: int) -> list[SessionSummary] | None:
        """The session list's source of rows (called in its worker threads)."""
        try:
            return self.reader.list_summaries(offset=offset, limit=limit)
        except DB_ERRORS as exc:
            self.call_from_thread(self.say, f"Could not read sessions: {describe_error(exc)}", severity="error")
            return None

    def on_session_list_highlighted(self, message: SessionList.Highlighted) -> None:
        summary = message.summary
        if summary is None:
            self._shown_id = self.displayed_session_id = None
            self.timeline.border_title = "No sessions"
            self.timeline.border_subtitle = ""
            self.timeline.show_placeholder(empty_state())
            return
        if summary.id == self._shown_id:
            return
        self._shown_id = summary.id
        self.timeline.border_title = Content(one_line(summary.detail, 120))  # literal, never markup
        count = summary.event_count
        self.timeline.border_subtitle = (
            f"{count:,} message{'' if count == 1 else 's'} · started {format_timestamp(summary.created_at, self.tz)}"
        )
        self.load_timeline(summary)

    @work(thread=True, exclusive=True, group="timeline")
    def load_timeline(self, summary: SessionSummary) -> None:
        """Read and parse a session's events off the UI thread, first batch first; stale loads stop."""
        worker = get_current_worker()
        timeline = TimelineBuilder()
        blocks = BlockBuilder(self.tz)
        shown = False
        batches = self.reader.iter_event_batches(session_id=summary.id)
        try:
            for batch in batches:
                new = blocks.add(timeline.add(batch))
                if worker.is_cancelled:
                    return
                if new:
                    self.call_from_thread(self._show_blocks, summary.id, new, first=not shown, complete=False)
                    shown = True
                    self._wait_for_paint()
        except DB_ERRORS as exc:
            self.call_from_thread(self.say, f"Could not read events: {describe_error(exc)}", severity="error")
            if shown:  # what was read stays; the timeline stops waiting for more
                self.call_from_thread(self._show_blocks, summary.id, [], first=False)
            return
        finally:
            batches.close()
        if not worker.is_cancelled:
            self.call_from_thread(self._show_blocks, summary.id, blocks.add(timeline.finish()), first=not shown)

    def _wait_for_paint(self, timeout: float = 0.5) -> None:
        """Block this worker until the screen has been drawn, so that reading more never delays a paint."""
        painted = threading.Event()
        self.call_from_thread(self.call_after_refresh, painted.set)
        painted.wait(timeout)

    def _show_blocks(self, session_id: str, blocks: list[Block], *, first: bool, complete: bool = True) -> None:
        if session_id != self._shown_id:
            return
        self.displayed_session_id = session_id
        if not first:
            self.timeline.append_blocks(blocks, complete=complete)
        elif blocks:
            self.timeline.show_blocks(blocks, complete=complete)
        else:
            self.timeline.show_placeholder(Text("This session has no events yet.", justify="center"))

    def on_session_list_opened(self, message: SessionList.Opened) -> None:
        self.timeline.focus()

    def on_timeline_back_requested(self, message: Timeline.BackRequested) -> None:
        self.session_list.focus()

    # -- actions -----------------------------------------------------------------

    def action_rename(self) -> None:
        summary = self.session_list.current
        if summary is None:
            self.say("No session to rename.", severity="warning")
            return

        def done(title: str | None) -> None:
            if title is not None:
                self.rename_session(summary, title)

        self.push_screen(RenameScreen(one_line(summary.detail) if summary.detail else ""), done)

    @work(thread=True, group="write")
    def rename_session(self, summary: SessionSummary, title: str) -> None:
        try:
            self.service.update_session(session_id=summary.id, detail=title)
        except SessionNotFoundError:
            self.call_from_thread(self.say, "That session no longer exists.", severity="warning")
        except DB_ERRORS as exc:
            self.call_from_thread(self.say, f"Rename failed: {describe_error(exc)}", severity="error")
            return
        else:
            self.call_from_thread(self.say, f"Renamed to “{one_line(title, 60)}”")
        self._shown_id = None  # the title in the timeline border changes too
        self.call_from_thread(self.load_sessions, highlight_id=summary.id)

    def action_delete(self) -> None:
        summary = self.session_list.current
        if summary is None:
            self.say("No session to delete.", severity="warning")
            return
        index = self.session_list.highlighted or 0

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.delete_session(summary, index)

        self.push_screen(ConfirmDeleteScreen(one_line(summary.detail, 300), summary.event_count), done)

    @work(thread=True, group="write")
    def delete_session(self, summary: SessionSummary, index: int) -> None:
        """Delete a session; the highlight stays at its place, on the next one (or the last)."""
        try:
            self.service.delete_session(session_id=summary.id)
        except DB_ERRORS as exc:
            self.call_from_thread(self.say, f"Delete failed: {describe_error(exc)}", severity="error")
            return
        self.call_from_thread(self.say, f"Deleted “{one_line(summary.detail, 60)}”")
        self.call_from_thread(self.load_sessions, keep_index=index)

    def say(self, message: str, *, severity: str = "information") -> None:
        """Notify without interpreting markup: messages may quote stored titles."""
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Rename session", "Rename the highlighted session (r)", self.action_rename)
        yield SystemCommand("Delete session", "Delete the highlighted session and its events (d)", self.action_delete)
        yield SystemCommand("Keys", "Show every key (?)", self.action_help)
        yield SystemCommand("Focus sessions", "Move focus to the session list", self.session_list.focus)
        yield SystemCommand("Focus timeline", "Move focus to the timeline", self.timeline.focus)
