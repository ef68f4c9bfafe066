"""The stats screen (``S``): the history at a glance, or the current search's results.

The totals, the activity and the weekday × hour grid (one widget:
:class:`~dasshh_history.widgets.stats_overview.StatsOverview`), tools and
their failure rates, the largest tool outputs,
and the largest and longest sessions (``DataTable``; Enter opens the
session in the browser: :class:`StatsScreen.OpenSession`).  The figures are
worked out in a worker (the first time with a progress bar) and again
whenever the history changes while the screen is open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import tzinfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Label, ProgressBar
from textual.worker import get_current_worker

from dasshh_history.data.client import DBClient
from dasshh_history.data.watch import ChangeWatcher
from dasshh_history.domain.stats import Stats, human_bytes, human_span, local_text, rate_text
from dasshh_history.domain.text import one_line
from dasshh_history.errors import DB_ERRORS, describe_error
from dasshh_history.services.stats import StatsKeeper
from dasshh_history.widgets.fitted_table import fill_fitted
from dasshh_history.widgets.stats_overview import StatsOverview

#: Seconds between two looks for changes by others while the screen is open.
REFRESH_INTERVAL = 1.0
#: Seconds the figures kept from before may take to reach the screen before they are brought up to date anyway.
DRAWN_TIMEOUT = 1.0
#: Width of the bars of the tools' table.
BAR_WIDTH = 12


def bar(value: int, top: int, width: int = BAR_WIDTH) -> str:
    """A bar of eighths: ``value`` of ``top`` over ``width`` cells."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value * width * 8 / top))
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


class SessionTable(DataTable):
    """A table whose rows are sessions (their ids are the row keys); Enter opens one."""


class SessionTables(Vertical):
    """The largest and the longest sessions: below the first frame, so put together after it (``Lazy``); says
    when its tables are ready to be filled."""

    class Ready(Message):
        """The tables are mounted, their columns added."""

    ready = False  # until then

    def compose(self) -> ComposeResult:
        yield Label("Largest sessions (Enter opens one)", classes="stats-heading")
        yield SessionTable(id="stats-largest", cursor_type="row")
        yield Label("Longest sessions, first to last event", classes="stats-heading")
        yield SessionTable(id="stats-longest", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#stats-largest", DataTable).add_columns("Events", "Size", "Started", "Session")
        self.query_one("#stats-longest", DataTable).add_columns("Span", "Started", "Session")
        self.ready = True
        self.post_message(self.Ready())


class StatsScreen(Screen[None]):
    """The figures of the whole history, or of ``session_ids`` (the results of the search ``query``)."""

    #: The figures get the focus once drawn (see :meth:`_draw`), not as the screen is put together.
    AUTO_FOCUS = None
    BINDINGS = [
        Binding("escape,q,S", "close", "Back"),
        Binding("r", "refresh", "Refresh", show=False),
    ]

    class OpenSession(Message):
        """Open this session in the browser."""

        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    class Progress(Message):
        """``done`` of ``total`` events added up (posted from the thread working them out)."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done, self.total = done, total

    def __init__(self, keeper: StatsKeeper, client: DBClient, *, session_ids: list[str] | None = None,
                 query: str | None = None, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.keeper = keeper
        self.session_ids = session_ids
        self.search_text = query or None
        self.tz = tz
        self.stats: Stats | None = None
        self._watcher = ChangeWatcher(client)
        self._refresh_timer: Timer | None = None
        self._suspended = False  # by another screen over it, or closed (kept by the app to be opened again)
        self._failure: str | None = None  # why the figures could not be worked out

    def compose(self) -> ComposeResult:
        if self.keeper.available:  # the figures are read while the screen is put together
            self._watcher.changed()  # from here on, changes by others are noticed
            self.compute(first=True)
        scope = f"the {len(self.session_ids or []):,} sessions matching {self.search_text!r}" if self.search_text else "the whole history"
        yield Label(Text(f"Stats of {scope}"), id="stats-title")
        with Vertical(id="stats-progress"):  # its bar is added once there is progress to show (the first time)
            yield Label("Working out the stats…", id="stats-progress-label")
        with VerticalScroll(id="stats-body"):
            yield StatsOverview(id="stats-overview")
            yield Label("Tools: calls and failed results", classes="stats-heading")
            yield DataTable(id="stats-tools", cursor_type="row", zebra_stripes=False)
            yield Label("Largest tool outputs (Enter opens the session)", classes="stats-heading")
            yield SessionTable(id="stats-outputs", cursor_type="row")
            yield Lazy(SessionTables(id="stats-sessions"))
        yield Label("esc back · tab next table · enter opens the session · r work out again", id="stats-hint")

    def on_mount(self) -> None:
        self.query_one("#stats-body").display = False
        tables = {
            "#stats-tools": ("Tool", "Calls", "Failed", "Rate", ""),
            "#stats-outputs": ("Size", "Tool", "When", "Session"),
        }
        for selector, columns in tables.items():
            self.query_one(selector, DataTable).add_columns(*columns)
        if not self.keeper.available:
            self._say_progress("There is no history yet: dasshh writes it at your first conversation.")
            return
        if self.stats is not None:  # read while the screen was put together: its first frame shows them
            self._draw(self.stats)
        elif self._failure is not None:
            self._say_progress(self._failure)
        self._refresh_timer = self.set_interval(REFRESH_INTERVAL, self.check_for_changes)

    def on_screen_suspend(self) -> None:
        self._suspended = True
        if self._refresh_timer is not None:
            self._refresh_timer.pause()

    def on_screen_resume(self) -> None:
        """Opened again (the app keeps the screen while the search is the same): the figures shown are brought
        up to date.  (Opened the first time, they are being worked out already.)"""
        if not self._suspended:
            return
        self._suspended = False
        if self._refresh_timer is not None and self.stats is not None:
            self._refresh_timer.resume()
            self.compute()

    def on_unmount(self) -> None:
        self._watcher.close()

    @property
    def scope(self) -> tuple[tuple[str, ...] | None, str | None]:
        """The sessions and search whose figures these are."""
        return (tuple(self.session_ids) if self.session_ids is not None else None), self.search_text

    def action_close(self) -> None:
        self.dismiss(None)

    def action_refresh(self) -> None:
        self._failure = None  # worked out again: its progress is said in place of the failure
        self.compute()

    # -- working out ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def compute(self, *, first: bool = False) -> None:
        """Bring the stats up to date (with a progress bar while it takes a while) and read the figures."""
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:  # posted: the thread adding up goes on without waiting
            self.post_message(self.Progress(done, total))

        try:
            kept = self.keeper.kept_figures(self.session_ids, query=self.search_text) if first else None
            if kept is not None:  # what was worked out before, at once; then, once on the screen, brought up to date
                drawn = threading.Event()
                self.app.call_from_thread(self.show, kept, drawn.set)
                drawn.wait(DRAWN_TIMEOUT)
            changed = self.keeper.sync(None if kept is not None else progress, should_stop=lambda: worker.is_cancelled)
            if worker.is_cancelled or (kept is not None and not changed):
                return
            stats = self.keeper.figures(self.session_ids, query=self.search_text)
        except DB_ERRORS as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, stats)

    @work(thread=True, exclusive=True, group="stats-watch", exit_on_error=False)
    def check_for_changes(self) -> None:
        """Every second: work the figures out again when the history changed."""
        try:
            changed = self._watcher.changed()
        except DB_ERRORS:
            return
        if changed:
            self.app.call_from_thread(self.action_refresh)

    def on_stats_screen_progress(self, message: Progress) -> None:
        done, total = message.done, message.total
        if not self.is_mounted or self.stats is not None or self._failure is not None:
            return  # the figures (or a failure) came before this message: the progress is over
        self._say_progress(f"Working out the stats: {done:,} of {total:,} events")
        bars = self.query(ProgressBar)
        if bars:
            bars.first().update(total=max(total, 1), progress=done)
        else:
            bar = ProgressBar(total=max(total, 1), show_eta=False, id="stats-progress-bar")
            self.query_one("#stats-progress").mount(bar)
            bar.update(progress=done)

    def _say_progress(self, message: str) -> None:
        self.query_one("#stats-progress-label", Label).update(Text(message))

    def _failed(self, error: BaseException) -> None:
        message = f"Could not work out the stats: {describe_error(error)}"
        if self.stats is not None:  # the figures shown stay, perhaps behind: said in a notification
            self.notify(message, severity="error", markup=False)
            return
        self._failure = message  # said in place of the progress, once the screen is mounted
        if self.is_mounted:
            self._say_progress(message)

    # -- showing -------------------------------------------------------------------

    def show(self, stats: Stats, drawn: Callable[[], None] | None = None) -> None:
        """Show the figures; read before the screen is mounted, they are drawn as it is.  ``drawn`` is called
        once they are on the screen."""
        self.stats = stats
        if self.is_mounted:
            self._draw(stats)
        if drawn is not None:
            self.call_after_refresh(drawn)

    def _draw(self, stats: Stats) -> None:
        """Draw the figures (keeping each table's cursor where it was)."""
        tz = self.tz
        self.query_one("#stats-progress").display = False
        self.query_one("#stats-body").display = True
        self.query_one(StatsOverview).show(stats, tz)
        if self.focused is None:  # after the first frame: focusing restyles every figure (for :focus-within)
            self.call_after_refresh(self._focus_figures)
        tools = self.query_one("#stats-tools", DataTable)
        top = max((tool.calls for tool in stats.tools), default=0)
        self._fill(tools, [
            (tool.name, (Text(one_line(tool.name, 28)), Text(f"{tool.calls:,}", justify="right"),
                         Text(f"{tool.failed:,}", justify="right"),
                         Text(rate_text(tool.failure_rate), justify="right",
                              style="bold" if (tool.failure_rate or 0) >= 0.5 else ""),
                         Text(bar(tool.calls, top))))
            for tool in stats.tools])
        self._fill(self.query_one("#stats-outputs", DataTable), [
            (f"{n}:{out.session_id}", (Text(human_bytes(out.bytes), justify="right"), Text(one_line(out.tool, 18)),
                                       Text(local_text(out.when, tz, "%Y-%m-%d")), Text(one_line(out.title, 30))))
            for n, out in enumerate(stats.outputs)])
        self._draw_sessions(stats)

    def _focus_figures(self) -> None:
        if self.focused is None:  # unless a key (tab) gave the focus to a table meanwhile
            self.query_one("#stats-body").focus()

    def _draw_sessions(self, stats: Stats) -> None:
        """The largest and longest sessions, once their tables are there (else when they are: :meth:`Ready`)."""
        tables = self.query(SessionTables)
        if not tables or not tables.first().ready:
            return
        tz = self.tz
        self._fill(self.query_one("#stats-largest", DataTable), [
            (f"{n}:{s.id}", (Text(f"{s.events:,}", justify="right"), Text(human_bytes(s.bytes), justify="right"),
                             Text(local_text(s.first, tz, "%Y-%m-%d")), Text(one_line(s.title, 40))))
            for n, s in enumerate(stats.largest)])
        self._fill(self.query_one("#stats-longest", DataTable), [
            (f"{n}:{s.id}", (Text(human_span(s.span), justify="right"), Text(local_text(s.first, tz)),
                             Text(one_line(s.title, 48))))
            for n, s in enumerate(stats.longest)])

    def on_session_tables_ready(self, event: SessionTables.Ready) -> None:
        event.stop()
        if self.stats is not None:
            self._draw_sessions(self.stats)

    @staticmethod
    def _fill(table: DataTable, rows: list[tuple[str, tuple[Text, ...]]]) -> None:
        cursor = table.cursor_row
        fill_fitted(table, [cells for _, cells in rows], [key for key, _ in rows])
        table.display = bool(rows) or table.id == "stats-tools"
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if not isinstance(event.data_table, SessionTable) or event.row_key.value is None:
            return
        event.stop()
        session_id = event.row_key.value.split(":", 1)[1]
        self.post_message(self.OpenSession(session_id))
