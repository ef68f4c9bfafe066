"""The browser's search: the box, the index kept in step for it, the matching sessions in the list, n and N."""

from __future__ import annotations

import time

from textual import work
from textual.timer import Timer
from textual.worker import get_current_worker

from dasshh_history.domain.query import SearchQuery
from dasshh_history.services.index_keeper import Building, Synced
from dasshh_history.widgets.search_bar import SearchInput
from dasshh_history.widgets.timeline import Timeline
from dasshh_history.widgets.timeline_matches import MatchStep

#: Seconds from the browser's mounting (its first paint) to handing a large build to a process of its own:
#: the first screen and the highlighted session's first events come first (started at once, it delayed them).
BUILD_DELAY = 1.0
#: Seconds between two looks at a build running in another process.
POLL_INTERVAL = 0.5
#: Seconds between two runs of the search while such a build adds to what it finds.
REFRESH_RESULTS = 1.0


class SearchKeys:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: what ``/``, typing, Escape, ``n``/``N`` do.

    A large build runs in a process of its own (see :class:`~dasshh_history.services.index_keeper.IndexKeeper`),
    started once the browser is first drawn; it is polled from here, its progress shown under the search
    box and, quietly, under the session list, and an open search is run again as it finds more.
    """

    _poll_timer: Timer | None = None
    _build_progress: tuple[int, int] | None = None
    _results_refreshed = 0.0

    def action_search(self) -> None:
        if not self.index.available:  # no history yet: nothing to index, and no file to index it beside
            self.say("There is no history to search yet.", severity="warning")
            return
        bar = self.search_bar
        bar.display = True
        bar.input.focus()
        self._show_search_status()
        self.build_index(warm=True)

    @work(thread=True, exclusive=True, group="index", name="build_index",
          description="Could not index for search", exit_on_error=False)
    def _build_index(self, *, reload: bool, warm: bool) -> tuple[Synced, bool]:
        """Bring the search index in step with the history, showing progress; then search again.

        The search runs again when the index changed, or always with ``reload``
        (the history changed in a way the index may not show, such as a new order).
        With ``warm`` (the search box just opened) one-letter prefixes are then
        looked up ahead, until something is typed.
        """
        worker = get_current_worker()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.25:
                last[0] = now
                self._ui(self._show_search_status, (done, total))

        synced = self.index.sync(progress, should_stop=lambda: worker.is_cancelled)
        if warm and not synced.failed:
            self.index.warm(should_stop=lambda: worker.is_cancelled or bool(self.search_query))
        return synced, reload

    def build_index(self, *, reload: bool = False, warm: bool = False) -> None:
        """Sync the search index in a worker (see :meth:`_build_index`); meanwhile the status says it is indexing."""
        self._indexing = True
        self._build_index(reload=reload, warm=warm)

    def _build_index_done(self, built: tuple[Synced, bool]) -> None:
        synced, reload = built
        if synced.notice is not None:
            self.say(synced.notice, severity="warning")
        if synced.background:  # another process builds: followed by polling
            self._follow_background_build()
            return
        self._indexing = False
        if synced.failed:
            if synced.error is not None:
                self.say(synced.error, severity="error")
            return
        self._show_search_status()
        if (synced.changed or reload) and self.search_query:
            self._reload_list()

    # -- a build in another process ------------------------------------------------------------

    def start_background_index(self) -> None:
        """Once the browser is drawn: hand a large build to a process of its own, so that ``/`` finds it done."""
        if self.index.available and self.index.background:
            self.set_timer(BUILD_DELAY, self._start_background_index)

    @work(thread=True, exclusive=True, group="index-start", name="start_background_index",
          description="Could not index for search", exit_on_error=False)
    def _start_background_index(self) -> bool:
        return self.index.start_background()

    def _start_background_index_done(self, started: bool) -> None:
        if started:
            self._follow_background_build()

    def _follow_background_build(self) -> None:
        self._indexing = True
        if self._poll_timer is None:
            self._poll_timer = self.set_interval(POLL_INTERVAL, self._poll_index)
        self._show_search_status(self._build_progress)

    @work(thread=True, exclusive=True, group="index-poll", name="poll_index",
          description="Could not index for search", exit_on_error=False)
    def _poll_index(self) -> Building | None:
        return self.index.poll()

    def _poll_index_done(self, building: Building | None) -> None:
        if building is not None and building.running:
            moved = building.progress != self._build_progress
            self._build_progress = building.progress
            self._show_search_status(building.progress)
            now = time.monotonic()
            if moved and self.listed_query and not self._typing() and now - self._results_refreshed > REFRESH_RESULTS:
                self._results_refreshed = now
                self._reload_list()  # what is indexed so far holds more
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._build_progress = None
        self.session_list.border_subtitle = ""
        if building is not None and building.notice is not None:
            self.say(building.notice, severity="warning")
        # Over (or failed): a sync here catches up with what it left, and runs the search again.
        self.build_index(reload=True, warm=self.search_bar.display)

    def _show_search_status(self, progress: tuple[int, int] | None = None) -> None:
        """The line under the search box, saying what the list shows: the matches of the search it lists, or
        every session (nothing typed: how to search); first-build progress takes the lead."""
        if self._poll_timer is not None:  # a build in another process: said quietly under the list too
            done, total = progress or self._build_progress or (0, 0)
            self.session_list.border_subtitle = f"indexing {100 * done // max(total, 1)}%" if total else "indexing…"
            progress = progress or self._build_progress
        if self.search_bar.display:
            listed = self.listed_query
            matches = self.session_list.total if listed else None
            self.search_bar.show_status(matches, typed=bool(listed.text.strip()), progress=progress,
                                        indexing=self._indexing)

    def on_search_input_typed(self, message: SearchInput.Typed) -> None:
        if self.search_bar.display:  # not the input emptied by Escape
            self._last_keystroke = time.monotonic()
        query = SearchQuery.parse(message.value)
        if query == self.search_query:
            return
        self.search_query = query
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
        if not bar.display and not self.search_query:
            return
        current = self._current_id()
        bar.input.value = ""
        bar.display = False
        self.session_list.focus()
        self.search_query = SearchQuery.parse("")
        self.load_sessions(highlight_id=current, keep_index=self.session_list.highlighted or 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return self.search_bar.display or bool(self.search_query)
        return True

    def action_next_match(self) -> None:
        self.timeline.focus()
        self.timeline.action_next_match()

    def action_previous_match(self) -> None:
        self.timeline.focus()
        self.timeline.action_previous_match()

    def on_match_step(self, message: MatchStep) -> None:
        self.say(message.text, timeout=2)  # one per key: short-lived, so that they do not pile up

    def on_timeline_no_match(self, message: Timeline.NoMatch) -> None:
        if self.search_query.pattern() is None and self.search_query:
            self.say("Nothing to go to: this search is filters only (is:, after:, before:).")
        elif self.search_query:
            self.say("No match in this session (only its title matches).")
        else:
            self.say("Nothing to go to: press / to search.")
