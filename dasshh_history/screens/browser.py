"""The main screen: the session list and the timeline, wired to the services; search, live refresh, actions.

Its workers return a result or raise: results come back in
:meth:`BrowserScreen.on_worker_state_changed` (to ``_<worker name>_done``),
and one place turns the errors they raise into a notification.  Only the
timeline's loader hands its batches over while it runs, waiting for each to be
painted: that wait is its point.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DatabaseUnavailableError
from dasshh_history.data.watch import ChangeWatcher
from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder
from dasshh_history.domain.query import SearchQuery
from dasshh_history.domain.secrets import mask_title
from dasshh_history.domain.text import count_messages, format_timestamp, one_line
from dasshh_history.domain.values import SessionSummary
from dasshh_history.errors import DB_ERRORS, REPORTED_ERRORS, describe_error
from dasshh_history.screens.action_keys import ActionKeys
from dasshh_history.screens.block_keys import BlockKeys
from dasshh_history.screens.mark_keys import MarkKeys
from dasshh_history.screens.panes import Panes
from dasshh_history.screens.resume_key import ResumeKey
from dasshh_history.screens.search_keys import SearchKeys
from dasshh_history.screens.sort_keys import SortKeys
from dasshh_history.services.actions import Actions
from dasshh_history.services.index_keeper import IndexKeeper
from dasshh_history.services.listing import Listing, ListRead
from dasshh_history.widgets.blocks import Block
from dasshh_history.widgets.footer import KeysFooter
from dasshh_history.widgets.placeholders import empty_state, no_events, no_match
from dasshh_history.widgets.search_bar import SearchBar
from dasshh_history.widgets.session_list import ROW_HEIGHT, SessionList
from dasshh_history.widgets.timeline import Timeline
from dasshh_history.widgets.timeline_loader import load_blocks

#: Seconds of no typing in the search box before the timeline follows the highlighted result.
TYPING_PAUSE = 0.2
#: Seconds between checks for changes written by others.
REFRESH_INTERVAL = 1.0


class BrowserScreen(BlockKeys, MarkKeys, ResumeKey, SearchKeys, SortKeys, ActionKeys, Panes, Screen[None]):
    """Browse, search, rename and delete sessions: the list on the left, the highlighted one's timeline on the right."""

    # The screen's own (not the app's): its check_action decides, under a dialog too, that it shows only with marks.
    BINDINGS = [
        Binding("escape", "clear_marks", "Clear marks", priority=True, key_display="esc",
                tooltip="Clear the marks (before the search, and before going back from the timeline)"),
    ]

    def __init__(
        self,
        *,
        reader: HistoryReader,
        listing: Listing,
        index: IndexKeeper,
        actions: Actions,
        watcher: ChangeWatcher,
        clock: Callable[[], datetime],
        tz: tzinfo | None,
        history_path: Path | None = None,
        loaded: Callable[[], None] = lambda: None,
        order: ListOrder = DEFAULT_ORDER,
        conversation_view: bool = False,
        remember: Callable[..., None] = lambda **settings: None,
    ) -> None:
        super().__init__()
        self.list_order = order  # the saved order (s changes it)
        self._conversation_view = conversation_view  # the saved view (t changes it)
        self.remember = remember  # called with a setting changed here, to be saved
        self._loaded = loaded  # called once the first page and its layout inputs are read
        self.reader = reader
        self.listing = listing
        self.index = index
        self.actions = actions
        self.watcher = watcher
        self.clock = clock
        self.tz = tz
        self.history_path = history_path  # named in the empty state when not dasshh's default
        self.search_query = SearchQuery.parse("")  # the search typed ("": every session)
        self.listed_query = self.search_query  # the search whose results the list shows
        self.listed_ids: list[str] | None = None  # the sessions the list shows, in order (None: every session)
        self._indexing = False
        self._shown_id: str | None = None  # the session whose timeline is shown or loading
        self._shown_signature: tuple[int, int | None] | None = None  # its (events, last rowid) when read
        self.displayed_session_id: str | None = None  # the session whose events the timeline shows
        self._pending_timeline: Timer | None = None  # a timeline to show once typing pauses
        self._last_keystroke = -TYPING_PAUSE  # when the search text last changed (time.monotonic)
        self._ui_thread: int | None = None  # the thread the app runs in (set when mounted)
        self._app: App | None = None  # the app, once mounted

    # -- layout ----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield SearchBar(id="search")
                yield SessionList(self.listing.page, clock=self.clock, tz=self.tz, id="sessions")
            timeline = Timeline(id="timeline")
            timeline.conversation_view = self._conversation_view
            yield timeline
        yield KeysFooter()

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
        self._app = self.app
        self.session_list.list_title = "Sessions"
        self.timeline.border_title = "Timeline"
        self.session_list.focus()
        self._first_load()
        self._loaded()
        self.set_interval(REFRESH_INTERVAL, self.check_for_changes)
        self.start_background_index()  # soon after the first paint

    def on_unmount(self) -> None:
        self.watcher.close()
        self.index.close()
        self.listing.close()

    def say(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        self.app.say(message, severity=severity, timeout=timeout)  # type: ignore[attr-defined]

    # -- what workers hand back ---------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker's result goes to ``_<name>_done``; an error it raised is said here, or raised if a bug."""
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            done = getattr(self, f"_{worker.name}_done", None)
            if done is not None and self.is_mounted:
                done(worker.result)
        elif event.state == WorkerState.ERROR:
            failed = getattr(self, f"_{worker.name}_failed", None)
            if failed is None or not failed(worker.error):
                self._report(worker.description, worker.error)

    def on_session_list_read_failed(self, message: SessionList.ReadFailed) -> None:
        self._report("Could not search" if self.listed_query else "Could not read sessions", message.error)

    def _report(self, what: str, error: BaseException | None) -> None:
        """The one place an error raised in a worker is told: ``what`` failed and why; a bug is raised."""
        if not isinstance(error, REPORTED_ERRORS):
            raise error  # type: ignore[misc]  # a bug: let it surface
        self.say(f"{what}: {describe_error(error)}", severity="error")

    def _ui(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback`` on the UI thread and wait for it (the timeline loader's hand-off); dropped at shutdown."""

        app = self._app  # held: from a thread, self.app needs an active app, gone at shutdown

        def run() -> None:
            if app.is_running:
                callback(*args)

        if app is None or not app.is_running:
            return
        if threading.get_ident() == self._ui_thread:
            run()
            return
        try:
            app.call_from_thread(run)
        except RuntimeError:
            if app.is_running:
                raise  # the callback's own error

    # -- the list ----------------------------------------------------------------------

    def _first_load(self) -> None:
        """Read the first page right here, before the first layout: nothing can be drawn without it.

        Read in a worker, these queries compete with the first layout for the
        GIL and take several times as long.  They take milliseconds, and a
        writer's lock is waited out as in any read.
        """
        try:
            self.watcher.changed()  # from here on, changes by others are noticed
            read = self.listing.read(self.search_query, prefer_recent=True, order=self.list_order)
        except DB_ERRORS as exc:
            self.say(f"Could not read sessions: {describe_error(exc)}", severity="error")
            return
        self._load_sessions_done((read, False))

    @work(thread=True, exclusive=True, group="sessions", name="load_sessions",
          description="Could not read sessions", exit_on_error=False)
    def load_sessions(
        self, *, highlight_id: str | None = None, keep_index: int = 0, keep_scroll: bool = False
    ) -> tuple[ListRead | None, bool]:
        """Count the sessions (or run the search) and read the page under the highlight, off the UI thread.

        The highlight goes to ``highlight_id`` when it is listed, else stays
        at ``keep_index``.  With ``keep_scroll`` the highlighted row stays
        where it is on screen.
        """
        worker = get_current_worker()
        read = self.listing.read(
            self.search_query, highlight_id=highlight_id, keep_index=keep_index, order=self.list_order,
            cancelled=lambda: worker.is_cancelled,
        )
        return read, keep_scroll

    def _load_sessions_done(self, loaded: tuple[ListRead | None, bool]) -> None:
        read, keep_scroll = loaded
        if read is None or read.query != self.search_query or read.order != self.list_order:
            return  # cancelled, or typed on (or sorted again) meanwhile
        sessions = self.session_list
        scroll_y = None
        if keep_scroll and sessions.highlighted is not None and sessions.scroll_y > 0:
            scroll_y = max(0, round(sessions.scroll_y) + (read.index - sessions.highlighted) * ROW_HEIGHT)
        pattern = read.query.pattern()
        sessions.reset(read.total, read.pages, read.index, source=read.source, pattern=pattern, scroll_y=scroll_y)
        self.listed_query, self.listed_order = read.query, read.order
        self.listed_ids = None if read.result is None else read.result.session_ids
        sessions.list_title = read.title
        self.prune_marks()  # a marked session deleted meanwhile drops out
        self._show_search_status()  # also when the box was emptied: no longer "1 session matches"
        if self._typing():
            self._follow_after_pause()  # its highlights change with the session it shows
        else:
            self.call_after_refresh(self.timeline.set_search, pattern)  # the list first

    def _reload_list(self) -> None:
        """Read the list again, keeping the highlighted session highlighted and at its place on screen."""
        self.load_sessions(highlight_id=self._current_id(), keep_index=self.session_list.highlighted or 0,
                           keep_scroll=True)

    def _current_id(self) -> str | None:
        current = self.session_list.current
        return current.id if current is not None else None

    # -- changes written by others -------------------------------------------------

    @work(thread=True, exclusive=True, group="watch", name="check_for_changes",
          description="Live refresh stopped", exit_on_error=False)
    def check_for_changes(self) -> tuple[bool, str | None, tuple[int, int | None] | None]:
        """Every second: whether anything was committed since the last look, and the shown session's signature."""
        shown = self.displayed_session_id
        if not self.watcher.changed():
            return False, shown, None
        return True, shown, self.reader.session_signature(session_id=shown) if shown else None

    def _check_for_changes_failed(self, error: BaseException) -> bool:
        """Whether the failure is dealt with here: a passing database error is, as the next check tries again."""
        if isinstance(error, DatabaseUnavailableError):
            self.watcher.close()
            return False  # said, once: the watcher is closed
        return isinstance(error, DB_ERRORS)  # anything else is said, or raised if a bug

    def _check_for_changes_done(self, checked: tuple[bool, str | None, tuple[int, int | None] | None]) -> None:
        changed, shown, signature = checked
        if not changed:
            if self.index.behind:
                self.index.behind = False
                self.build_index(reload=True)
            return
        if self.search_query:
            self.build_index(reload=True)  # the search runs again once the index holds the new rows
        else:
            if self.index.is_open:
                self.build_index()  # kept in step for the next search
            self._reload_list()
        if shown is not None and shown == self.displayed_session_id and signature != self._shown_signature:
            summary = self.session_list.current
            if summary is not None and summary.id == shown:
                self.load_timeline(summary, refresh=True)

    # -- the timeline ---------------------------------------------------------------

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
            self.timeline.border_title = "No sessions" if not self.search_query else "No match"
            self.timeline.border_subtitle = ""
            self.timeline.show_placeholder(
                empty_state(self.history_path) if not self.search_query else no_match(self.search_query.text)
            )
            return
        detail = summary.detail if self.secrets_revealed else mask_title(summary.detail)
        self.timeline.border_title = Content(one_line(detail, 120))  # literal, never markup
        self.timeline.border_subtitle = (
            f"{count_messages(summary.event_count)} · started {format_timestamp(summary.created_at, self.tz)}"
        )
        if summary.id != self._shown_id:
            self._shown_id = summary.id
            self.load_timeline(summary)

    @work(thread=True, exclusive=True, group="timeline", name="load_timeline",
          description="Could not read events", exit_on_error=False)
    def load_timeline(self, summary: SessionSummary, *, refresh: bool = False) -> None:
        """Read and build a session's blocks off the UI thread, first batch first; stale loads stop.

        With ``refresh`` (the session changed on disk) the blocks replace what is shown, keeping the place in it.
        A long session's end is shown early, after its first screen (End shows its last event at once).
        """
        worker = get_current_worker()
        load_blocks(
            self.reader, summary.id, self.tz, refresh=refresh, cancelled=lambda: worker.is_cancelled,
            hand_over=lambda *blocks: self._ui(self._show_blocks, summary.id, *blocks),
            wait_for_paint=self._wait_for_paint, mask=not self.secrets_revealed,
        )

    #: Whether the timeline shows likely secrets whole (M); masked by default (README, "Privacy").
    secrets_revealed = False

    def reload_timeline(self) -> None:
        """Read the shown session's events again, keeping the place: they were rewritten in place (a
        redaction), which changes neither their count nor their rowids, so the live refresh does not see it."""
        current = self.session_list.current
        if current is not None and current.id == self._shown_id:
            self.load_timeline(current, refresh=True)

    def action_reveal_secrets(self) -> None:
        self.secrets_revealed = self.session_list.secrets_revealed = not self.secrets_revealed
        self.session_list.refresh()
        self.say("Secrets shown whole (M masks them again)" if self.secrets_revealed else "Secrets masked")
        current = self.session_list.current
        if current is not None:
            detail = current.detail if self.secrets_revealed else mask_title(current.detail)
            self.timeline.border_title = Content(one_line(detail, 120))
            self.load_timeline(current, refresh=True)

    def _wait_for_paint(self, timeout: float = 0.5) -> None:
        """Block this worker until the screen has been drawn, so that reading more never delays a paint."""
        painted = threading.Event()
        self._ui(self.call_after_refresh, painted.set)
        painted.wait(timeout)

    def _show_blocks(
        self,
        session_id: str,
        blocks: list[Block],
        first: bool,
        complete: bool,
        keep_place: bool,
        signature: tuple[int, int | None] | None,
        end: bool,
    ) -> None:
        if session_id != self._shown_id:
            return
        self.displayed_session_id = session_id
        if signature is not None:
            self._shown_signature = signature
        if end:
            self.timeline.show_end(blocks)
        elif not first:
            self.timeline.append_blocks(blocks, complete=complete)
        elif blocks:
            self.timeline.show_blocks(blocks, complete=complete, keep_place=keep_place)
        else:
            self.timeline.show_placeholder(no_events())
        if complete and self.pending_event is not None and self.pending_event[0] == session_id:
            self._select_event(self.pending_event[1])

    #: (session id, event id) to select once that session's timeline is read (the Secrets screen's Enter).
    pending_event: tuple[str, str] | None = None

    def show_event(self, session_id: str, event_id: str | None) -> None:
        """Highlight the session in the list and, once its timeline is read, select the event's first block."""
        self.pending_event = (session_id, event_id) if event_id is not None else None
        self.load_sessions(highlight_id=session_id)

    def _select_event(self, event_id: str) -> None:
        self.pending_event = None
        timeline = self.timeline
        for index, block in enumerate(timeline.blocks):
            if getattr(getattr(block, "entry", None), "event_id", None) == event_id:
                timeline.cursor = index
                timeline.scroll_to_block(index, top=True)
                timeline.focus()
                return

    def on_session_list_opened(self, message: SessionList.Opened) -> None:
        if self._pending_timeline is not None:
            self._pending_timeline.stop()
            self._show_session(self.session_list.current)  # forgets the timer
        self.timeline.focus()
        if self.search_query:
            self.timeline.set_search(self.search_query.pattern(), seek=True)

    def on_timeline_conversation_toggled(self, message: Timeline.ConversationToggled) -> None:
        self.remember(conversation_view=message.on)

    def on_timeline_back_requested(self, message: Timeline.BackRequested) -> None:
        self.session_list.focus()
