"""The first index build in a process of its own: started after the first paint, searched meanwhile, stopped on quit."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from uiutil import said, settle, wait_for

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.building import read_progress
from dasshh_history.demo import DEMO_NOW, write_large_history
from dasshh_history.domain.query import SearchQuery
from dasshh_history.services import index_build

pytestmark = pytest.mark.skipif(not index_build.SUPPORTED, reason="builder processes run on POSIX systems")

SESSIONS = 400


@pytest.fixture(autouse=True)
def slow_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many short transactions (the builder is given its parent's CHUNK), and a build in a process from 100 events."""
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 5)
    monkeypatch.setattr("dasshh_history.services.index_keeper.BACKGROUND_AFTER", 100)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write_large_history(tmp_path / "history.db", sessions=SESSIONS, now=DEMO_NOW)


def midway(app) -> bool:
    """The builder runs and has noted that it indexed some of the events, not all."""
    noted = read_progress(app.index.cache_path)
    return app.index.builder_pid is not None and noted is not None and noted.pid == app.index.builder_pid \
        and 0 < noted.done < noted.total


def status(app) -> str:
    return str(app.query_one("#search-status").render())


def built(app) -> bool:
    return not app.index.building and not any(w.group == "index" and not w.is_finished for w in app.workers)


async def test_the_first_build_runs_in_its_own_process_and_the_app_searches_meanwhile(history, make_app):
    app = make_app(history)
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.index.builder_pid is None  # not before the first paint
        await wait_for(pilot, lambda: midway(app), timeout=30)
        pid = app.index.builder_pid
        assert pid != os.getpid()
        await wait_for(pilot, lambda: app.browser._build_progress is not None)
        assert app.browser.session_list.border_subtitle.startswith("indexing ")  # said quietly
        os.kill(pid, signal.SIGSTOP)  # held midway (the cache is read while a writer holds it)
        try:
            await pilot.press("slash")
            await wait_for(pilot, lambda: status(app).startswith("Indexing "))  # "Indexing 120 of 2,400 events"
            for char in "items":  # in the events of every session, not in the titles
                await pilot.press(char)
            await wait_for(pilot, lambda: app.browser.listed_query.text == "items")
            so_far = app.browser.session_list.total
            assert 0 < so_far < SESSIONS
            assert "so far · indexing" in status(app)
        finally:
            os.kill(pid, signal.SIGCONT)
        await wait_for(pilot, lambda: built(app), timeout=60)
        await settle(pilot)
        assert app.browser.session_list.total == SESSIONS  # the results grew to every session
        assert status(app).startswith(f"{SESSIONS:,} sessions match")
        assert app.browser.session_list.border_subtitle == ""
        assert not [message for message in said(app) if "failed" in message]


async def test_quitting_the_app_midway_stops_its_builder(history, make_app):
    app = make_app(history)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: midway(app), timeout=30)
        pid = app.index.builder_pid
        cache = app.index.cache_path
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped: no process left
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=cache)
    index.sync()  # what it left is usable and completed
    assert len(index.search(SearchQuery.parse("items")).session_ids) == SESSIONS
    index.close()
    client.dispose()


async def test_a_killed_builder_is_said_once_and_the_app_builds_the_rest_itself(history, make_app):
    app = make_app(history)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: midway(app), timeout=30)
        os.kill(app.index.builder_pid, signal.SIGKILL)
        await wait_for(pilot, lambda: any("in the background failed" in message for message in said(app)), timeout=10)
        await wait_for(pilot, lambda: built(app), timeout=60)
        await pilot.press("slash", *"items")
        await wait_for(pilot, lambda: app.browser.listed_query.text == "items")
        await settle(pilot)
        assert app.browser.session_list.total == SESSIONS
        failures = [message for message in said(app) if "in the background failed" in message]
        assert failures == ["Indexing for search in the background failed: it was killed (SIGKILL); "
                            "indexing in the app instead."]
        assert app.index.builder_pid is None and not app.index.building


async def test_a_small_history_is_indexed_at_the_first_slash_as_before(demo_db, make_app, monkeypatch):
    from dasshh_history.services.index_keeper import IndexKeeper

    monkeypatch.setattr("dasshh_history.services.index_keeper.BACKGROUND_AFTER", 5_000)
    asked: list[bool] = []
    original = IndexKeeper.start_background
    monkeypatch.setattr(IndexKeeper, "start_background", lambda self: asked.append(original(self)) or asked[-1])
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: asked)  # after the first paint: is the index far behind?
        await settle(pilot)
        assert asked == [False]
        assert not app.index.building and not app.index.is_open
        assert not app.index.cache_path.exists()  # nothing made before it is needed
        await pilot.press("slash", *"nginx")
        await settle(pilot)
        assert app.browser.session_list.total == 1 and app.index.builder_pid is None
