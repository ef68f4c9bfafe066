"""Who writes the search cache: one sync at a time across processes, the progress it notes, the backlog."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import rows

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.building import BuildLock, backlog, read_progress
from dasshh_history.data.search.schema import SCHEMA_VERSION
from dasshh_history.demo import DEMO_NOW, write_demo
from dasshh_history.domain.query import SearchQuery


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = write_demo(tmp_path / "history.db", now=DEMO_NOW)
    DBClient(db_path=path).dispose()  # the browser's own indexes, made once
    return path


@pytest.fixture
def client(history: Path) -> Iterator[DBClient]:
    client = DBClient(db_path=history)
    yield client
    client.dispose()


def events(history: Path) -> int:
    return rows(history, "SELECT count(*) FROM events")[0][0]


def test_while_one_index_syncs_another_on_the_same_cache_does_not(client: DBClient, history: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    """Two instances on one history: the second does not index the same events again (it would, twice over)."""
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 5)
    cache = tmp_path / "search.db"
    first, second = SearchIndex(client, path=cache), SearchIndex(client, path=cache)
    inside, release = threading.Event(), threading.Event()

    def held(done: int, total: int) -> None:  # the first sync stops between two chunks, holding the cache
        inside.set()
        release.wait(10)

    builder = threading.Thread(target=first.sync, args=(held,))
    builder.start()
    try:
        assert inside.wait(10)
        assert BuildLock(cache).busy()
        assert second.sync(wait=False).busy  # does nothing, at once
        waited: list[object] = []
        waiter = threading.Thread(target=lambda: waited.append(second.sync()))
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive()  # waits for the first
    finally:
        release.set()
        builder.join(10)
    waiter.join(10)
    assert not waited[0]  # nothing left for it to do
    assert not BuildLock(cache).busy()
    total = events(history)
    assert rows(cache, "SELECT count(*), count(DISTINCT event_rowid) FROM docs") == [(total, total)]
    assert first.search(SearchQuery.parse("nginx")).session_ids == second.search(SearchQuery.parse("nginx")).session_ids
    first.close()
    second.close()


def test_a_sync_notes_how_far_it_got_in_the_cache(client: DBClient, history: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 4)
    cache = tmp_path / "search.db"
    index = SearchIndex(client, path=cache)
    noted: list[object] = []
    index.sync(lambda done, total: noted.append(read_progress(cache)))  # read from another connection
    total = events(history)
    assert [(p.pid, p.done, p.total) for p in noted] == [  # type: ignore[attr-defined]
        (os.getpid(), min(done, total), total) for done in range(4, total + 4, 4)
    ]
    index.close()


def test_the_backlog_is_counted_without_making_a_cache(client: DBClient, history: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    cache = tmp_path / "cache" / "search.db"
    total = events(history)
    assert backlog(cache, history) == total
    assert not cache.parent.exists()  # nothing made
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 10)
    index = SearchIndex(client, path=cache)
    index.sync(should_stop=lambda: index.indexed_events() >= 10)
    assert backlog(cache, history) == total - 10
    index.sync()
    assert backlog(cache, history) == 0
    index.close()
    with sqlite3.connect(cache) as conn:
        conn.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    conn.close()
    assert backlog(cache, history) == total  # a cache of another version will be built again


def test_a_cache_of_another_version_is_made_afresh_in_place(client: DBClient, tmp_path: Path):
    """Not deleted and made anew: another process (a builder) may have the file open, and would go on writing
    a file that no longer has a name."""
    cache = tmp_path / "search.db"
    SearchIndex(client, path=cache).close()
    other = sqlite3.connect(cache)
    other.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    other.commit()
    inode = cache.stat().st_ino
    index = SearchIndex(client, path=cache)
    index.sync()
    assert cache.stat().st_ino == inode
    assert other.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,)
    assert index.search(SearchQuery.parse("nginx")).session_ids
    other.close()
    index.close()


def test_the_cache_is_read_while_another_connection_writes_it(client: DBClient, tmp_path: Path):
    """A search never waits for a builder's long transaction (the cache is in write-ahead-log mode)."""
    cache = tmp_path / "search.db"
    index = SearchIndex(client, path=cache)
    index.sync()
    writer = sqlite3.connect(cache, isolation_level=None, timeout=0)
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("DELETE FROM docs")  # uncommitted
    reader = sqlite3.connect(cache, timeout=0)
    try:
        assert reader.execute("SELECT count(*) FROM docs").fetchone()[0] > 0
        assert index.search(SearchQuery.parse("nginx")).session_ids
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.close()
        index.close()
