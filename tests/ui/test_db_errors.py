"""Database errors while the app runs (read-only, locked, removed) are notified; the app keeps running."""

from __future__ import annotations

import sqlite3
from datetime import UTC
from pathlib import Path

import pytest
from textual.widgets import Input
from uiutil import settle

from dasshh_history.app import HistoryApp
from dasshh_history.data import client as client_module
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW
from dasshh_history.screens.confirm_delete import ConfirmDeleteScreen


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def sessions(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM sessions ORDER BY rowid").fetchall()


async def rename(pilot, title: str) -> None:
    await pilot.press("r")
    await settle(pilot)
    pilot.app.screen.query_one(Input).value = title
    await pilot.press("enter")
    await settle(pilot)


@pytest.mark.parametrize("how", ["file", "url"])
async def test_read_only_database_browses_and_refuses_writes(demo_db, make_read_only, how):
    before = sessions(demo_db)
    if how == "file":  # an unwritable file in an unwritable directory
        DBClient(db_path=demo_db).dispose()  # the browser's indexes, while it still can
        make_read_only(demo_db, demo_db.parent)
        client = DBClient(db_path=demo_db)
    else:
        client = DBClient(url=f"sqlite:///file:{demo_db}?mode=ro&uri=true")
    app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert len(app.browser.session_list.summaries) == 12
            assert app.browser.timeline.blocks
            await rename(pilot, "not allowed")
            assert any("Rename failed: the database is read-only" in m for m in messages(app))
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDeleteScreen)
            await pilot.press("y")
            await settle(pilot)
            assert any("Delete failed: the database is read-only" in m for m in messages(app))
            assert len(app.browser.session_list.summaries) == 12  # nothing vanished from the list
            await pilot.press("j")
            await settle(pilot)
            assert app.browser.session_list.highlighted == 1 and app.is_running
    finally:
        client.dispose()
    assert sessions(demo_db) == before


async def test_lock_held_longer_than_the_timeout_is_notified(demo_db, monkeypatch):
    monkeypatch.setattr(client_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    client = DBClient(db_path=demo_db)
    app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC)
    locker = sqlite3.connect(demo_db, isolation_level=None)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            target = app.browser.session_list.current.id
            locker.execute("BEGIN EXCLUSIVE")
            await rename(pilot, "while locked")
            assert any("locked by another program" in m for m in messages(app))
            locker.execute("ROLLBACK")
            await rename(pilot, "after the lock")
            assert app.is_running
        with sqlite3.connect(demo_db) as conn:
            assert conn.execute("SELECT detail FROM sessions WHERE id = ?", (target,)).fetchone() == ("after the lock",)
    finally:
        locker.close()
        client.dispose()


async def test_removed_file_is_notified_and_nothing_is_written_to_it(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        demo_db.unlink()
        await pilot.press("j")
        await settle(pilot)
        assert any("Could not read events: the database file was removed" in m for m in messages(app))
        await rename(pilot, "into the void")
        assert any("Rename failed: the database file was removed" in m for m in messages(app))
        assert app.is_running
    assert not demo_db.exists()


async def test_a_writers_short_lock_is_waited_out_without_a_message(demo_db, make_app):
    """dasshh committing while we rename, delete and undo: each waits for the lock, then succeeds."""
    import threading

    app = make_app(demo_db)
    locker = sqlite3.connect(demo_db, isolation_level=None, check_same_thread=False)

    def hold_lock(seconds: float) -> threading.Thread:
        locked = threading.Event()

        def run() -> None:
            locker.execute("BEGIN EXCLUSIVE")
            locked.set()
            threading.Event().wait(seconds)
            locker.execute("COMMIT")

        thread = threading.Thread(target=run)
        thread.start()
        locked.wait(5)
        return thread

    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            target = app.browser.session_list.current.id
            thread = hold_lock(0.5)
            await rename(pilot, "renamed under a lock")
            thread.join()
            thread = hold_lock(0.5)
            await pilot.press("d")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
            thread.join()
            assert target not in [s[0] for s in sessions(demo_db)]
            thread = hold_lock(0.5)
            await pilot.press("u")
            await settle(pilot)
            thread.join()
            assert not [m for m in messages(app) if "failed" in m or "locked" in m], messages(app)
            assert app.is_running
    finally:
        locker.close()
    assert (target, "renamed under a lock") in [(s[0], s[1]) for s in sessions(demo_db)]


async def test_a_locked_search_cache_is_notified_not_a_crash(demo_db, make_app, monkeypatch):
    import json

    monkeypatch.setattr("dasshh_history.data.search.schema.BUSY_TIMEOUT_SECONDS", 0.2)
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash")
        await settle(pilot)
        cache = app.index.open().path
        locker = sqlite3.connect(cache, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")  # another dasshh-history, writing the same cache
            with sqlite3.connect(demo_db) as conn:  # dasshh writes: the index must catch up, and cannot
                conn.execute("INSERT INTO events VALUES ('new', 'inv', (SELECT id FROM sessions LIMIT 1), "
                             "'2026-03-01 10:00:00', ?)", (json.dumps({"role": "user", "content": "zebra"}),))
            await pilot.pause(2.5)
            await settle(pilot)
            failures = [m for m in messages(app) if m.startswith("Could not index for search")]
            assert len(failures) == 1 and "locked" in failures[0], messages(app)  # retried, said once
            assert app.is_running
        finally:
            locker.close()
        await pilot.pause(1.5)  # unlocked: the next check catches up
        await settle(pilot)
        await pilot.press("z", "e", "b", "r", "a")
        await settle(pilot)
        assert app.browser.session_list.total == 1
