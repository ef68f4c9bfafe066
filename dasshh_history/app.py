"""The dasshh-history app: wires the data layer to the session list and timeline."""

from __future__ import annotations

import dataclasses
import gc
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from rich.align import Align
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import get_current_worker

from dasshh_history.data.browse import HistoryReader
from dasshh_history.domain.values import SessionSummary
from dasshh_history.data.client import DEFAULT_DB_PATH, DatabaseUnavailableError, DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.domain.query import SearchQuery
from dasshh_history.data.search import SearchIndex, SearchResult
from dasshh_history.data.session import SessionNotFoundError, SessionService
from dasshh_history import exporting
from dasshh_history.data import rename, trash
from dasshh_history.data.trash import DeletedSession, RestoreError
from dasshh_history.data.watch import ChangeWatcher
from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.domain.text import format_timestamp, one_line
from dasshh_history.idle_gc import IdleCollector
from dasshh_history.keys import help_sections
from dasshh_history.screens.confirm_delete import ConfirmDeleteScreen
from dasshh_history.screens.help import HelpScreen
from dasshh_history.screens.rename import RenameScreen
from dasshh_history.widgets.blocks import Block, BlockBuilder
from dasshh_history.widgets.search_bar import SearchBar, SearchInput
from dasshh_history.widgets.session_list import PAGE_SIZE, ROW_HEIGHT, SessionList, Source
from dasshh_history.widgets.timeline import Timeline

def empty_state(path: Path | None = None) -> RenderableType:
    """What the timeline says when there is no session at all (``path``: where the history is read)."""
    where = "~/.dasshh/db/dasshh.db" if path is None or path == DEFAULT_DB_PATH else str(path)
    text = Text.assemble(
        ("No history yet.", "bold"),
        "\n\ndasshh saves every conversation you have with it to\n",
        (where, "bold"),
        ";\nthey will be listed here.\n\nTo look around with sample data, run:\n",
        ("dasshh-history --demo", "bold"),
    )
    return Padding(Group(*(Align.center(line) if line.plain else Text() for line in text.split("\n"))), (4, 2, 0, 2))


def no_match(text: str) -> RenderableType:
    message = Text.assemble("No session matches ", (f"“{one_line(text, 80)}”", "bold"), ".\n\nEsc clears the search.")
    return Padding(Align.center(message), (4, 2, 0, 2))


#: Seconds of no typing in the search box before the timeline follows the highlighted result.
TYPING_PAUSE = 0.2

#: What a worker catches from the data layer (the search index speaks sqlite3 directly); anything
#: else is a bug and should surface.
DB_ERRORS = (SQLAlchemyError, DatabaseUnavailableError, sqlite3.Error)


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
        Binding("slash", "search", "Search", key_display="/"),
        Binding("r", "rename", "Rename"),
        Binding("d,delete", "delete", "Delete", key_display="d"),
        Binding("u", "undo", "Undo delete"),
        Binding("e", "export", "Export"),
        Binding("c", "copy", "Copy"),
        Binding("tab", "app.focus_next", "Switch pane", show=False),
        Binding("shift+tab", "app.focus_previous", "Switch pane", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
    ]

    #: Seconds between checks for changes written by others.
    REFRESH_INTERVAL = 1.0

    def __init__(
        self,
        client: DBClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        tz: tzinfo | None = None,
        search_path: Path | None = None,
        history_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.history_path = history_path  # named in the empty state when not dasshh's default
        self.service = SessionService(client)
        self.reader = HistoryReader(client)
        self.watcher = ChangeWatcher(client)
        self.clock = clock
        self.tz = tz
        self._search_path = search_path  # where the search index lives (None: the user's cache directory)
        self._index: SearchIndex | None = None
        self._index_lock = threading.Lock()
        self._indexing = False
        self._index_behind = False  # the last sync failed: the index misses changes already seen
        self._index_error: str | None = None  # what the failing syncs said
        self.query = SearchQuery.parse("")  # the search typed ("": every session)
        self.listed_query = self.query  # the search whose results the list shows
        self._shown_id: str | None = None  # the session whose timeline is shown or loading
        self._shown_signature: tuple[int, int | None] | None = None  # its (events, last rowid) when read
        self.displayed_session_id: str | None = None  # the session whose events the timeline shows
        self._deleted: list[DeletedSession] = []  # deletes of this run, the last one last (u undoes it)
        self._pending_timeline: Timer | None = None  # a timeline to show once typing pauses
        self._last_keystroke = -TYPING_PAUSE  # when the search text last changed (time.monotonic)
        self._collector = IdleCollector()  # full garbage collections wait for a pause in input
        self._ui_thread: int | None = None  # the thread the app runs in (set when mounted)

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield SearchBar(id="search")
                yield SessionList(self._read_page, clock=self.clock, tz=self.tz, id="sessions")
            yield Timeline(id="timeline")
        yield Footer()

    @property
    def session_list(self) -> SessionList:
        return self.query_one(SessionList)

    @property
    def timeline(self) -> Timeline:
        return self.query_one(Timeline)

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    def on_mount(self) -> None:
        self._ui_thread = threading.get_ident()
        self.session_list.border_title = "Sessions"
        self.timeline.border_title = "Timeline"
        self.session_list.focus()
        self._first_load()
        # The modules and widgets alive now live as long as the app: the collector need not look at
        # them again.  A full collection took ~75 ms with a large session open; now ~20 ms.
        gc.freeze()
        self._collector.start()
        self.set_interval(self.REFRESH_INTERVAL, self._every_second)

    def _every_second(self) -> None:
        self._collector.tick()
        self.check_for_changes()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._collector.input_seen()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self._collector.stop()
        self.watcher.close()
        if self._index is not None:
            self._index.close()

    # -- loading ---------------------------------------------------------------

    def _first_load(self) -> None:
        """Read the first page right here, before the first layout: nothing can be drawn without it.

        Read in a worker, these queries compete with the first layout for the
        GIL and take several times as long.  They take milliseconds, and a
        writer's lock is waited out as in any read.
        """
        try:
            self.watcher.changed()  # from here on, changes by others are noticed
            read = self._read_list(self.query, prefer_recent=True)
        except DB_ERRORS as exc:
            self.say(f"Could not read sessions: {describe_error(exc)}", severity="error")
            return
        if read is not None:
            self._list_loaded(self.query, *read, keep_scroll=False)

    @work(thread=True, exclusive=True, group="sessions")
    def load_sessions(
        self,
        *,
        highlight_id: str | None = None,
        keep_index: int = 0,
        keep_scroll: bool = False,
    ) -> None:
        """Count the sessions (or run the search) and read the page under the highlight, off the UI thread.

        The highlight goes to ``highlight_id`` when it is listed, else stays
        at ``keep_index``.  With ``keep_scroll`` the highlighted row stays
        where it is on screen.
        """
        worker = get_current_worker()
        query = self.query
        try:
            read = self._read_list(
                query, highlight_id=highlight_id, keep_index=keep_index, cancelled=lambda: worker.is_cancelled
            )
        except DB_ERRORS as exc:
            self._ui(self.say, f"Could not read sessions: {describe_error(exc)}", severity="error")
            return
        if not worker.is_cancelled and read is not None:
            self._ui(self._list_loaded, query, *read, keep_scroll=keep_scroll)

    def _read_list(
        self,
        query: SearchQuery,
        *,
        highlight_id: str | None = None,
        prefer_recent: bool = False,
        keep_index: int = 0,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> tuple[SearchResult | None, int, dict[int, list[SessionSummary]], int, Source] | None:
        """What the list shows for ``query``: (search result, total, {page: rows}, highlighted index, source).

        The highlight goes to ``highlight_id`` (the recent session with
        ``prefer_recent``) when it is listed, else to ``keep_index``.  None
        when ``cancelled`` or when the page could not be read.
        """
        if query:
            result = self._search_index().search(query, cancelled=cancelled)
            if cancelled():
                return None
            source = self._search_source(result)
            total = len(result.session_ids)
            at = result.session_ids.index(highlight_id) if highlight_id in result.session_ids else None
        else:
            result, source = None, self._read_page
            total = self.reader.count_sessions()
            if prefer_recent:
                recent = self.service.get_recent_session()
                highlight_id = recent.id if recent else None
            at = self.reader.rank(session_id=highlight_id) if highlight_id else None
        at = min(keep_index, total - 1) if at is None else at
        page = max(at, 0) // PAGE_SIZE
        rows = source(page * PAGE_SIZE, PAGE_SIZE)
        return None if rows is None else (result, total, {page: rows}, at, source)

    def _list_loaded(
        self,
        query: SearchQuery,
        result: SearchResult | None,
        total: int,
        pages: dict[int, list[SessionSummary]],
        index: int,
        source: Source,
        keep_scroll: bool,
    ) -> None:
        if query != self.query:
            return  # typed on meanwhile
        sessions = self.session_list
        scroll_y = None
        if keep_scroll and sessions.highlighted is not None and sessions.scroll_y > 0:
            scroll_y = max(0, round(sessions.scroll_y) + (index - sessions.highlighted) * ROW_HEIGHT)
        sessions.reset(total, pages, index, source=source, pattern=query.pattern(), scroll_y=scroll_y)
        self.listed_query = query
        if result is None:
            sessions.border_title = f"Sessions ({total:,})"
        else:
            sessions.border_title = f"Search ({total:,})"
            self._show_search_status()
        if self._typing():
            self._follow_after_pause()  # its highlights change with the session it shows
        else:
            self.call_after_refresh(self.timeline.set_search, query.pattern())  # the list first

    def _read_page(self, offset: int, limit: int) -> list[SessionSummary] | None:
        """The session list's source of rows (called in its worker threads)."""
        try:
            return self.reader.list_summaries(offset=offset, limit=limit)
        except DB_ERRORS as exc:
            self._ui(self.say, f"Could not read sessions: {describe_error(exc)}", severity="error")
            return None

    def _search_source(self, result: SearchResult) -> Source:
        """Rows for the list from a search: the matching sessions, each with the text around its first match."""

        def read(offset: int, limit: int) -> list[SessionSummary] | None:
            ids = result.session_ids[offset:offset + limit]
            try:
                summaries = {s.id: s for s in self.reader.list_summaries_by_ids(ids)}
                snippets = self._search_index().snippets(result, ids)
            except DB_ERRORS as exc:
                self._ui(self.say, f"Could not search: {describe_error(exc)}", severity="error")
                return None
            # A session deleted since the search keeps its row, so that rows do not shift under the cursor.
            return [
                dataclasses.replace(summaries[sid], snippet=snippets.get(sid, ""))
                if sid in summaries
                else SessionSummary(sid, "(deleted)", None, None, 0, snippet="")
                for sid in ids
            ]

        return read

    # -- search ------------------------------------------------------------------

    def _search_index(self) -> SearchIndex:
        """The search index, opened on first use (in a worker thread)."""
        with self._index_lock:
            if self._index is None:
                self._index = SearchIndex(self.client, path=self._search_path)
            return self._index

    def action_search(self) -> None:
        if self.client.db_path is None:  # no history yet (nothing to index, and no file to index it beside)
            self.say("There is no history to search yet.", severity="warning")
            return
        bar = self.search_bar
        bar.display = True
        bar.input.focus()
        self._show_search_status()
        self.build_index(warm=True)

    @work(thread=True, exclusive=True, group="index")
    def build_index(self, *, reload: bool = False, warm: bool = False) -> None:
        """Bring the search index in step with the history, showing progress; then search again.

        The search runs again when the index changed, or always with ``reload``
        (the history changed in a way the index may not show, such as a new order).
        With ``warm`` (the search box just opened) one-letter prefixes are then
        looked up ahead, until something is typed.
        """
        worker = get_current_worker()
        self._indexing = True
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                self._ui(self._show_search_status, (done, total))

        try:
            changed = self._search_index().sync(progress, should_stop=lambda: worker.is_cancelled)
        except DB_ERRORS as exc:
            self._index_behind = True  # tried again at the next check for changes
            message = f"Could not index for search: {describe_error(exc)}"
            if message != self._index_error:  # said once, not at every retry
                self._index_error = message
                self._ui(self.say, message, severity="error")
            return
        finally:
            self._indexing = False
        self._index_error = None
        self._ui(self._index_synced, bool(changed) or reload)
        if warm:
            try:
                self._search_index().warm(should_stop=lambda: worker.is_cancelled or bool(self.query))
            except DB_ERRORS:
                pass  # only a head start: the search itself reports what is wrong

    def _index_synced(self, changed: bool) -> None:
        self._show_search_status()
        if changed and self.query:
            self._reload_list()

    def _show_search_status(self, progress: tuple[int, int] | None = None) -> None:
        """The line under the search box: matches, or how to search; first-build progress takes the lead."""
        if not self.search_bar.display:
            return
        building = ""
        if progress is not None:
            done, total = progress
            building = f"{100 * done // max(total, 1)}%"
        elif self._indexing:
            building = "…"
        if self.query:
            total = self.session_list.total
            status = "1 session matches" if total == 1 else f"{total:,} sessions match"
            if building:
                status += f" so far · indexing {building}"
        elif progress is not None:
            done, total = progress
            status = f"Indexing {done:,} of {total:,} events ({building}); search away meanwhile"
        else:
            status = "Words are ANDed; \"quote\" phrases · enter opens · esc clears"
        self.search_bar.set_status(status)

    def on_search_input_typed(self, message: SearchInput.Typed) -> None:
        if self.search_bar.display:  # not the input emptied by Escape
            self._last_keystroke = time.monotonic()
        query = SearchQuery.parse(message.value)
        if query == self.query:
            return
        self.query = query
        self.load_sessions(highlight_id=None if query else self._current_id())

    def on_input_submitted(self, event: SearchInput.Submitted) -> None:
        if event.input.id == "search-input" and self.session_list.current is not None:
            self.session_list.action_open()

    def on_search_input_move(self, message: SearchInput.Move) -> None:
        if message.step > 0:
            self.session_list.action_cursor_down()
        else:
            self.session_list.action_cursor_up()

    def on_search_input_closed(self, message: SearchInput.Closed) -> None:
        self.action_clear_search()

    def action_clear_search(self) -> None:
        bar = self.search_bar
        if not bar.display and not self.query:
            return
        current = self._current_id()
        bar.input.value = ""
        bar.display = False
        self.session_list.focus()
        self.query = SearchQuery.parse("")
        self.load_sessions(highlight_id=current, keep_index=self.session_list.highlighted or 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return self.search_bar.display or bool(self.query)
        return True

    def action_next_match(self) -> None:
        self.timeline.focus()
        self.timeline.action_next_match()

    def action_previous_match(self) -> None:
        self.timeline.focus()
        self.timeline.action_previous_match()

    def on_timeline_no_match(self, message: Timeline.NoMatch) -> None:
        if self.query:
            self.say("No match in this session (only its title matches).")
        else:
            self.say("Nothing to go to: press / to search.")

    def _reload_list(self) -> None:
        """Read the list again, keeping the highlighted session highlighted and at its place on screen."""
        self.load_sessions(highlight_id=self._current_id(), keep_index=self.session_list.highlighted or 0,
                           keep_scroll=True)

    def _current_id(self) -> str | None:
        current = self.session_list.current
        return current.id if current is not None else None

    # -- changes written by others -------------------------------------------------

    @work(thread=True, exclusive=True, group="watch")
    def check_for_changes(self) -> None:
        """Every second: if anything was committed since the last look, refresh what is shown."""
        try:
            if not self.watcher.changed():
                if self._index_behind:
                    self._index_behind = False
                    self._ui(self.build_index, reload=True)
                return
            shown = self.displayed_session_id
            signature = self.reader.session_signature(session_id=shown) if shown else None
        except DB_ERRORS as exc:
            self._ui(self._watch_failed, exc)
            return
        self._ui(self._changed, shown, signature)

    def _watch_failed(self, exc: BaseException) -> None:
        if isinstance(exc, DatabaseUnavailableError):
            self.say(f"Live refresh stopped: {describe_error(exc)}", severity="error")
            self.watcher.close()

    def _changed(self, shown: str | None, signature: tuple[int, int | None] | None) -> None:
        if self.query:
            self.build_index(reload=True)  # the search runs again once the index holds the new rows
        else:
            if self._index is not None:
                self.build_index()  # kept in step for the next search
            self._reload_list()
        if shown is not None and shown == self.displayed_session_id and signature != self._shown_signature:
            summary = self.session_list.current
            if summary is not None and summary.id == shown:
                self.load_timeline(summary, refresh=True)

    def on_session_list_highlighted(self, message: SessionList.Highlighted) -> None:
        summary = message.summary
        if self._pending_timeline is not None:
            self._pending_timeline.stop()
            self._pending_timeline = None
        if summary is not None and summary.id != self._shown_id and self._typing():
            self._follow_after_pause()
            return
        self._show_session(summary)

    def _typing(self) -> bool:
        return time.monotonic() - self._last_keystroke < TYPING_PAUSE

    def _follow_after_pause(self) -> None:
        """While a search is typed the list comes first: the timeline follows once typing pauses.

        Drawing it at every keystroke (another session, new highlights) would
        cost a frame that the next keystroke waits for.
        """
        if self._pending_timeline is None:
            self._pending_timeline = self.set_timer(TYPING_PAUSE, self._follow_highlight)

    def _follow_highlight(self) -> None:
        wait = self._last_keystroke + TYPING_PAUSE - time.monotonic()
        if wait > 0.01:  # typed on meanwhile
            self._pending_timeline = self.set_timer(wait, self._follow_highlight)
            return
        self._show_session(self.session_list.current)
        self.timeline.set_search(self.listed_query.pattern())

    @property
    def timeline_pending(self) -> bool:
        """True while the timeline waits for typing to pause before it follows the highlight."""
        return self._pending_timeline is not None

    def _show_session(self, summary: SessionSummary | None) -> None:
        """Show the highlighted session in the timeline (its title now, its events once read)."""
        self._pending_timeline = None
        if summary is None:
            self._shown_id = self.displayed_session_id = None
            self.timeline.border_title = "No sessions" if not self.query else "No match"
            self.timeline.border_subtitle = ""
            self.timeline.show_placeholder(
                empty_state(self.history_path) if not self.query else no_match(self.query.text)
            )
            return
        self.timeline.border_title = Content(one_line(summary.detail, 120))  # literal, never markup
        count = summary.event_count
        self.timeline.border_subtitle = (
            f"{count:,} message{'' if count == 1 else 's'} · started {format_timestamp(summary.created_at, self.tz)}"
        )
        if summary.id != self._shown_id:
            self._shown_id = summary.id
            self.load_timeline(summary)

    @work(thread=True, exclusive=True, group="timeline")
    def load_timeline(self, summary: SessionSummary, *, refresh: bool = False) -> None:
        """Read and parse a session's events off the UI thread, first batch first; stale loads stop.

        With ``refresh`` (the session changed on disk) everything is read
        first and then replaces what is shown, keeping the place in it.
        """
        worker = get_current_worker()
        timeline = TimelineBuilder()
        blocks = BlockBuilder(self.tz)
        shown = False
        read: list[Block] = []
        try:
            signature = self.reader.session_signature(session_id=summary.id)
            batches = self.reader.iter_event_batches(session_id=summary.id)
        except DB_ERRORS as exc:
            self._ui(self.say, f"Could not read events: {describe_error(exc)}", severity="error")
            return
        try:
            for batch in batches:
                new = blocks.add(timeline.add(batch))
                if worker.is_cancelled:
                    return
                if refresh:
                    read.extend(new)
                elif new:
                    self._ui(self._show_blocks, summary.id, new, first=not shown, complete=False)
                    shown = True
                    self._wait_for_paint()
        except DB_ERRORS as exc:
            self._ui(self.say, f"Could not read events: {describe_error(exc)}", severity="error")
            if shown:  # what was read stays; the timeline stops waiting for more
                self._ui(self._show_blocks, summary.id, [], first=False)
            return
        finally:
            batches.close()
        if worker.is_cancelled:
            return
        self._shown_signature = signature
        rest = blocks.add(timeline.finish())
        if refresh:
            self._ui(self._show_blocks, summary.id, read + rest, first=True, keep_place=True)
        else:
            self._ui(self._show_blocks, summary.id, rest, first=not shown)

    def _wait_for_paint(self, timeout: float = 0.5) -> None:
        """Block this worker until the screen has been drawn, so that reading more never delays a paint."""
        painted = threading.Event()
        self._ui(self.call_after_refresh, painted.set)
        painted.wait(timeout)

    def _show_blocks(
        self, session_id: str, blocks: list[Block], *, first: bool, complete: bool = True, keep_place: bool = False
    ) -> None:
        if session_id != self._shown_id:
            return
        self.displayed_session_id = session_id
        if not first:
            self.timeline.append_blocks(blocks, complete=complete)
        elif blocks:
            self.timeline.show_blocks(blocks, complete=complete, keep_place=keep_place)
        else:
            self.timeline.show_placeholder(Text("This session has no events yet.", justify="center"))

    def on_session_list_opened(self, message: SessionList.Opened) -> None:
        if self._pending_timeline is not None:
            self._pending_timeline.stop()
            self._show_session(self.session_list.current)  # forgets the timer
        self.timeline.focus()
        if self.query:
            self.timeline.set_search(self.query.pattern(), seek=True)

    def on_timeline_back_requested(self, message: Timeline.BackRequested) -> None:
        self.session_list.focus()

    # -- actions -----------------------------------------------------------------

    def action_rename(self) -> None:
        summary = self._current_or_warn("rename")
        if summary is None:
            return

        def done(title: str | None) -> None:
            if title is not None:
                self.rename_session(summary, title)

        self.push_screen(RenameScreen(one_line(summary.detail) if summary.detail else ""), done)

    @work(thread=True, group="write")
    def rename_session(self, summary: SessionSummary, title: str) -> None:
        """Change the title only: the session keeps its place in the list, the timeline its place in it."""
        try:
            rename.rename_session(self.client, session_id=summary.id, detail=title)
        except SessionNotFoundError:
            self._ui(self.say, "That session no longer exists.", severity="warning")
        except DB_ERRORS as exc:
            self._ui(self.say, f"Rename failed: {describe_error(exc)}", severity="error")
            return
        else:
            self._ui(self.say, f"Renamed to “{one_line(title, 60)}”")
        self._ui(self._reload_list)  # the new title reaches the list row and the timeline's border

    def action_delete(self) -> None:
        summary = self._current_or_warn("delete")
        if summary is None:
            return
        index = self.session_list.highlighted or 0

        def done(confirmed: bool | None) -> None:
            if confirmed:
                self.delete_session(summary, index)

        self.push_screen(ConfirmDeleteScreen(one_line(summary.detail, 300), summary.event_count), done)

    @work(thread=True, group="write")
    def delete_session(self, summary: SessionSummary, index: int) -> None:
        """Delete a session, keeping what it held for undo; the highlight stays at its place."""
        try:
            deleted = trash.delete_session(self.client, session_id=summary.id)
        except DB_ERRORS as exc:
            self._ui(self.say, f"Delete failed: {describe_error(exc)}", severity="error")
            return
        if deleted is None:
            self._ui(self.say, "That session no longer exists.", severity="warning")
        else:
            self._deleted.append(deleted)
            self._ui(self.say, f"Deleted “{one_line(summary.detail, 60)}” · press u to undo")
        self._ui(self.load_sessions, keep_index=index)

    def action_undo(self) -> None:
        if not self._deleted:
            self.say("Nothing to undo: no session was deleted in this run.", severity="warning")
            return
        self.undo_delete(self._deleted[-1])

    @work(thread=True, exclusive=True, group="write")
    def undo_delete(self, deleted: DeletedSession) -> None:
        """Write the last deleted session back, exactly as it was stored, and highlight it."""
        try:
            trash.restore(self.client, deleted)
        except (RestoreError, *DB_ERRORS) as exc:
            reason = str(exc) if isinstance(exc, RestoreError) else describe_error(exc)
            self._ui(self.say, f"Undo failed: {reason}", severity="error")
            return
        if self._deleted and self._deleted[-1] is deleted:
            self._deleted.pop()
        count = deleted.event_count
        self._ui(
            self.say, f"Restored “{one_line(deleted.title, 60)}” with {count:,} message{'' if count == 1 else 's'}"
        )
        self._ui(self.load_sessions, highlight_id=deleted.session_id)

    # -- export and copy -------------------------------------------------------------

    def action_export(self) -> None:
        summary = self._current_or_warn("export")
        if summary is None:
            return
        self.export_session(summary)

    @work(thread=True, group="export")
    def export_session(self, summary: SessionSummary) -> None:
        """Write the session as Markdown to a new file in the current directory."""
        try:
            path = exporting.export_to_directory(self.client, summary.id, Path.cwd(), tz=self.tz)
        except OSError as exc:
            self._ui(self.say, f"Export failed: {exc.strerror or exc}", severity="error")
            return
        except DB_ERRORS as exc:
            self._ui(self.say, f"Export failed: {describe_error(exc)}", severity="error")
            return
        if path is None:
            self._ui(self.say, "That session no longer exists.", severity="warning")
        else:
            self._ui(self.say, f"Exported to {path}")

    def action_copy(self) -> None:
        summary = self._current_or_warn("copy")
        if summary is None:
            return
        self.copy_session(summary)

    @work(thread=True, group="export")
    def copy_session(self, summary: SessionSummary) -> None:
        """Put the session, as Markdown, on the clipboard (through the terminal)."""
        try:
            text = exporting.export_session(self.client, summary.id, "md", tz=self.tz)
        except DB_ERRORS as exc:
            self._ui(self.say, f"Copy failed: {describe_error(exc)}", severity="error")
            return
        if text is None:
            self._ui(self.say, "That session no longer exists.", severity="warning")
            return
        self._ui(self.copy_to_clipboard, text)
        lines = text.count("\n") + 1
        self._ui(self.say, f"Copied “{one_line(summary.detail, 60)}” as Markdown ({lines:,} lines)")

    def _current_or_warn(self, what: str) -> SessionSummary | None:
        """The highlighted session, or None after saying there is none to ``what``."""
        summary = self.session_list.current
        if summary is None:
            self.say(f"No session to {what}.", severity="warning")
        return summary

    def _ui(self, callback: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Run ``callback`` on the UI thread and wait for it: from a worker, or at once on the UI thread.

        Dropped once the app is shutting down, when the widgets it would touch are gone.
        """

        def run() -> None:
            if self.is_running:
                callback(*args, **kwargs)

        if not self.is_running:
            return
        if threading.get_ident() == self._ui_thread:
            run()
            return
        try:
            self.call_from_thread(run)
        except RuntimeError:
            if self.is_running:
                raise  # the callback's own error

    def say(self, message: str, *, severity: str = "information") -> None:
        """Notify without interpreting markup: messages may quote stored titles."""
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_sections()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Rename session", "Rename the highlighted session (r)", self.action_rename)
        yield SystemCommand("Delete session", "Delete the highlighted session and its events (d)", self.action_delete)
        yield SystemCommand("Export session", "Write the session as Markdown to a new file here (e)", self.action_export)
        yield SystemCommand("Copy session", "Copy the session as Markdown to the clipboard (c)", self.action_copy)
        yield SystemCommand("Undo delete", "Bring back the last session deleted in this run (u)", self.action_undo)
        yield SystemCommand("Search", "Search every session's titles, messages and tools (/)", self.action_search)
        yield SystemCommand("Keys", "Show every key (?)", self.action_help)
        yield SystemCommand("Focus sessions", "Move focus to the session list", self.session_list.focus)
        yield SystemCommand("Focus timeline", "Move focus to the timeline", self.timeline.focus)
