"""The Recently deleted screen (D): the trash newest first, in local times; Enter restores byte for byte."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from uiutil import SIZE, said, settle, wait_for

from dasshh_history.app import HistoryApp
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW
from dasshh_history.domain.query import SearchQuery
from dasshh_history.screens.recently_deleted import RecentlyDeletedScreen

KOLKATA = ZoneInfo("Asia/Kolkata")


def db_rows(path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def dump(path: Path) -> tuple[list[tuple], list[tuple]]:
    return (db_rows(path, "SELECT rowid, * FROM sessions ORDER BY rowid"),
            db_rows(path, "SELECT rowid, *, typeof(content), hex(content) FROM events ORDER BY rowid"))


async def delete_highlighted(pilot, moves: int = 0) -> str:
    await pilot.press(*(["j"] * moves))
    await settle(pilot)
    victim = pilot.app.browser.session_list.current.id
    await pilot.press("d")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    return victim


async def open_trash(pilot) -> RecentlyDeletedScreen:
    await pilot.press("D")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RecentlyDeletedScreen) and pilot.app.screen.loaded)
    return pilot.app.screen


def cells(screen: RecentlyDeletedScreen) -> list[list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(row)] for row in range(table.row_count)]


async def test_the_trash_survives_a_restart_and_restores_the_highlighted_session(demo_db, tmp_path):
    before = dump(demo_db)
    clients: list[DBClient] = []

    def start() -> HistoryApp:
        client = DBClient(db_path=demo_db)
        clients.append(client)
        return HistoryApp(client, clock=lambda: DEMO_NOW, tz=KOLKATA, search_path=tmp_path / "s.db")

    try:
        app = start()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            first = await delete_highlighted(pilot, 2)
            second = await delete_highlighted(pilot, 3)
            titles = {s: db_rows(demo_db, "SELECT 1 FROM sessions WHERE id = ?", s) for s in (first, second)}
            assert titles == {first: [], second: []}
        clients[0].dispose()

        app = start()  # a restart: the trash is read from disk
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_trash(pilot)
            assert [e.session_id for e in screen.entries] == [second, first]  # newest delete first
            rows = cells(screen)
            assert [row[0] for row in rows] == ["2026-03-14 20:39"] * 2  # deleted at DEMO_NOW, in Kolkata
            assert rows[0][1] == screen.entries[0].title
            assert rows[0][2] == str(screen.entries[0].event_count)
            await pilot.press("down", "enter")  # restore the first deleted
            await wait_for(pilot, lambda: len(screen.entries) == 1)
            assert said(app)[-1].startswith(f"Restored “{db_rows(demo_db, 'SELECT detail FROM sessions WHERE id = ?', first)[0][0]}")
            assert [e.session_id for e in screen.entries] == [second]
            await pilot.press("enter")
            await wait_for(pilot, lambda: not screen.entries)
            assert dump(demo_db) == before  # same ids, times, contents, rowids: byte for byte
            assert "The trash is empty." in str(screen.query_one("#trash-status").render())
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.browser
            listed = [s.id for s in app.browser.session_list.summaries]
            assert first in listed and second in listed
    finally:
        for client in clients:
            client.dispose()


async def test_a_restore_conflict_is_said_and_changes_nothing(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        victim = await delete_highlighted(pilot)
        with sqlite3.connect(demo_db) as conn:  # the id comes back meanwhile
            conn.execute("INSERT INTO sessions VALUES (?, 'imposter', NULL, NULL)", (victim,))
        before = dump(demo_db)
        screen = await open_trash(pilot)
        assert "in the history again" in cells(screen)[0][1]
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("exists again" in m for m in said(app)))
        assert dump(demo_db) == before
        assert [e.session_id for e in screen.entries] == [victim]


async def test_u_undoes_a_delete_made_before_a_restart(demo_db, make_app):
    before = dump(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await delete_highlighted(pilot, 1)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert said(app)[-1].startswith("Restored “")
        assert dump(demo_db) == before


def test_recently_deleted_snapshot(snap_compare, demo_db, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await delete_highlighted(pilot, 1)
        await delete_highlighted(pilot, 4)
        pilot.app.clear_notifications()
        await open_trash(pilot)
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


async def test_trash_older_than_the_days_goes_at_start(demo_db, tmp_path):
    from datetime import timedelta

    from dasshh_history.data.trash_store import TrashStore, default_trash_dir

    client = DBClient(db_path=demo_db)
    try:
        ids = [row[0] for row in db_rows(demo_db, "SELECT id FROM sessions ORDER BY rowid LIMIT 2")]
        TrashStore(default_trash_dir(), demo_db, clock=lambda: DEMO_NOW - timedelta(days=31)).delete(client, ids[:1])
        TrashStore(default_trash_dir(), demo_db, clock=lambda: DEMO_NOW - timedelta(days=29)).delete(client, ids[1:])
        app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=KOLKATA, search_path=tmp_path / "s.db")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert [e.session_id for e in app.actions.trashed()] == ids[1:]
            assert len(list(default_trash_dir().iterdir())) == 1
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert "Recently deleted" in titles
    finally:
        client.dispose()


async def test_a_delete_whose_trash_cannot_be_written_is_said_and_deletes_nothing(demo_db, make_app, monkeypatch):
    import sqlite3 as sqlite

    from dasshh_history.data import trash_file

    def full(*args, **kwargs):
        raise sqlite.OperationalError("database or disk is full")

    monkeypatch.setattr(trash_file, "write_batch", full)
    before = dump(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await delete_highlighted(pilot)
        assert said(app)[-1] == "Delete failed: cannot write the trash: database or disk is full"
        assert dump(demo_db) == before


async def test_when_the_trash_expires_the_search_cache_keeps_no_word_of_it(tmp_path):
    """Delete means gone: the words of an expired delete leave the search cache too (purged in a process of its own)."""
    import json
    from datetime import timedelta

    from exportutil import dasshh_database

    from dasshh_history.data.search import SearchIndex
    from dasshh_history.data.search.purge import purge_due
    from dasshh_history.data.trash_store import TrashStore, default_trash_dir

    word = "quokkafirmament"

    def user(eid: str, sid: str, text: str) -> tuple:
        return (eid, "i", sid, "2025-01-01 10:00:00", json.dumps({"role": "user", "content": text}))

    db = dasshh_database(tmp_path / "history.db",
                         [("s1", f"about {word}", "2025-01-01 10:00:00", "2025-01-01 10:00:00"),
                          ("s2", "kept", "2025-01-02 10:00:00", "2025-01-02 10:00:00")],
                         [user("e1", "s1", f"the {word} here"), user("e2", "s2", "nginx firewall")])
    cache = tmp_path / "cache" / "search.db"
    client = DBClient(db_path=db)

    def holding() -> list[str]:
        return sorted(p.name for p in cache.parent.iterdir() if p.is_file() and word.encode() in p.read_bytes())

    try:
        index = SearchIndex(client, path=cache)
        index.sync()
        TrashStore(default_trash_dir(), db, clock=lambda: DEMO_NOW - timedelta(days=31)).delete(client, ["s1"])
        index.sync()  # the session is gone from the index, but its words are still in the file
        index.close()
        assert holding() and any(word.encode() in p.read_bytes() for p in default_trash_dir().iterdir())
        app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=KOLKATA, search_path=cache)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await wait_for(pilot, lambda: app.index._purger is not None and not app.index.purging, timeout=30)
            assert list(default_trash_dir().iterdir()) == []
            assert holding() == []
            assert not purge_due(cache)
            assert app.index.open().search(SearchQuery.parse("firewall")).session_ids == ["s2"]
    finally:
        client.dispose()
