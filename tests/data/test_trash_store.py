"""The persistent trash, on real files: written before every delete, read after a restart, safe against kill -9."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dbutil import DASSHH_SCHEMA, digest, rows
from sqlalchemy.exc import SQLAlchemyError
from test_trash import build, dump

from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import RestoreConflictError, orphan_keys
from dasshh_history.data.trash_store import KILL_ENV, TrashStore, default_trash_dir
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services.actions import Actions

SESSIONS = 1000
EVENTS_EACH = 6


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[DBClient, Path]]:
    path = build(tmp_path / "h.db")
    client = DBClient(db_path=path)
    yield client, path
    client.dispose()


def summary(session_id: str) -> SessionSummary:
    return SessionSummary(session_id, session_id, None, None, 0)


def trash_files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory)) if directory.exists() else []


def big_history(path: Path) -> Path:
    """1,000 sessions of 6 events, the events of neighbouring sessions interleaved, one BLOB and one bad text each."""
    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                     [(f"s{n:04}", f"title {n}", "2026-01-01 10:00:00.000000", f"2026-01-02 10:{n % 60:02}:00.000000")
                      for n in range(SESSIONS)])
    events = []
    for n in range(0, SESSIONS, 2):
        for k in range(EVENTS_EACH):
            for m in (n, n + 1):
                content = b"\xff\x00blob" if k == 4 else f'{{"role": "user", "content": "message {k} of {m}"}}'
                events.append((f"e{m:04}-{k}", "i", f"s{m:04}", "2026-01-01 10:00:00.000000", content))
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
    conn.execute("UPDATE events SET content = CAST(X'C328FF' AS TEXT) WHERE id LIKE '%-5'")  # not UTF-8
    conn.commit()
    conn.close()
    return path


# -- delete, undo, restart ---------------------------------------------------------------


def test_bulk_delete_then_undo_after_a_restart_restores_byte_for_byte(history, tmp_path):
    client, path = history
    before = dump(path)
    trash_dir = tmp_path / "trash"
    outcome = Actions(client, trash_dir=trash_dir).delete_many([summary("s"), summary("nodate"), summary("gone")], 3)
    assert outcome.message == "Deleted 2 sessions with 8 messages (1 session already gone) · press u to undo"
    assert rows(path, "SELECT id FROM sessions") == [("other",)]
    assert rows(path, "SELECT DISTINCT session_id FROM events") == [("other",)]
    [name] = trash_files(trash_dir)
    assert name.endswith(".sqlite") and not name.endswith(".pending.sqlite")

    client.dispose()  # a restart: a new client and new actions read the trash from disk
    client2 = DBClient(db_path=path)
    try:
        again = Actions(client2, trash_dir=trash_dir)
        assert [(s.session_id, s.event_count) for s in again.trashed()] == [("s", 8), ("nodate", 0)]
        assert again.can_undo
        undone = again.undo()
        assert undone.message == "Restored 2 sessions with 8 messages" and undone.highlight_id == "s"
        assert dump(path) == before  # every column, every rowid, the BLOBs and the text that is not UTF-8
        assert trash_files(trash_dir) == []  # restored: no copy left in the trash
        assert not again.can_undo
        assert (again.undo().message, again.nothing_to_undo) == ("Nothing left to undo: every deleted session is back.",) * 2
    finally:
        client2.dispose()


def test_undo_takes_the_last_batch_then_the_one_before(history, tmp_path):
    client, path = history
    before = dump(path)
    actions = Actions(client, trash_dir=tmp_path / "trash")
    assert actions.delete(summary("s"), 0).message == "Deleted “s” · press u to undo"
    actions.delete_many([summary("other"), summary("nodate")], 0)
    assert actions.undo().message == "Restored 2 sessions with 3 messages"
    assert rows(path, "SELECT id FROM sessions ORDER BY rowid") == [("other",), ("nodate",)]
    assert actions.undo().message == "Restored “the one” with 8 messages"
    assert dump(path) == before


def test_restoring_one_session_of_a_batch_keeps_the_others_in_the_trash(history, tmp_path):
    client, path = history
    before = dump(path)
    actions = Actions(client, trash_dir=tmp_path / "trash")
    actions.delete_many([summary("other"), summary("s")], 0)
    other, s = actions.trashed()
    assert actions.restore_trashed(s).message == "Restored “the one” with 8 messages"
    assert [e.session_id for e in actions.trashed()] == ["other"]
    # A session with the id of a trashed one appears again: reported, nothing changed.
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO sessions VALUES ('other', 'new', NULL, NULL)")
    conn.commit()
    conn.close()
    with pytest.raises(RestoreConflictError):
        actions.trash.restore(client, other.batch, [other.position])
    outcome = actions.restore_trashed(other)
    assert outcome.severity == "warning" and "exists again" in outcome.message
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM sessions WHERE id = 'other'")
    conn.commit()
    conn.close()
    assert actions.restore_trashed(other).message.startswith("Restored “other one”")
    assert dump(path) == before and actions.trashed() == []


def test_orphan_events_go_through_the_trash_and_come_back(history, tmp_path):
    client, path = history
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM sessions WHERE id = 'other'")  # dasshh's delete leaves the events behind
    conn.execute("INSERT INTO events (id, session_id, content) VALUES ('n1', NULL, 'x')")
    conn.commit()
    conn.close()
    before = dump(path)
    store = TrashStore(tmp_path / "trash", path)
    assert orphan_keys(client) == ["other", None]
    batch, _ = store.delete(client, [], orphans=orphan_keys(client))
    assert batch is not None and [(s.session_id, s.orphans, s.event_count) for s in batch.sessions] == [
        ("other", True, 3), ("", True, 1)]
    assert rows(path, "SELECT count(*) FROM events WHERE session_id IS NULL OR session_id = 'other'") == [(0,)]
    store.restore(client, batch.name)
    assert dump(path) == before


# -- failures leave the history and the trash consistent ---------------------------------


def test_a_read_only_history_deletes_nothing_and_leaves_no_trash(history, tmp_path):
    client, path = history
    client.dispose()
    before = digest(path)
    read_only = DBClient(url=f"sqlite:///file:{path}?mode=ro&uri=true")
    store = TrashStore(tmp_path / "trash", path)
    try:
        with pytest.raises(SQLAlchemyError, match="readonly"):
            store.delete(read_only, ["s", "other"])
    finally:
        read_only.dispose()
    assert digest(path) == before
    assert trash_files(tmp_path / "trash") == []


def test_a_trash_that_cannot_be_written_deletes_nothing(history, tmp_path, make_read_only):
    client, path = history
    before = dump(path)
    folder = tmp_path / "trash"
    folder.mkdir(mode=0o700)
    make_read_only(folder)
    with pytest.raises(OSError):
        TrashStore(folder, path).delete(client, ["s"])
    assert dump(path) == before


def test_a_locked_history_deletes_nothing_and_leaves_no_trash(history, tmp_path, monkeypatch):
    _, path = history
    before = dump(path)
    monkeypatch.setattr("dasshh_history.data.client.BUSY_TIMEOUT_SECONDS", 0.1)
    locker = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    locker.execute("BEGIN IMMEDIATE")
    fast = DBClient(db_path=path)
    try:
        fast.engine.dispose()
        with pytest.raises(SQLAlchemyError, match="locked"):
            TrashStore(tmp_path / "trash", path).delete(fast, ["s"])
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        fast.dispose()
    assert dump(path) == before and trash_files(tmp_path / "trash") == []


# -- kill -9 -------------------------------------------------------------------------------

CHILD = """
import sys
from dasshh_history.data.client import DBClient
from dasshh_history.data.trash_store import TrashStore
client = DBClient(db_path=sys.argv[1])
ids = [row[0] for row in client.engine.connect().exec_driver_sql("SELECT id FROM sessions")]
print("start", flush=True)
TrashStore(__import__("pathlib").Path(sys.argv[2]), sys.argv[1]).delete(client, ids)
print("done", flush=True)
"""


def per_session(path: Path) -> dict[str, tuple]:
    dumped = dump(path)
    events: dict[str, list] = {}
    for row in dumped["events"]:
        events.setdefault(bytes.fromhex(row[6]).decode(), []).append(row)
    return {bytes.fromhex(row[2]).decode(): (row, events.get(bytes.fromhex(row[2]).decode(), []))
            for row in dumped["sessions"]}


def check_nothing_lost(path: Path, trash_dir: Path, before: dict[str, tuple], full: dict) -> int:
    """Every session whole or gone, every gone one in the trash; the trash restores the history exactly."""
    client = DBClient(db_path=path)  # a new process would roll back a hot journal the same way
    try:
        now = per_session(path)
        assert all(now[sid] == before[sid] for sid in now)  # whole
        gone = set(before) - set(now)
        assert rows(path, "SELECT count(*) FROM events WHERE session_id NOT IN (SELECT id FROM sessions)") == [(0,)]
        store = TrashStore(trash_dir, path)
        trashed = [s.session_id for s in store.sessions(client)]
        assert sorted(trashed) == sorted(gone)
        for batch in store.batches(client):
            store.restore(client, batch.name)
        assert dump(path) == full
        assert [name for name in trash_files(trash_dir) if not name.endswith(".tmp")] == [] or not gone
        return len(gone)
    finally:
        client.dispose()


def run_child(path: Path, trash_dir: Path, step: str | None) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(KILL_ENV, None)
    if step is not None:
        env[KILL_ENV] = step
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(trash_dir)], env=env,
                            stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("step", "all_gone"), [("writing", False), ("written", False), ("deleted", True)])
def test_kill_9_at_each_step_of_a_1000_session_delete_loses_nothing(tmp_path, step, all_gone):
    path = big_history(tmp_path / "big.db")
    full = dump(path)
    before = per_session(path)
    trash_dir = tmp_path / "trash"
    child = run_child(path, trash_dir, step)
    assert child.wait(timeout=120) == -signal.SIGKILL
    files = trash_files(trash_dir)
    assert len(files) == 1 and files[0].endswith(".tmp" if step == "writing" else ".pending.sqlite")
    gone = check_nothing_lost(path, trash_dir, before, full)
    assert gone == (SESSIONS if all_gone else 0)
    if step == "written":  # the delete never committed: the pending batch does not read as deleted ...
        store = TrashStore(trash_dir, path)
        client = DBClient(db_path=path)
        try:
            assert store.sessions(client) == [] and len(trash_files(trash_dir)) == 1
            store.delete(client, ["s0001"])  # ... and the next delete, under the write lock, removes it
            assert [s.session_id for s in store.sessions(client)] == ["s0001"] and len(trash_files(trash_dir)) == 1
        finally:
            client.dispose()


def test_kill_9_at_a_random_moment_of_a_1000_session_delete_loses_nothing(tmp_path):
    path = big_history(tmp_path / "big.db")
    full = dump(path)
    before = per_session(path)
    trash_dir = tmp_path / "trash"
    child = run_child(path, trash_dir, None)
    assert child.stdout is not None and child.stdout.readline() == "start\n"
    deadline = time.monotonic() + 60
    while not trash_files(trash_dir) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.001)  # polling for the condition: the batch file is being written
    time.sleep(random.uniform(0, 0.3))  # then a random moment: writing, before the delete, or after
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    check_nothing_lost(path, trash_dir, before, full)


# -- expiry and modes ---------------------------------------------------------------------


def test_expiry_removes_whole_files_older_than_the_given_days(history, tmp_path):
    client, path = history
    now = [datetime(2026, 3, 1, 12, 0)]
    store = TrashStore(tmp_path / "trash", path, clock=lambda: now[0])
    store.delete(client, ["s"])
    now[0] += timedelta(days=10)
    store.delete(client, ["other"])
    (tmp_path / "trash" / "20260301T000000000000Z-dead.tmp").write_bytes(b"half")
    assert store.size()[0] == 2
    now[0] += timedelta(days=21)  # the first delete is 31 days old, the second 21
    assert store.expire(30) == 1
    assert [s.session_id for s in store.sessions(client)] == ["other"]
    assert [name for name in trash_files(tmp_path / "trash") if name.endswith(".tmp")] == []
    assert b"the one" not in b"".join(p.read_bytes() for p in (tmp_path / "trash").iterdir())
    assert b"other one" in b"".join(p.read_bytes() for p in (tmp_path / "trash").iterdir())
    assert store.expire(7) == 1 and trash_files(tmp_path / "trash") == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o000, 0o277])
def test_the_trash_folders_are_0700_and_its_files_0600_whatever_the_umask(history, tmp_path, monkeypatch, umask):
    client, path = history
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    (tmp_path / "data" / "dasshh-history").mkdir(parents=True, mode=0o755)  # made loose by someone: made 0700
    (tmp_path / "data" / "dasshh-history").chmod(0o755)
    old = os.umask(umask)
    try:
        store = TrashStore(default_trash_dir(), path)
        store.delete(client, ["s"])
        store.delete(client, ["other"])
        store.restore(client, store.batches(client)[0].name)  # a rewrite or an unlink
        store.delete(client, ["other", "nodate"])
        batch = store.batches(client)[0]
        store.restore(client, batch.name, [batch.sessions[0].position])  # a file rewritten
    finally:
        os.umask(old)
    folder = tmp_path / "data" / "dasshh-history" / "trash"
    assert default_trash_dir() == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert len(files) == 2 and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_an_error_after_the_commit_keeps_the_batch(history, tmp_path, monkeypatch):
    """Ctrl-C between the commit and the return: the sessions are gone, so their batch must stay."""
    from dasshh_history.data import trash

    client, path = history
    real = trash.delete_sessions

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(trash, "delete_sessions", interrupted)
    store = TrashStore(tmp_path / "trash", path)
    before = dump(path)
    with pytest.raises(KeyboardInterrupt):
        store.delete(client, ["s"])
    monkeypatch.undo()
    assert rows(path, "SELECT count(*) FROM sessions WHERE id = 's'") == [(0,)]
    assert [s.session_id for s in store.sessions(client)] == ["s"]  # the pending batch, settled when read
    assert [name.endswith(".pending.sqlite") for name in trash_files(tmp_path / "trash")] == [False]
    store.restore(client, store.batches(client)[0].name)
    assert dump(path) == before


def test_a_full_disk_while_writing_the_trash_deletes_nothing(history, tmp_path, monkeypatch):
    from dasshh_history.data import trash_file

    client, path = history
    before = dump(path)

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(trash_file, "write_batch", full)
    with pytest.raises(OSError, match="cannot write the trash: database or disk is full"):
        TrashStore(tmp_path / "trash", path).delete(client, ["s", "other"])
    assert dump(path) == before
    assert trash_files(tmp_path / "trash") == []


def test_each_history_sees_its_own_trash(tmp_path):
    one, two = build(tmp_path / "one.db"), build(tmp_path / "two.db")
    clients = [DBClient(db_path=one), DBClient(db_path=two)]
    try:
        stores = [TrashStore(tmp_path / "trash", one), TrashStore(tmp_path / "trash", two)]
        stores[0].delete(clients[0], ["s"])
        stores[1].delete(clients[1], ["other"])
        assert [s.session_id for s in stores[0].sessions(clients[0])] == ["s"]
        assert [s.session_id for s in stores[1].sessions(clients[1])] == ["other"]
        assert stores[0].size()[0] == 2  # the folder's size counts every history's
    finally:
        for client in clients:
            client.dispose()
