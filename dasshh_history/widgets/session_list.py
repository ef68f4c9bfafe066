"""The session list pane: a virtual list of two-line rows over a SQL window.

The widget knows how many sessions there are and holds only the pages of rows
it has been asked to draw; a page that is not loaded yet is fetched in a thread
from ``source(offset, limit)`` and drawn as a placeholder meanwhile.  So the
list opens as fast with 50,000 sessions as with 12, and creates no widget per
session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo

from rich.segment import Segment
from rich.text import Text
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dasshh_history.domain.secret_marks import has_marks, unmark
from dasshh_history.domain.secrets import mask_title
from dasshh_history.domain.text import cell_len, centre_on_match, count_messages, format_when, one_line
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services.listing import PAGE_SIZE, Source
from dasshh_history.widgets.masked_style import style_masked

__all__ = ["PAGE_SIZE", "ROW_HEIGHT", "SessionList", "Source"]

#: Titles are cut to this many characters before the pane's own ellipsis.
TITLE_LIMIT = 200
#: Snippets are cut to this many characters (the search gives a few hundred) before being cut to the pane.
SNIPPET_LIMIT = 1000
#: Lines per session row: the title, then when and how much.
ROW_HEIGHT = 2
#: Before a marked session's title (and a bar in its left margin).
MARK = "✓ "
#: Pages kept in memory; the farthest from the cursor go first.
MAX_PAGES = 100


def session_meta(summary: SessionSummary, *, now: datetime, tz: tzinfo | None) -> str:
    return f"{format_when(summary.updated_at, now=now, tz=tz)} · {count_messages(summary.event_count)}"


class SessionList(ScrollView, can_focus=True):
    """Sessions, most recently updated first; posts :class:`SessionList.Highlighted`."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("enter", "open", "Open", show=False),
        Binding("space", "mark", "Mark", key_display="space",
                tooltip="Mark or unmark the highlighted session, then move down (d, e act on the marked)"),
        Binding("asterisk", "mark_all", "Mark all", key_display="*", show=False,
                tooltip="Mark every session of the list (a search's results)"),
    ]

    COMPONENT_CLASSES = {
        "session-list--title",
        "session-list--meta",
        "session-list--cursor",
        "session-list--placeholder",
        "session-list--match",
        "session-list--marked",
        "session-list--secret",
    }

    cursor: reactive[int] = reactive(-1, init=False)

    class Highlighted(Message):
        """The highlight moved to another session (``None``: the list is empty)."""

        def __init__(self, summary: SessionSummary | None) -> None:
            super().__init__()
            self.summary = summary

    class ReadFailed(Message):
        """Reading a page of rows raised ``error`` (the page is asked for again when it is drawn again)."""

        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    class MarksChanged(Message):
        """Sessions were marked or unmarked: ``count`` are marked now."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class MarkAllRequested(Message):
        """``*``: the screen, which knows every session the list holds, marks them."""

    class Opened(Message):
        """Enter was pressed on a session."""

        def __init__(self, summary: SessionSummary) -> None:
            super().__init__()
            self.summary = summary

    def __init__(
        self,
        source: Source,
        *,
        clock: Callable[[], datetime],
        tz: tzinfo | None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._source = source
        self._clock = clock
        self._tz = tz
        self._total = 0
        self._pages: dict[int, list[SessionSummary]] = {}
        self._pending: set[int] = set()
        self._generation = 0
        self._announce = False  # the cursor's row was not loaded when it moved there
        self._pattern: re.Pattern[str] | None = None  # search matches to highlight
        self._marked: dict[str, None] = {}  # the marked sessions' ids, in the order marked (kept across reloads)
        self._list_title = ""

    # -- content -------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many sessions the list holds (loaded or not)."""
        return self._total

    @property
    def summaries(self) -> list[SessionSummary]:
        """The rows loaded so far, in list order, up to the first gap."""
        rows: list[SessionSummary] = []
        for page in range(len(self._pages) + 1):
            if page not in self._pages:
                break
            rows.extend(self._pages[page])
        return rows[: self._total]

    def summary_at(self, index: int) -> SessionSummary | None:
        """The summary of row ``index``, or None while its page is not loaded."""
        if not 0 <= index < self._total:
            return None
        page = self._pages.get(index // PAGE_SIZE)
        if page is None:
            return None
        offset = index % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    @property
    def highlighted(self) -> int | None:
        return self.cursor if 0 <= self.cursor < self._total else None

    @highlighted.setter
    def highlighted(self, index: int | None) -> None:
        self.cursor = -1 if index is None else index

    @property
    def current(self) -> SessionSummary | None:
        return self.summary_at(self.cursor)

    def reset(
        self,
        total: int,
        pages: dict[int, list[SessionSummary]],
        cursor: int | None,
        *,
        source: Source | None = None,
        pattern: re.Pattern[str] | None = None,
        scroll_y: int | None = None,
    ) -> None:
        """Replace the content: ``total`` rows, some pages already read, the highlight on ``cursor``.

        ``source`` replaces where later pages come from (search results, or
        every session again); ``pattern`` marks matches in titles and snippets;
        ``scroll_y`` keeps the view where it was (the cursor is still kept in view).
        """
        self._generation += 1
        self._total = total
        self._pages = dict(pages)
        self._pending.clear()
        if source is not None:
            self._source = source
        self._pattern = pattern
        self._set_virtual_height(total * ROW_HEIGHT)
        index = -1 if cursor is None or total == 0 else max(0, min(cursor, total - 1))
        self.set_reactive(SessionList.cursor, index)
        if scroll_y is not None:
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
        self._scroll_to_cursor()
        self._highlight_changed()
        self.refresh()

    def _set_virtual_height(self, height: int) -> None:
        """The rows' height: without laying out the whole screen again when only the list's scroll range changes.

        ``virtual_size`` is a layout reactive: set at every keystroke of a
        search (the count of matches changes), it made the screen lay out
        every widget again and redraw the footer, a frame the next key waited
        for.  The list's own size does not depend on it; its scrollbar does,
        and is updated here (a scrollbar that appears or goes lays out again).
        """
        size = Size(self.scrollable_content_region.width, height)
        if size == self.virtual_size:
            return
        if not self.is_mounted:
            self.virtual_size = size
            return
        self.set_reactive(SessionList.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def _highlight_changed(self) -> None:
        summary = self.current
        self._announce = summary is None and self.highlighted is not None
        if self._announce:
            self._want(self.cursor // PAGE_SIZE)
        else:
            self.post_message(self.Highlighted(summary))

    # -- marks -------------------------------------------------------------------

    @property
    def marked_ids(self) -> list[str]:
        """The marked sessions' ids, in the order they were marked."""
        return list(self._marked)

    @property
    def mark_count(self) -> int:
        return len(self._marked)

    def is_marked(self, session_id: str) -> bool:
        return session_id in self._marked

    def mark(self, session_ids: Iterable[str]) -> None:
        """Mark these sessions (those marked already stay marked)."""
        self._marked.update(dict.fromkeys(session_ids))
        self._marks_changed()

    def unmark(self, session_ids: Iterable[str]) -> None:
        """Unmark these sessions (deleted ones: a mark never outlives its session)."""
        for session_id in session_ids:
            self._marked.pop(session_id, None)
        self._marks_changed()

    def clear_marks(self) -> None:
        self._marked.clear()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self.list_title = self._list_title
        self.refresh()
        self.post_message(self.MarksChanged(len(self._marked)))

    @property
    def list_title(self) -> str:
        """What the list shows (its border title without the marks' count)."""
        return self._list_title

    @list_title.setter
    def list_title(self, title: str) -> None:
        self._list_title = title
        count = len(self._marked)
        if count:  # after what is listed, before the order: cut last when the pane is narrow
            what, _, order = title.partition(" · ")
            title = " · ".join(part for part in (what, f"{count:,} marked", order) if part)
        self.border_title = title

    def action_mark(self) -> None:
        """Mark or unmark the highlighted session, then move to the next one."""
        summary = self.current
        if summary is None:
            return
        if summary.id in self._marked:
            self.unmark([summary.id])
        else:
            self.mark([summary.id])
        self.cursor += 1

    def action_mark_all(self) -> None:
        if self._total:
            self.post_message(self.MarkAllRequested())

    # -- loading -------------------------------------------------------------------

    def _want(self, page: int) -> None:
        if page in self._pages or page in self._pending or not 0 <= page * PAGE_SIZE < self._total:
            return
        self._pending.add(page)
        self._fetch(page, self._generation)

    @work(thread=True, group="session-pages")
    def _fetch(self, page: int, generation: int) -> None:
        try:
            rows = self._source(page * PAGE_SIZE, PAGE_SIZE)
        except Exception as error:  # said by whoever handles ReadFailed (a bug is raised there)
            self.post_message(self.ReadFailed(error))
            rows = None
        self.app.call_from_thread(self._fetched, page, generation, rows)

    def _fetched(self, page: int, generation: int, rows: list[SessionSummary] | None) -> None:
        if generation != self._generation:
            return  # the list was reloaded meanwhile
        self._pending.discard(page)
        if rows is None:
            return
        self._pages[page] = rows
        self._evict()
        if self._announce and self.cursor // PAGE_SIZE == page:
            self._highlight_changed()
        self.refresh()

    def _evict(self) -> None:
        if len(self._pages) <= MAX_PAGES:
            return
        here = max(self.cursor, 0) // PAGE_SIZE
        for page in sorted(self._pages, key=lambda p: abs(p - here), reverse=True)[: len(self._pages) - MAX_PAGES]:
            del self._pages[page]

    # -- drawing -------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = self.scroll_offset.y + y
        index, part = divmod(line, ROW_HEIGHT)
        if not 0 <= index < self._total:
            return Strip.blank(width, base)
        summary = self.summary_at(index)
        if summary is None:
            self._want(index // PAGE_SIZE)
            plain, component = ("…" if part == 0 else ""), "session-list--placeholder"
        else:
            plain, component = self._line(summary, part, max(0, width - 2))
        style = base + self.get_component_rich_style(component)
        padding = base
        if index == self.cursor:
            cursor = self.get_component_rich_style("session-list--cursor")
            style, padding = style + cursor, padding + cursor
        lead = Segment(" ", padding)
        if summary is not None and summary.id in self._marked:
            lead = Segment("▌", padding + self.get_component_rich_style("session-list--marked"))
        text = Text(plain, end="")
        text.truncate(max(0, width - 2), overflow="ellipsis")
        if self._pattern is not None:
            text.highlight_regex(self._pattern, self.get_component_rich_style("session-list--match", partial=True))
        drawn = list(text.render(self.app.console))
        if has_marks(plain):  # a masked secret in the title: drawn apart, its marks removed (README, "Privacy")
            drawn = style_masked([drawn], self.get_component_rich_style("session-list--secret", partial=True))[0]
        segments = [
            lead,
            *Segment.apply_style(drawn, style),
            Segment(" ", padding),
        ]
        return Strip(segments).adjust_cell_length(width, padding)

    #: Whether titles show likely secrets whole (the browser's R); masked by default (README, "Privacy").
    secrets_revealed = False

    def _line(self, summary: SessionSummary, part: int, width: int | None = None) -> tuple[str, str]:
        """The text of one line of a row, and its component class.

        A search snippet is cut to ``width`` cells (when given) around its first match,
        so that the match is seen however narrow the pane; other lines are cut when drawn.
        """
        if part == 0:
            mark = MARK if summary.id in self._marked else ""
            detail = summary.detail if self.secrets_revealed else mask_title(summary.detail, marked=True)
            return mark + one_line(detail, TITLE_LIMIT), "session-list--title"
        if summary.snippet:  # an empty one (only the title matched, or the session is gone) says nothing
            head = f"{format_when(summary.updated_at, now=self._clock(), tz=self._tz)} · "
            snippet = one_line(summary.snippet, SNIPPET_LIMIT)
            if width is not None:
                snippet = centre_on_match(snippet, self._pattern, width - cell_len(head))
            return head + snippet, "session-list--meta"
        return session_meta(summary, now=self._clock(), tz=self._tz), "session-list--meta"

    def _scroll_to_cursor(self) -> None:
        if self.cursor < 0:
            return
        top = self.cursor * ROW_HEIGHT
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif height and top + ROW_HEIGHT > self.scroll_y + height:
            self.scroll_to(y=top + ROW_HEIGHT - height, animate=False, immediate=True)

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._highlight_changed()

    def validate_cursor(self, cursor: int) -> int:
        return -1 if self._total == 0 else max(0, min(cursor, self._total - 1))

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self._total * ROW_HEIGHT)
        self._scroll_to_cursor()

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self.refresh()

    # -- actions -------------------------------------------------------------------

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height // ROW_HEIGHT)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor = max(0, self.cursor - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = self._total - 1

    def action_page_down(self) -> None:
        self.cursor += self._page()

    def action_page_up(self) -> None:
        self.cursor = max(0, self.cursor - self._page())

    def action_open(self) -> None:
        if (summary := self.current) is not None:
            self.post_message(self.Opened(summary))

    def on_click(self, event: events.Click) -> None:
        index = (self.scroll_offset.y + event.y) // ROW_HEIGHT
        if 0 <= index < self._total:
            if index == self.cursor and event.chain > 1:
                self.action_open()
            self.cursor = index

    def row_text(self, index: int) -> str:
        """The plain text of a row's two lines, the snippet cut to the pane as drawn (for tests and tools)."""
        summary = self.summary_at(index)
        if summary is None:
            return "…"
        width = self.scrollable_content_region.width - 2 if self.scrollable_content_region.width else None
        return unmark(f"{self._line(summary, 0)[0]}\n{self._line(summary, 1, width)[0]}")
