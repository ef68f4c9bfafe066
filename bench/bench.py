"""Benchmark: dasshh-history on a small and a large history, side by side.

    python bench/bench.py                   # 50,000 sessions, a 5,000-event session
    python bench/bench.py --sessions 2000   # quicker
    python bench/bench.py --keep /tmp/bench # reuse the generated databases next time

It builds the databases with the demo generator, then runs the real app headless
(``App.run_test``) in fresh processes, one per measurement, and prints each
figure with its ratio to its baseline.  A frame is counted when Textual hands a
compositor update to the driver; "first paint" is the first frame that shows
session rows and the highlighted session's timeline.

The measurements of the large history build the search index in the app's
thread at the first '/' (as before builder processes), except one
(``--build-repeat`` runs): started with no index, the app hands the first build
to a process of its own after the first paint, and the search is typed while
it builds, then again once it is done.  Run one measurement alone with
``--child app --db FILE [--interact | --during-build [--in-thread]]``: it prints
its figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZE = (120, 40)
IDLE_SECONDS = 2.0


# -- the child: one app run, measured from inside ------------------------------------------------


class Frames:
    """Times of the frames Textual produced, and a check run on each."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.check = lambda: False
        self.hit: float | None = None
        self._hit = asyncio.Event()

    def install(self) -> None:
        from textual.app import App

        original = App._display
        frames = self

        def _display(app, screen, renderable):  # noqa: ANN001
            if renderable is not None:
                now = time.perf_counter()
                frames.times.append(now)
                if frames.hit is None and frames.check():
                    frames.hit = now
                    frames._hit.set()
            return original(app, screen, renderable)

        App._display = _display  # type: ignore[method-assign]

    async def wait_for(self, check, action=None, timeout: float = 30.0) -> float:  # noqa: ANN001
        """Run ``action()`` and wait for the first frame after which ``check()`` holds; its time."""
        self.hit = None
        self._hit.clear()
        self.check = check
        if action is not None:
            await action()
        try:  # woken by the frame itself: no polling, which would take the app's thread from it
            await asyncio.wait_for(self._hit.wait(), timeout)
        except TimeoutError:
            raise TimeoutError("the expected frame never came") from None
        self.check = lambda: False
        assert self.hit is not None
        return self.hit


async def settled(window: float = 0.25, timeout: float = 30.0) -> None:
    """Wait until the app has finished what it started (the timeline's loading, ...): a ``window`` in which the
    process used under 5 % of a core."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        cpu = time.process_time()
        await asyncio.sleep(window)
        if time.process_time() - cpu < window / 20:
            return


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def child_bare(frames: Frames) -> dict:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")
            yield Footer()

    t0 = time.perf_counter()
    async with Bare().run_test(size=SIZE):
        painted = await frames.wait_for(lambda: True)
        return {"first_paint": painted - t0, "rss_mb": rss_mb()}


#: What the search measurement types, one key at a time (a word, then a word that only some sessions have).
SEARCH_TYPED = "how firewall"
#: Then, in a search box emptied again: a filter (a tool every session calls) and a word.
FILTER_TYPED = "tool:run_shell_command how"


#: Times the "End on open" measurement is taken in one run (the run's median is kept).
END_ON_OPEN_REPEAT = 3


async def tap(app, *keys: str) -> None:  # noqa: ANN001
    """Send key presses the way a terminal does, without waiting for the app to be idle (as pilot.press does)."""
    from textual import events

    for key in keys:
        event = events.Key(key, None)
        event.set_sender(app)
        app._driver.send_message(event)
    await asyncio.sleep(0)


def last_event_id(db: str, session_id: str) -> str:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT id FROM events WHERE session_id = ? ORDER BY rowid DESC LIMIT 1", (session_id,)
        ).fetchone()[0]


def fresh_cache(db: str) -> Path:
    """The search cache of the history ``db``, removed with the stats file beside it: both are worked out
    from nothing."""
    search_cache = Path(db).with_suffix(".search.db")
    for leftover in search_cache.parent.glob(search_cache.stem + ".*"):  # its lock, journal and stats too
        leftover.unlink()
    return search_cache


async def child_app(frames: Frames, db: str, interact: bool) -> dict:
    from dasshh_history.app import HistoryApp
    from dasshh_history.data.client import DBClient

    result: dict = {}
    t0 = time.perf_counter()
    client = DBClient(db_path=Path(db))
    search_cache = fresh_cache(db)  # the first search builds the index: measured below
    app = HistoryApp(client, search_path=search_cache)
    app.index.background = False  # built in the app's thread at the first '/', as before (see child_during_build)

    def shows_current() -> bool:
        current = app.browser.session_list.current
        return current is not None and app.browser.displayed_session_id == current.id

    async with app.run_test(size=SIZE) as pilot:
        painted = await frames.wait_for(shows_current)
        result["first_paint"] = painted - t0
        await asyncio.sleep(0.5)
        result["rss_mb"] = rss_mb()
        # Idle: nothing should be drawn or computed while nobody touches anything.
        await asyncio.sleep(0.5)
        cpu, count = time.process_time(), len(frames.times)
        await asyncio.sleep(IDLE_SECONDS)
        result["idle_cpu_ms_per_s"] = (time.process_time() - cpu) * 1000 / IDLE_SECONDS
        result["idle_frames"] = len(frames.times) - count
        if not interact:
            return result
        # Switching: the highlighted session (the big one, newest) and its neighbour (6 events).
        big_id = app.browser.session_list.current.id
        small, large = [], []
        for _ in range(5):
            start = time.perf_counter()
            hit = await frames.wait_for(
                lambda: shows_current() and app.browser.displayed_session_id != big_id, lambda: pilot.press("down")
            )
            small.append(hit - start)
            start = time.perf_counter()
            hit = await frames.wait_for(lambda: app.browser.displayed_session_id == big_id, lambda: pilot.press("up"))
            large.append(hit - start)
        result["switch_small"] = statistics.median(small)
        result["switch_large"] = statistics.median(large)
        result["events_large"] = len(app.browser.timeline.blocks)
        # Jump to the end of the big session: right after opening it (while its
        # later events are still being read), then once it is fully loaded.
        timeline = app.browser.timeline

        def at_end() -> bool:
            return timeline.complete and 0 < timeline.max_scroll_y <= timeline.scroll_y

        await frames.wait_for(
            lambda: shows_current() and app.browser.displayed_session_id != big_id, lambda: pilot.press("down")
        )
        start = time.perf_counter()
        await frames.wait_for(lambda: app.browser.displayed_session_id == big_id, lambda: pilot.press("up", "enter"))
        hit = await frames.wait_for(at_end, lambda: pilot.press("end"))
        result["open_and_end"] = hit - start
        await pilot.press("home")
        while not timeline.complete:
            await asyncio.sleep(0.01)
        await pilot.pause()
        start = time.perf_counter()
        hit = await frames.wait_for(at_end, lambda: pilot.press("end"))
        result["jump_end"] = hit - start
        steps = []
        for _ in range(30):
            before = timeline.scroll_y
            if before == 0:
                break
            start = time.perf_counter()
            hit = await frames.wait_for(lambda: timeline.scroll_y != before, lambda: pilot.press("pageup"))
            steps.append(hit - start)
        result["page_up_median"] = statistics.median(steps) if steps else 0.0
        result["page_up_max"] = max(steps, default=0.0)
        # End on open: open a session (Enter) and press End as soon as the timeline has the focus, the keys
        # sent as a user types them (pilot.press waits for the app to be idle, by when the session is read):
        # from End to the first frame with the session's last event on screen.  The big session's figure
        # is compared with the 6-event neighbour's, which has nothing left to read: the difference is
        # what loading costs; the rest is the app's reaction to Enter (the footer shows other keys).
        # "End while it loads" presses End once 1,000 blocks are in, when that reaction is over.
        def shows_last(session_id: str) -> Callable[[], bool]:
            last_id = last_event_id(db, session_id)

            def check() -> bool:
                blocks, index = timeline.blocks, timeline.cursor
                return (
                    app.browser.displayed_session_id == session_id
                    and 0 <= index == len(blocks) - 1
                    and getattr(getattr(blocks[index], "entry", None), "event_id", None) == last_id
                    and timeline.max_scroll_y <= timeline.scroll_y
                )

            return check

        async def end_on_open(session_id: str, after_blocks: int = 0) -> float:
            await frames.wait_for(lambda: timeline.has_focus, lambda: tap(app, "enter"))
            while len(timeline.blocks) < after_blocks and not timeline.complete:  # Enter's effects are over by then
                await asyncio.sleep(0.0005)
            start = time.perf_counter()
            hit = await frames.wait_for(shows_last(session_id), lambda: tap(app, "end"))
            while not timeline.complete:
                await asyncio.sleep(0.01)
            await pilot.press("escape")
            return hit - start

        big_ends, small_ends, later_ends = [], [], []
        await pilot.press("escape")
        for _ in range(END_ON_OPEN_REPEAT):
            await frames.wait_for(
                lambda: shows_current() and app.browser.displayed_session_id != big_id, lambda: tap(app, "down")
            )
            small_ends.append(await end_on_open(app.browser.displayed_session_id))
            await frames.wait_for(lambda: app.browser.displayed_session_id == big_id, lambda: tap(app, "up"))
            big_ends.append(await end_on_open(big_id))
            await frames.wait_for(lambda: app.browser.displayed_session_id != big_id, lambda: tap(app, "down"))
            await frames.wait_for(lambda: app.browser.displayed_session_id == big_id, lambda: tap(app, "up"))
            later_ends.append(await end_on_open(big_id, after_blocks=1000))
        result["end_on_open"] = statistics.median(big_ends)
        result["end_on_open_all"] = big_ends
        result["end_on_open_small"] = statistics.median(small_ends)
        result["end_while_loading"] = statistics.median(later_ends)
        # Search: the first "/" builds the index (once per history), then each key filters the list.
        start = time.perf_counter()
        await pilot.press("slash")
        await pilot.pause()
        await asyncio.sleep(0.05)
        while any(worker.group == "index" and not worker.is_finished for worker in app.workers):
            await asyncio.sleep(0.01)
        result["index_build"] = time.perf_counter() - start
        result["index_mb"] = search_cache.stat().st_size / 1e6
        result["indexed_events"] = app.index.open().indexed_events()
        keys = await type_keys(frames, pilot, app, SEARCH_TYPED)
        result["search_key_median"] = statistics.median(keys)
        result["search_key_max"] = max(keys)
        result["search_key_first"] = keys[0]
        result["search_keys"] = keys
        result["search_matches"] = app.browser.session_list.total
        # A filter: the box emptied (ctrl+u), then the filter query typed.
        await frames.wait_for(lambda: app.browser.listed_query.text == "", lambda: pilot.press("ctrl+u"))
        await pilot.pause()
        keys = await type_keys(frames, pilot, app, FILTER_TYPED)
        result["filter_key_median"] = statistics.median(keys)
        result["filter_key_max"] = max(keys)
        result["filter_keys"] = keys
        result["filter_matches"] = app.browser.session_list.total
        return result


#: Page Down presses timed in each order of the list (a new page of 40 rows is read every two or three).
PAGE_STEPS = 10


async def child_sort(frames: Frames, db: str) -> dict:
    """``s`` through every order of the list and back, twice (the first time reads each order, the second finds
    it kept); paging in each order; then the orders and putting a search's results in order, read without the app."""
    from dasshh_history.app import HistoryApp
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.data.client import LIST_ORDER_SQL, DBClient
    from dasshh_history.data.ordering import SessionOrders
    from dasshh_history.data.search import SearchResult
    from dasshh_history.data.session import SessionService
    from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder
    from dasshh_history.domain.query import SearchQuery
    from dasshh_history.services.index_keeper import IndexKeeper
    from dasshh_history.services.listing import Listing

    result: dict = {}
    t0 = time.perf_counter()
    app = HistoryApp(DBClient(db_path=Path(db)), search_path=Path(db).with_suffix(".search.db"))
    async with app.run_test(size=SIZE) as pilot:
        sessions = app.browser.session_list
        painted = await frames.wait_for(
            lambda: sessions.current is not None and app.browser.displayed_session_id == sessions.current.id
        )
        result["first_paint"] = painted - t0
        await asyncio.sleep(0.5)

        async def paging(name: str) -> None:
            await pilot.press("home")
            await pilot.pause()
            steps = []
            for _ in range(PAGE_STEPS):
                before = sessions.highlighted
                if before is None or before >= sessions.total - 1:
                    break
                start = time.perf_counter()
                hit = await frames.wait_for(lambda: sessions.highlighted != before and sessions.current is not None,
                                            lambda: pilot.press("pagedown"))
                steps.append(hit - start)
            await pilot.press("home")
            await pilot.pause()
            start = time.perf_counter()
            hit = await frames.wait_for(
                lambda: sessions.highlighted == sessions.total - 1 and sessions.current is not None,
                lambda: pilot.press("end"),
            )
            result[f"page_{name}"] = steps
            result[f"end_{name}"] = hit - start
            await pilot.press("home")
            await pilot.pause()

        await paging(DEFAULT_ORDER.name)
        cycle = [*list(ListOrder)[1:], DEFAULT_ORDER]
        for lap in ("first", "again"):
            for order in cycle:
                start = time.perf_counter()
                hit = await frames.wait_for(
                    lambda order=order: sessions.border_title.endswith(f"· {order.label}")
                    and sessions.current is not None,
                    lambda: tap(app, "s"),
                )
                result[f"sort_{lap}_{order.name}"] = hit - start
                if lap == "first" and order is not DEFAULT_ORDER:
                    await paging(order.name)
    app.client.dispose()
    # Without the app: each order read (the file in the page cache by now), and a search's result put in order.
    client = DBClient(db_path=Path(db), read_only=True)
    listing = Listing(SessionService(client), HistoryReader(client), IndexKeeper(client))
    with client.engine.connect() as conn:
        everyone = [row[0] for row in conn.exec_driver_sql(f"SELECT id FROM sessions ORDER BY {LIST_ORDER_SQL}")]
    for order in cycle[:-1]:
        listing.orders.close()
        listing.orders = SessionOrders(client)  # nothing kept
        start = time.perf_counter()
        listing.orders.ids(order)
        result[f"read_{order.name}"] = time.perf_counter() - start
        for matched in (len(everyone), 500):
            found = SearchResult(SearchQuery.parse("x"), everyone[::max(1, len(everyone) // matched)])
            start = time.perf_counter()
            listing.in_order(found, order)
            result[f"in_order_{order.name}_{matched}"] = time.perf_counter() - start
    listing.close()
    client.dispose()
    return result


async def child_during_build(frames: Frames, db: str, in_thread: bool = False) -> dict:
    """Typing while the first index build runs (in its own process; ``in_thread``: in the app's thread, started
    by '/', as before the builder process), then once it is over; the build's duration."""
    from dasshh_history.app import HistoryApp
    from dasshh_history.data.client import DBClient
    from dasshh_history.services import index_keeper

    index_keeper.BACKGROUND_AFTER = 1  # a builder process whatever the size (the tiny test history too)
    result: dict = {}
    t0 = time.perf_counter()
    app = HistoryApp(DBClient(db_path=Path(db)), search_path=fresh_cache(db))
    app.index.background = not in_thread
    status = lambda: str(app.browser.search_bar.query_one("#search-status").render())  # noqa: E731

    def shows_current() -> bool:
        current = app.browser.session_list.current
        return current is not None and app.browser.displayed_session_id == current.id

    def noted() -> tuple[int, int] | None:  # as the app last polled it, or as the thread reported it
        if in_thread:
            numbers = status().split(" events")[0].removeprefix("Indexing ").replace(",", "").split(" of ")
            return (int(numbers[0]), int(numbers[1])) if all(n.isdigit() for n in numbers) else None
        return app.browser._build_progress

    def building() -> bool:
        return app.index.building or any(not worker.is_finished for worker in app.workers if worker.group == "index")

    async with app.run_test(size=SIZE) as pilot:
        result["first_paint"] = await frames.wait_for(shows_current) - t0
        if in_thread:
            await asyncio.sleep(1.0)  # as the builder process is started
            await pilot.press("slash")
        while not in_thread and app.index.builder_pid is None:  # started after the first paint
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        result["builder_pid"], result["app_pid"] = app.index.builder_pid, os.getpid()
        while noted() is None and building():  # indexing events, past starting up and the titles
            await asyncio.sleep(0.01)
        result["builder_started"] = time.perf_counter() - started
        if not in_thread:
            await pilot.press("slash")  # opens the index and reads the list order (as the first '/' above)
            await pilot.pause()
            while any(worker.group == "index" and not worker.is_finished for worker in app.workers):
                await asyncio.sleep(0.01)
        result["progress_before"] = noted()
        keys = await type_keys(frames, pilot, app, SEARCH_TYPED)
        result["progress_after"] = noted() if building() else None
        result["during_keys"], result["during_matches"] = keys, app.browser.session_list.total
        while building():
            await asyncio.sleep(0.05)
        result["child_build"] = time.perf_counter() - started
        await pilot.pause(0.3)
        await frames.wait_for(lambda: app.browser.listed_query.text == "", lambda: pilot.press("ctrl+u"))
        await pilot.pause()
        keys = await type_keys(frames, pilot, app, SEARCH_TYPED)
        result["after_keys"], result["after_matches"] = keys, app.browser.session_list.total
        result["indexed_events"] = app.index.open().indexed_events()
    return result


async def type_keys(frames: Frames, pilot, app, text: str) -> list[float]:  # noqa: ANN001
    """Type ``text`` a key at a time; for each, the time from the key to the frame showing its filtered list."""
    keys: list[float] = []
    typed = ""
    for char in text:
        typed += char
        start = time.perf_counter()
        hit = await frames.wait_for(
            lambda text=typed: app.browser.listed_query.text == text
            and (app.browser.session_list.total == 0 or app.browser.session_list.current is not None),
            lambda char=char: pilot.press("space" if char == " " else char),
        )
        keys.append(hit - start)
    return keys


async def child_stats(frames: Frames, db: str) -> dict:
    """The stats: their first computation (no cache), then opening the stats screen (S) with them up to date,
    and again once it is kept; then, in a new app, S on a history whose stats were never worked out."""
    from dasshh_history.app import HistoryApp
    from dasshh_history.data.client import DBClient
    from dasshh_history.screens.stats import StatsScreen
    from dasshh_history.services.stats import StatsKeeper

    result: dict = {}
    cache = fresh_cache(db)
    client = DBClient(db_path=Path(db), read_only=True)
    keeper = StatsKeeper(client, cache)
    told: list[int] = []
    start, cpu = time.perf_counter(), time.process_time()
    keeper.sync(lambda done, total: told.append(done))
    result["stats_first"] = time.perf_counter() - start
    result["stats_first_cpu"] = time.process_time() - cpu
    result["stats_progress_steps"] = len(told)
    start = time.perf_counter()
    keeper.sync()
    keeper.figures()
    result["stats_again"] = time.perf_counter() - start
    keeper.close()
    client.dispose()

    async def open_stats(app: HistoryApp, pilot) -> float:
        """Seconds from S to the first frame with the figures on the screen.  S comes as a terminal's key does
        (``pilot.press`` would also wait for the app to be idle, and then post a message to each of the stats
        screen's widgets: the frame would wait for those)."""
        from textual import events

        def shown() -> bool:
            screen = app.screen
            return isinstance(screen, StatsScreen) and screen.stats is not None

        async def press() -> None:
            app.post_message(events.Key("S", "S"))

        start = time.perf_counter()
        return await frames.wait_for(shown, press) - start

    for key in ("stats_open", "stats_first_in_app"):
        if key == "stats_first_in_app":
            fresh_cache(db)
        app = HistoryApp(DBClient(db_path=Path(db)), search_path=cache)
        app.index.background = False
        async with app.run_test(size=SIZE) as pilot:
            await frames.wait_for(lambda app=app: app.browser.session_list.current is not None)
            await settled()  # S pressed once the app is idle: what is measured is the stats alone
            result[key] = await open_stats(app, pilot)
            if key == "stats_open":  # the screen is kept: opened again, it shows its figures at once
                await pilot.press("escape")
                await asyncio.sleep(0.3)
                result["stats_reopen"] = await open_stats(app, pilot)
    result["first_paint"] = 0.0
    return result


def child_main(args: argparse.Namespace) -> None:
    from dasshh_history.data.sqlite_setup import quiet_memory_statistics

    quiet_memory_statistics()  # as the app's entry point does, before any connection
    frames = Frames()
    frames.install()
    started = time.time()
    if args.child == "bare":
        result = asyncio.run(child_bare(frames))
    elif args.sort:
        result = asyncio.run(child_sort(frames, args.db))
    elif args.stats:
        result = asyncio.run(child_stats(frames, args.db))
    elif args.during_build:
        result = asyncio.run(child_during_build(frames, args.db, in_thread=args.in_thread))
    else:
        result = asyncio.run(child_app(frames, args.db, interact=args.interact))
    result["process_wall"] = started
    print(json.dumps(result))


# -- the parent: build, run, compare ------------------------------------------------------------------


def build(workdir: Path, sessions: int, big_events: int, big_bytes: int) -> tuple[Path, Path]:
    from dasshh_history.demo import DEMO_NOW, write_demo, write_large_history

    small = workdir / "small.db"
    large = workdir / f"large-{sessions}-{big_events}-{big_bytes}.db"
    if not small.exists():
        write_demo(small)
    if not large.exists():
        start = time.perf_counter()
        print(f"building {large.name} ...", flush=True)
        write_large_history(
            large,
            sessions=sessions - 1,
            events_per_session=6,
            big_session_events=big_events,
            big_result_bytes=big_bytes,
            now=DEMO_NOW,
        )
        print(f"  built in {time.perf_counter() - start:.1f} s, {large.stat().st_size / 1e6:.0f} MB", flush=True)
    return small, large


def run_child(*extra: str) -> dict:
    launched = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "TEXTUAL": "", "TZ": "UTC"},
    )
    if out.returncode:
        raise SystemExit(f"bench: the run {' '.join(extra)} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_start_to_paint"] = result.pop("process_wall") - launched + result["first_paint"]
    return result


def median(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def line(label: str, value: str, ratio: float | None = None, target: float | None = None) -> None:
    text = f"  {label:<48} {value:>12}"
    if ratio is not None:
        text += f"   x{ratio:.2f}"
        if target is not None:
            text += f" (target <= {target:g}: {'ok' if ratio <= target else 'MISSED'})"
    print(text)


def parent_main(args: argparse.Namespace) -> int:
    if args.keep:
        workdir = Path(args.keep)
        workdir.mkdir(parents=True, exist_ok=True)
        small, large = build(workdir, args.sessions, args.big_events, args.big_result_bytes)
        return report(args, small, large)
    with tempfile.TemporaryDirectory(prefix="dasshh-bench-") as tmp:
        small, large = build(Path(tmp), args.sessions, args.big_events, args.big_result_bytes)
        return report(args, small, large)


def report_stats(args: argparse.Namespace, large: Path) -> None:
    runs = [run_child("app", "--db", str(large), "--stats") for _ in range(args.repeat)]
    print(f"stats (issue 18), {args.sessions:,} sessions, median of {len(runs)} runs, "
          f"load average {os.getloadavg()[0]:.2f}")
    line("first stats computation (no cache)", f"{median(runs, 'stats_first'):.2f} s")
    line("  of which CPU", f"{median(runs, 'stats_first_cpu'):.2f} s")
    line("  (target <= 3 s)", "ok" if median(runs, "stats_first") <= 3 else "MISSED")
    line("  progress told", f"{median(runs, 'stats_progress_steps'):.0f} times")
    line("stats brought up to date and read again", f"{median(runs, 'stats_again') * 1000:.0f} ms")
    line("S to the stats screen shown (up to date)", f"{median(runs, 'stats_open') * 1000:.0f} ms")
    line("  (target <= 200 ms)", "ok" if median(runs, "stats_open") <= 0.2 else "MISSED")
    line("  again (the screen kept)", f"{median(runs, 'stats_reopen') * 1000:.0f} ms")
    line("S to the figures, never worked out before", f"{median(runs, 'stats_first_in_app'):.2f} s")


def report(args: argparse.Namespace, small: Path, large: Path) -> int:
    if args.stats_only:
        report_stats(args, large)
        return 0
    bare_runs, small_runs, large_runs = [], [], []
    for _ in range(args.repeat):  # interleaved, so that drift hits all three alike
        bare_runs.append(run_child("bare"))
        small_runs.append(run_child("app", "--db", str(small)))
        large_runs.append(run_child("app", "--db", str(large)))
    interact = [run_child("app", "--db", str(large), "--interact") for _ in range(args.repeat)]
    sort_runs = [run_child("app", "--db", str(large), "--sort") for _ in range(args.repeat)]
    during, during_thread = [], []
    for _ in range(args.build_repeat):
        during.append(run_child("app", "--db", str(large), "--during-build"))
        during_thread.append(run_child("app", "--db", str(large), "--during-build", "--in-thread"))

    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    print(f"\ndasshh-history benchmark: {args.sessions:,} sessions, a {args.big_events:,}-event session, "
          f"median of {args.repeat} runs, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    bare, first_small, first_large = (median(r, "first_paint") for r in (bare_runs, small_runs, large_runs))
    print("first paint (from App() to the first frame with rows and a timeline)")
    line("bare Textual app", ms(bare))
    line("12 sessions (demo)", ms(first_small), first_small / bare)
    line(f"{args.sessions:,} sessions vs 12", ms(first_large), first_large / first_small, 1.2)
    line(f"{args.sessions:,} sessions vs bare Textual app", ms(first_large), first_large / bare, 1.3)
    print("from process start (interpreter and imports included: what a user waits for)")
    cold_bare, cold_small, cold_large = (
        median(r, "process_start_to_paint") for r in (bare_runs, small_runs, large_runs)
    )
    line("bare Textual app", ms(cold_bare))
    line("12 sessions", ms(cold_small), cold_small / cold_bare)
    line(f"{args.sessions:,} sessions vs 12", ms(cold_large), cold_large / cold_small, 1.2)
    line(f"{args.sessions:,} sessions vs bare Textual app", ms(cold_large), cold_large / cold_bare, 1.3)
    switch_small, switch_large = median(interact, "switch_small"), median(interact, "switch_large")
    print("moving the highlight (key press to the frame showing the timeline)")
    line("onto a 6-event session", ms(switch_small))
    line(f"onto the {args.big_events:,}-event session", ms(switch_large), switch_large / switch_small, 2)
    line("  (target <= 100 ms)", "ok" if switch_large <= 0.1 else "MISSED")
    jump = median(interact, "jump_end")
    print(f"in the {args.big_events:,}-event session")
    line("End: jump to the last event", ms(jump))
    line("  (target <= 100 ms)", "ok" if jump <= 0.1 else "MISSED")
    line("open it, End once the app is idle: at the end", ms(median(interact, "open_and_end")))
    end_on_open, end_on_open_small = median(interact, "end_on_open"), median(interact, "end_on_open_small")
    line("End on open: Enter, End at once, to last event shown", ms(end_on_open), end_on_open / end_on_open_small)
    line("  the same in a 6-event session (nothing to read)", ms(end_on_open_small))
    line("  (target <= 100 ms)", "ok" if end_on_open <= 0.1 else "MISSED")
    end_while_loading = median(interact, "end_while_loading")
    line("End while it loads (1,000 blocks in): last event shown", ms(end_while_loading))
    line("  (target <= 100 ms)", "ok" if end_while_loading <= 0.1 else "MISSED")
    line("Page Up from the end, median of up to 30", ms(median(interact, "page_up_median")))
    line("Page Up from the end, slowest", ms(median(interact, "page_up_max")))
    print(f"search ({median(interact, 'indexed_events'):,.0f} events)")
    line("first '/': build the index (once per history)", f"{median(interact, 'index_build'):.1f} s")
    line("  index file", f"{median(interact, 'index_mb'):.0f} MB")
    key_median, key_max = median(interact, "search_key_median"), median(interact, "search_key_max")
    line(f"typing {SEARCH_TYPED!r}: key to filtered list, median", ms(key_median))
    line("  slowest key (median of each run's slowest)", ms(key_max))
    typed = [seconds for run in interact for seconds in run["search_keys"]]
    line(f"  slowest of all {len(typed)} keys typed", ms(max(typed)))
    line("  first key (one letter: the most matches)", ms(median(interact, "search_key_first")))
    per_key = [statistics.median(run["search_keys"][i] for run in interact) for i in range(len(SEARCH_TYPED))]
    print("    each key: " + ", ".join(f"{char!r} {seconds * 1000:.0f}" for char, seconds in zip(SEARCH_TYPED, per_key)))
    line("  (target <= 100 ms per key)", "ok" if key_max <= 0.1 else "MISSED")
    report_during_build(during, during_thread)
    report_stats(args, large)
    filter_median, filter_max = median(interact, "filter_key_median"), median(interact, "filter_key_max")
    line(f"typing {FILTER_TYPED!r}: key to filtered list, median", ms(filter_median))
    line("  slowest key (median of each run's slowest)", ms(filter_max))
    per_key = [statistics.median(run["filter_keys"][i] for run in interact) for i in range(len(FILTER_TYPED))]
    print("    each key: " + ", ".join(f"{char!r} {seconds * 1000:.0f}" for char, seconds in zip(FILTER_TYPED, per_key)))
    line("  sessions matched", f"{median(interact, 'filter_matches'):,.0f}")
    line("  (target <= 100 ms per key)", "ok" if filter_max <= 0.1 else "MISSED")
    report_sort(args, sort_runs)
    report_bulk_delete(bulk_delete_runs(args.repeat))
    rss_small, rss_large = median(small_runs, "rss_mb"), median(large_runs, "rss_mb")
    print("resident memory after start")
    line("bare Textual app", f"{median(bare_runs, 'rss_mb'):.0f} MB")
    line("12 sessions", f"{rss_small:.0f} MB")
    line(f"{args.sessions:,} sessions", f"{rss_large:.0f} MB", rss_large / rss_small, 1.3)
    print(f"idle ({IDLE_SECONDS:g} s with no input)")
    line(f"{args.sessions:,} sessions: CPU", f"{median(large_runs, 'idle_cpu_ms_per_s'):.1f} ms/s")
    line(f"{args.sessions:,} sessions: frames drawn", f"{median(large_runs, 'idle_frames'):.0f}")
    from bench_secrets import report as report_secrets  # beside this script

    report_secrets(large)
    return 0


def bulk_delete_runs(repeat: int, sessions: int = 1000, events_each: int = 6) -> list[dict]:
    """Delete ``sessions`` sessions (``events_each`` events of ~600 bytes each) as one batch through the trash,
    then undo it (restore the batch), each on a fresh history; in fresh processes as the app's figures are."""
    return [run_child("trash", "--sessions", str(sessions), "--big-events", str(events_each)) for _ in range(repeat)]


def bulk_delete_child(sessions: int, events_each: int) -> dict:
    import sqlite3

    from dasshh_history.data.client import DBClient
    from dasshh_history.data.trash_store import TrashStore

    with tempfile.TemporaryDirectory(prefix="dasshh-bench-trash-") as tmp:
        path = Path(tmp) / "h.db"
        conn = sqlite3.connect(path)
        conn.executescript(
            "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
            "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR,"
            " created_at DATETIME, content JSON);")
        at = "2026-03-14 12:00:00.000000"
        text = json.dumps({"role": "user", "content": "x" * 560})
        conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                         [(f"s{n:06}", f"session {n}", at, at) for n in range(sessions + 100)])
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                         [(f"e{n:06}-{k}", "i", f"s{n:06}", at, text)
                          for k in range(events_each) for n in range(sessions + 100)])  # sessions interleaved
        conn.commit()
        conn.close()
        client = DBClient(db_path=path)
        store = TrashStore(Path(tmp) / "trash", path)
        ids = [f"s{n:06}" for n in range(sessions)]
        started = time.perf_counter()
        batch, deleted = store.delete(client, ids)
        delete_seconds = time.perf_counter() - started
        assert batch is not None and len(deleted) == sessions
        trash_bytes = sum(p.stat().st_size for p in (Path(tmp) / "trash").iterdir())
        started = time.perf_counter()
        store.restore(client, batch.name)
        restore_seconds = time.perf_counter() - started
        client.dispose()
    return {"delete": delete_seconds, "restore": restore_seconds, "trash_mb": trash_bytes / 1e6,
            "events": sessions * events_each, "process_wall": time.time(), "first_paint": 0.0}


def report_bulk_delete(runs: list[dict], sessions: int = 1000) -> None:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.0f} ms"

    print(f"bulk delete through the trash ({sessions:,} sessions, {runs[0]['events']:,} events, {len(runs)} run(s))")
    line("written to the trash (fsync), then deleted", ms(median(runs, "delete")))
    line("  its trash file", f"{median(runs, 'trash_mb'):.1f} MB")
    line("undo: the whole batch restored", ms(median(runs, "restore")))


def report_sort(args: argparse.Namespace, runs: list[dict]) -> None:
    from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder

    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    print(f"sorting the list of {args.sessions:,} sessions (s: key to the frame showing it)")
    for order in [*list(ListOrder)[1:], DEFAULT_ORDER]:
        first, again = median(runs, f"sort_first_{order.name}"), median(runs, f"sort_again_{order.name}")
        line(f"{order.label}: first time / again (kept)", f"{ms(first)} / {ms(again)}")
    for order in ListOrder:
        steps = [step for run in runs for step in run[f"page_{order.name}"]]
        line(f"  Page Down {order.label}: median / slowest", f"{ms(statistics.median(steps))} / {ms(max(steps))}")
        line(f"  End {order.label}", ms(median(runs, f"end_{order.name}")))
    for order in list(ListOrder)[1:]:
        line(f"  read alone (SQL), {order.label}", ms(median(runs, f"read_{order.name}")))
        line(f"  a search's {args.sessions:,} / 500 results put in order",
             f"{ms(median(runs, f'in_order_{order.name}_{args.sessions}'))} / "
             f"{ms(median(runs, f'in_order_{order.name}_500'))}")


def report_during_build(during: list[dict], during_thread: list[dict]) -> None:
    """Typing while the first build runs in its own process (started after the first paint), and after; the same
    with the build in the app's thread, started by '/' (as before builder processes)."""
    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    print(f"first build, the app started with no index ({len(during)} run(s) each)")
    for runs, where in ((during, "in its own process"), (during_thread, "in the app's thread")):
        line(f"build {where}", f"{statistics.median(r['child_build'] for r in runs):.1f} s")
        for key, label in (("during_keys", "while it builds"), ("after_keys", "once built")):
            typed = [seconds for run in runs for seconds in run[key]]
            line(f"  typing {SEARCH_TYPED!r} {label}: median", ms(statistics.median(typed)))
            line(f"    slowest of all {len(typed)} keys", ms(max(typed)))
            if runs is during:
                line("    (target <= 100 ms per key)", "ok" if max(typed) <= 0.1 else "MISSED")
    print("    events indexed while typing, in its own process: " + "; ".join(
        f"{b[0] if b else 0:,} -> {f'{a[0]:,}' if a else 'all'}" for b, a in
        ((run["progress_before"], run["progress_after"]) for run in during)))


def main() -> int:
    # The app keeps its settings (issue 17): never the user's own, which would change the figures (and s saves).
    config = tempfile.mkdtemp(prefix="dasshh-history-bench-config-")
    atexit.register(shutil.rmtree, config, True)
    os.environ["XDG_CONFIG_HOME"] = config  # the children inherit it
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50_000, help="sessions in the large history")
    parser.add_argument("--big-events", type=int, default=5_000, help="events in its largest session")
    parser.add_argument("--big-result-bytes", type=int, default=200_000, help="size of its largest tool results")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (the median is shown)")
    parser.add_argument("--build-repeat", type=int, default=1,
                        help="runs of the measurement during a first build (each builds the whole index)")
    parser.add_argument("--keep", metavar="DIR", help="build the databases in DIR and reuse them")
    parser.add_argument("--trash-only", action="store_true",
                        help="only the bulk delete through the trash (1,000 sessions, 6,000 events): a few seconds")
    parser.add_argument("--child", choices=["bare", "app", "trash"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--interact", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sort", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--during-build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-thread", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stats-only", action="store_true", help="measure the stats alone (issue 18)")
    args = parser.parse_args()
    if args.child == "trash":
        print(json.dumps(bulk_delete_child(args.sessions, args.big_events)))
        return 0
    if args.child:
        child_main(args)
        return 0
    if args.trash_only:
        report_bulk_delete(bulk_delete_runs(args.repeat))
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
