"""The stats screen: S and the palette open it, of the whole history or the search's results; Enter on a session
opens it in the browser; it follows changes written meanwhile; snapshots on the demo data, dark and light, 80×24."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from textual.widgets import DataTable, Label, ProgressBar
from uiutil import settle, wait_for

from dasshh_history.demo import DEMO_NOW
from dasshh_history.domain.stats import WEEKDAYS
from dasshh_history.domain.text import one_line
from dasshh_history.screens.help import HelpScreen
from dasshh_history.screens.stats import StatsScreen
from dasshh_history.widgets.stats_overview import StatsOverview


def sql(path, query: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


async def open_stats(pilot) -> StatsScreen:
    app = pilot.app
    await settle(pilot)
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.stats is not None)
    return app.screen


async def test_S_shows_the_whole_history_s_figures_and_escape_goes_back(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(pilot)
        ((sessions,),) = sql(demo_db, "SELECT count(*) FROM sessions")
        ((events,),) = sql(demo_db, "SELECT count(*) FROM events")
        stats = screen.stats
        assert (stats.sessions, stats.events, stats.query) == (sessions, events, None)
        overview = screen.query_one(StatsOverview)
        await wait_for(pilot, lambda: overview.size.height > 10)
        lines = [overview.render_line(y).text.rstrip() for y in range(overview.size.height)]
        assert lines[0].startswith(f"{sessions} sessions   ") and f"   {events} events" in lines[0]
        assert "Activity per day" in lines and "When you work: messages by weekday and hour (local time)" in lines
        assert [line[:3] for line in lines if line[:3] in WEEKDAYS] == list(WEEKDAYS)
        tools = screen.query_one("#stats-tools", DataTable)
        ((names,),) = sql(demo_db, "SELECT count(DISTINCT json_extract(c.value, '$.function.name')) FROM events e, "
                                   "json_each(e.content, '$.tool_calls') c")
        assert tools.row_count == names
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#stats-body"))  # focused once drawn
        await pilot.press("S")  # S again, on the stats: back
        await wait_for(pilot, lambda: app.screen is app.browser)


async def test_the_overview_is_drawn_again_in_a_new_theme_and_width(demo_db, make_app):
    """The overview keeps its rendered lines: another theme or width draws them again."""
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(pilot)
        overview = screen.query_one(StatsOverview)
        await wait_for(pilot, lambda: overview.size.height > 10)

        def background() -> str:
            return str(overview.render_line(0)._segments[0].style.bgcolor)

        dark = background()
        app.theme = "textual-light"
        await wait_for(pilot, lambda: background() != dark)
        await pilot.resize_terminal(60, 24)
        await wait_for(pilot, lambda: overview.size.width < 60)
        widths = {overview.render_line(y).cell_length for y in range(overview.size.height)}
        assert widths == {overview.size.width}


async def test_the_palette_and_the_help_offer_the_stats(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        (command,) = [c for c in app.get_system_commands(app.screen) if c.title == "Stats"]
        command.callback()
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert ("S", "The stats of the history, or of the search's results") in app.screen.sections[0][1]


async def test_the_stats_of_a_search_are_those_of_its_results(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"tool:read_file", "enter")
        await wait_for(pilot, lambda: app.browser.listed_ids is not None and app.browser.listed_query.text.strip()
                       == "tool:read_file")
        listed = list(app.browser.listed_ids)
        screen = await open_stats(pilot)
        assert screen.stats.query == "tool:read_file"
        assert {s.id for s in screen.stats.largest} == set(listed) and screen.stats.sessions == len(listed)
        assert {t.name for t in screen.stats.tools} >= {"read_file"}


async def test_enter_on_a_largest_session_opens_it_in_the_browser(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(pilot)
        await wait_for(pilot, lambda: bool(screen.query("#stats-largest")))  # put together after the first frame
        largest = screen.query_one("#stats-largest", DataTable)
        await wait_for(pilot, lambda: largest.row_count == len(screen.stats.largest))
        largest.focus()
        current = app.browser.session_list.current.id
        row = next(n for n, s in enumerate(screen.stats.largest) if n and s.id != current)
        wanted = screen.stats.largest[row].id
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await wait_for(pilot, lambda: app.browser.session_list.current is not None
                       and app.browser.session_list.current.id == wanted)
        await wait_for(pilot, lambda: app.browser.displayed_session_id == wanted)


async def test_the_figures_follow_what_dasshh_writes_meanwhile(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(pilot)
        before = screen.stats
        at = DEMO_NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn = sqlite3.connect(demo_db)
        with conn:
            conn.execute("INSERT INTO sessions VALUES ('new-one', 'Written meanwhile', ?, ?)", (at, at))
            conn.executemany("INSERT INTO events VALUES (?, 'inv', 'new-one', ?, ?)", [
                ("n1", at, '{"role": "user", "content": "hi"}'),
                ("n2", at, ('{"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function",'
                            ' "function": {"name": "brand_new_tool", "arguments": "{}"}}]}')),
            ])
        conn.close()
        await wait_for(pilot, lambda: screen.stats.sessions == before.sessions + 1, timeout=10)
        assert screen.stats.events == before.events + 2 and screen.stats.calls == before.calls + 1
        assert "brand_new_tool" in {t.name for t in screen.stats.tools}


async def test_figures_worked_out_before_are_shown_and_brought_up_to_date_once(demo_db, make_app,
                                                                               monkeypatch: pytest.MonkeyPatch):
    """Opened in a new run, the stats show what the stats file kept, then sync once (opening the screen is not also
    taken for opening it again, which would start a second sync that cancels the first)."""
    import dasshh_history.services.stats as stats_service

    first = make_app(demo_db)
    async with first.run_test(size=(80, 24)) as pilot:
        await open_stats(pilot)
    syncs: list[object] = []
    sync = stats_service.StatsKeeper.sync

    def counted(self, *args, **kwargs):
        syncs.append(args[0] if args else kwargs.get("progress"))
        return sync(self, *args, **kwargs)

    monkeypatch.setattr(stats_service.StatsKeeper, "sync", counted)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_stats(pilot)
        await settle(pilot)
        assert syncs == [None]  # one sync, without a progress bar: the figures were on the screen already
        assert screen.query_one("#stats-body").display and not screen.query_one("#stats-progress").display
        # the sessions' tables, put together after the first frame, are filled once they are there
        for selector, sessions in (("#stats-largest", screen.stats.largest), ("#stats-longest", screen.stats.longest)):
            table = screen.query_one(selector, DataTable)
            assert [table.get_row_at(n)[-1].plain for n in range(table.row_count)] == [
                one_line(s.title, 48 if selector == "#stats-longest" else 40) for s in sessions]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await pilot.press("S")  # opened again: brought up to date again
        await wait_for(pilot, lambda: len(syncs) == 2)


async def test_a_first_computation_shows_its_progress_then_the_figures(demo_db, make_app,
                                                                     monkeypatch: pytest.MonkeyPatch):
    """Never worked out before: a progress bar (added then) and "done of total events", then the figures; progress
    told from the adding thread after the figures came (its messages can arrive late) changes nothing."""
    import dasshh_history.services.stats as stats_service

    release = threading.Event()
    sync = stats_service.StatsKeeper.sync

    def held(self, progress=None, **kwargs):
        if progress is not None and not release.is_set():
            progress(20, 59)
            release.wait(10)
        return sync(self, progress, **kwargs)

    monkeypatch.setattr(stats_service.StatsKeeper, "sync", held)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen) and bool(app.screen.query(ProgressBar)))
        screen = app.screen
        label = screen.query_one("#stats-progress-label", Label)
        bar = screen.query_one(ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 20)
        assert (str(label.render()), bar.total) == ("Working out the stats: 20 of 59 events", 59)
        assert not screen.query_one("#stats-body").display and screen.stats is None
        release.set()
        await wait_for(pilot, lambda: screen.stats is not None and screen.query_one("#stats-body").display)
        assert not screen.query_one("#stats-progress").display
        said_before = str(label.render())
        screen.post_message(StatsScreen.Progress(30, 59))  # late
        await settle(pilot)
        assert str(label.render()) == said_before and bar.progress != 30


async def test_a_failure_before_the_screen_is_mounted_is_said(demo_db, make_app, monkeypatch: pytest.MonkeyPatch):
    """The figures are read while the screen is put together: a failure then is said once it is, not lost; r
    works them out again, its progress said in place of the failure."""
    import dasshh_history.services.stats as stats_service

    def broken(self, *args, **kwargs) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(stats_service.StatsKeeper, "kept_figures", broken)
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.is_mounted)
        await settle(pilot)
        label = app.screen.query_one("#stats-progress-label", Label)
        assert str(label.render()) == "Could not work out the stats: disk I/O error"
        assert app.screen.stats is None and not app.screen.query_one("#stats-body").display
        monkeypatch.undo()  # the disk is back: r works them out, the progress said in place of the failure
        told: list[str] = []
        screen = app.screen
        say = screen._say_progress
        monkeypatch.setattr(screen, "_say_progress", lambda message: (told.append(message), say(message)))
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.stats is not None, timeout=10)
        assert told and all(message.startswith("Working out the stats: ") for message in told)


def _stats_run_before(pilot_keys: tuple[str, ...] = (), theme: str | None = None):
    async def run_before(pilot) -> None:
        if theme is not None:  # once mounted: the settings' theme is applied at the start
            pilot.app.theme = theme
        await open_stats(pilot)
        for key in pilot_keys:
            await pilot.press(key)
        await settle(pilot)

    return run_before


@pytest.fixture
def fixed_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files' sizes on disk vary with SQLite's write-ahead log: fixed in the snapshots."""
    import dasshh_history.services.stats as stats_service

    monkeypatch.setattr(stats_service, "file_size", lambda path: None if path is None else 180_224)


def test_snapshot_stats_dark(snap_compare, demo_db, make_app, fixed_sizes):
    assert snap_compare(make_app(demo_db), terminal_size=(80, 24), run_before=_stats_run_before())


def test_snapshot_stats_light(snap_compare, demo_db, make_app, fixed_sizes):
    app = make_app(demo_db)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_stats_run_before(theme="textual-light"))


def test_snapshot_stats_tables_dark(snap_compare, demo_db, make_app, fixed_sizes):
    """Scrolled down to the tools and the largest outputs."""
    assert snap_compare(make_app(demo_db), terminal_size=(80, 24), run_before=_stats_run_before(("tab", "tab")))
