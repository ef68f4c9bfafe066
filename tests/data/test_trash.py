"""Deleting a session so that it can be undone: the rows come back exactly as they were stored."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import DASSHH_SCHEMA, digest, rows
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.data.trash import (
    DeletedSession,
    RawText,
    RestoreConflictError,
    delete_session,
    restore,
)

T1 = "2026-01-01 10:00:00.000000"
T2 = "2026-01-01 10:00:05.000000"


def dump(path: Path, where: dict[str, str] | None = None) -> dict[str, list[tuple]]:
    """Every row of both tables, every column as (typeof, hex of its bytes), in rowid order."""
    conn = sqlite3.connect(path)
    try:
        result = {}
        for table in ("sessions", "events"):
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            selected = ", ".join(f"typeof({c}), hex({c})" for c in columns)
            condition = f" WHERE {where[table]}" if where and table in where else ""
            result[table] = conn.execute(f"SELECT rowid, {selected} FROM {table}{condition} ORDER BY rowid").fetchall()
        return result
    finally:
        conn.close()


def event_ids(path: Path, session_id: str) -> list[str]:
    """A session's event ids in the app's order (read raw: one content is not UTF-8)."""
    query = "SELECT id FROM events WHERE session_id = ? ORDER BY created_at, rowid"
    return [event_id for (event_id,) in rows(path, query, session_id)]


def build(path: Path) -> Path:
    """Session "s" with every odd kind of stored value, and session "other" whose events interleave with its."""
    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    conn.execute("ALTER TABLE events ADD COLUMN note")  # a column dasshh does not know: kept too
    conn.executemany(
        "INSERT INTO sessions VALUES (?, ?, ?, ?)",
        [("other", "other one", T1, T1), ("s", "the one", T1, T2), ("nodate", None, None, None)],
    )
    insert = "INSERT INTO events (id, invocation_id, session_id, created_at, content, note) VALUES (?, ?, ?, ?, ?, ?)"
    conn.execute(insert, ("o1", "i", "other", T1, '{"role": "user", "content": "hi"}', None))
    conn.execute(insert, ("s1", "i", "s", T2, '{"role": "user", "content": "first at T2"}', "n"))
    conn.execute(insert, ("s2", "i", "s", T1, '{"role": "assistant", "content": "tie 1 at T1"}', 7))
    conn.execute(insert, ("o2", "i", "other", T2, '{"role": "assistant", "content": "hello"}', None))
    conn.execute(insert, ("s3", "i", "s", T1, "{not json", 1.5))
    conn.execute(insert, ("s4", "i", "s", None, b"\x00\x01binary\xff", b"blob note"))
    conn.execute(insert, ("s5", "i", "s", T1, "42", None))  # JSON affinity: stored as an integer
    conn.execute(insert, ("s6", "i", "s", "not a date", "2.5", None))
    conn.execute(insert, ("s7", None, "s", T2, "nul\x00inside", "é ✓"))
    conn.execute(
        "INSERT INTO events (id, invocation_id, session_id, created_at, content) "
        "VALUES ('s8', 'i', 's', ?, CAST(X'7B22C3283A2031FF7D' AS TEXT))",  # text that is not UTF-8
        (T2,),
    )
    conn.execute(insert, ("o3", "i", "other", T2, '{"role": "user", "content": "last"}', None))
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[DBClient, Path]]:
    path = build(tmp_path / "trash.db")
    client = DBClient(db_path=path)
    yield client, path
    client.dispose()


def test_delete_then_restore_leaves_the_database_identical(history):
    client, path = history
    before = dump(path)
    others_before = dump(path, {"sessions": "id != 's'", "events": "session_id != 's'"})

    deleted = delete_session(client, session_id="s")

    assert deleted is not None
    assert rows(path, "SELECT count(*) FROM sessions WHERE id = 's'") == [(0,)]
    assert rows(path, "SELECT count(*) FROM events WHERE session_id = 's'") == [(0,)]
    assert dump(path) == others_before
    restore(client, deleted)
    assert dump(path) == before
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_the_snapshot_holds_the_stored_values(history):
    client, path = history
    deleted = delete_session(client, session_id="s")

    assert isinstance(deleted, DeletedSession)
    assert (deleted.session_id, deleted.title, deleted.event_count) == ("s", "the one", 8)
    assert dict(deleted.session) == {"rowid": 2, "id": "s", "detail": "the one", "created_at": T1, "updated_at": T2}
    # Stored order: insertion (rowid), whatever created_at says (NULL, text, going backwards).
    assert [e["id"] for e in deleted.events] == ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"]
    by_id = {e["id"]: e for e in deleted.events}
    assert by_id["s4"]["content"] == b"\x00\x01binary\xff" and by_id["s4"]["created_at"] is None
    assert by_id["s3"]["content"] == "{not json" and by_id["s3"]["note"] == 1.5
    assert by_id["s5"]["content"] == 42
    assert by_id["s6"]["content"] == 2.5
    assert by_id["s7"]["content"] == "nul\x00inside" and by_id["s7"]["note"] == "é ✓"
    assert by_id["s8"]["content"] == RawText(b'{"\xc3(: 1\xff}')
    assert set(by_id["s1"]) == {"rowid", "id", "invocation_id", "session_id", "created_at", "content", "note"}
    with pytest.raises(TypeError):
        deleted.session["detail"] = "changed"  # type: ignore[index]


def test_title_of_an_undecodable_detail(tmp_path: Path):
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(DASSHH_SCHEMA)
        conn.execute("INSERT INTO sessions VALUES ('x', CAST(X'41FF42' AS TEXT), NULL, NULL)")
    client = DBClient(db_path=path)
    try:
        before = dump(path)
        deleted = delete_session(client, session_id="x")
        assert deleted.title == "A\ufffdB" and deleted.event_count == 0
        restore(client, deleted)
        assert dump(path) == before
    finally:
        client.dispose()


def test_missing_id_returns_none_and_changes_nothing(history):
    client, path = history
    before = digest(path)
    assert delete_session(client, session_id="missing") is None
    assert digest(path) == before


def test_deleting_leaves_other_sessions_events_alone(history):
    client, path = history
    delete_session(client, session_id="other")
    assert rows(path, "SELECT id FROM events ORDER BY rowid") == [
        ("s1",), ("s2",), ("s3",), ("s4",), ("s5",), ("s6",), ("s7",), ("s8",)
    ]


def test_restore_after_other_sessions_were_added(history):
    client, path = history
    service = SessionService(client)
    before = dump(path)
    deleted = delete_session(client, session_id="s")
    # The events of "other" hold the largest rowid, so the new rows take rowids above every deleted one.
    added = service.new_session("added meanwhile")
    service.add_event(invocation_id="i", session_id=added.id, content={"role": "user", "content": "new"})

    restore(client, deleted)

    after = dump(path)
    new_session_rows = [r for r in after["sessions"] if r not in before["sessions"]]
    new_event_rows = [r for r in after["events"] if r not in before["events"]]
    assert len(new_session_rows) == len(new_event_rows) == 1
    assert [r for r in after["sessions"] if r not in new_session_rows] == before["sessions"]
    assert [r for r in after["events"] if r not in new_event_rows] == before["events"]


def test_restore_when_rowids_were_reused_keeps_the_order(history):
    client, path = history
    service = SessionService(client)
    delete_session(client, session_id="other")  # now the events of "s" hold the largest rowids
    order_before = event_ids(path, "s")
    values_before = [r[1:] for r in dump(path)["events"]]
    deleted = delete_session(client, session_id="s")
    ghost = service.new_session("took a rowid")
    for n in range(3):
        service.add_event(invocation_id="i", session_id=ghost.id, content={"n": n})
    reused = {r for (r,) in rows(path, "SELECT rowid FROM events")}
    assert reused & {e["rowid"] for e in deleted.events}

    restore(client, deleted)

    assert event_ids(path, "s") == order_before
    restored = [r[1:] for r in dump(path, {"events": "session_id = 's'"})["events"]]
    assert sorted(restored) == sorted(values_before)  # same values and types, new rowids
    assert service.get_session(session_id="s").detail == "the one"
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_restore_into_an_existing_session_id_is_refused(history):
    client, path = history
    deleted = delete_session(client, session_id="s")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sessions VALUES ('s', 'a new one', NULL, NULL)")
    before = digest(path)
    with pytest.raises(RestoreConflictError, match="'s'"):
        restore(client, deleted)
    assert digest(path) == before
    assert client.engine.pool.checkedout() == 0


def test_a_failing_restore_changes_nothing(history):
    client, path = history
    deleted = delete_session(client, session_id="s")
    with sqlite3.connect(path) as conn:  # an event id taken again: the last insert fails
        conn.execute("INSERT INTO events (id, session_id) VALUES ('s8', 'other')")
    before = digest(path)
    with pytest.raises(IntegrityError):
        restore(client, deleted)
    assert digest(path) == before
    assert rows(path, "SELECT count(*) FROM sessions WHERE id = 's'") == [(0,)]


def test_read_only_database_gives_an_error_and_changes_nothing(history):
    client, path = history
    deleted = delete_session(client, session_id="s")
    client.dispose()
    before = digest(path)
    read_only = DBClient(url=f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with pytest.raises(SQLAlchemyError, match="readonly"):
            delete_session(read_only, session_id="other")
        with pytest.raises(SQLAlchemyError, match="readonly"):
            restore(read_only, deleted)
        assert read_only.engine.pool.checkedout() == 0
    finally:
        read_only.dispose()
    assert digest(path) == before


def test_each_is_one_transaction_begun_immediate(tmp_path: Path):
    """pysqlite emits no BEGIN of its own: the write lock is taken before the snapshot is read."""
    path = build(tmp_path / "t.db")
    client = DBClient(db_path=path)
    client.engine.dispose()
    statements: list[str] = []
    event.listen(client.engine, "connect", lambda conn, _record: conn.set_trace_callback(statements.append))

    def transaction_statements() -> list[str]:
        found = [s for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "END", "ROLLBACK")]
        statements.clear()
        return found

    try:
        deleted = delete_session(client, session_id="s")
        assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
        assert transaction_statements() == ["BEGIN IMMEDIATE", "COMMIT"]
        restore(client, deleted)
        assert statements[0] == "BEGIN IMMEDIATE" and statements[-1] == "COMMIT"
        assert transaction_statements() == ["BEGIN IMMEDIATE", "COMMIT"]
        assert delete_session(client, session_id="missing") is None
        assert transaction_statements() == ["BEGIN IMMEDIATE", "ROLLBACK"]
    finally:
        client.dispose()


def test_a_concurrent_insert_waits_for_the_delete_and_is_not_lost(history):
    """dasshh adding an event while the session is being deleted: the insert waits, then lands."""
    client, path = history
    with sqlite3.connect(path) as conn:  # committed before the delete: part of the snapshot
        conn.execute("INSERT INTO events (id, session_id, created_at, content) VALUES ('early', 's', ?, '')", (T2,))
    writer_done = threading.Event()
    seen: dict[str, object] = {}

    def dasshh_inserts() -> None:
        conn = sqlite3.connect(path, timeout=30)
        with conn:
            conn.execute("INSERT INTO events (id, session_id, created_at, content) VALUES ('late', 's', ?, '')", (T2,))
        conn.close()
        writer_done.set()

    def between_snapshot_and_delete(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("DELETE FROM events") and "thread" not in seen:
            seen["thread"] = thread = threading.Thread(target=dasshh_inserts)
            thread.start()
            time.sleep(0.3)
            seen["waited"] = not writer_done.is_set()
            probe = sqlite3.connect(path, timeout=0)
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                seen["locked"] = "locked" in str(exc)
            probe.close()

    event.listen(client.engine, "before_cursor_execute", between_snapshot_and_delete)
    try:
        deleted = delete_session(client, session_id="s")
    finally:
        event.remove(client.engine, "before_cursor_execute", between_snapshot_and_delete)
    seen["thread"].join(10)  # type: ignore[attr-defined]
    assert seen["waited"] and seen["locked"] and writer_done.is_set()
    assert "early" in [e["id"] for e in deleted.events] and "late" not in [e["id"] for e in deleted.events]
    assert rows(path, "SELECT id FROM events WHERE session_id = 's'") == [("late",)]

    restore(client, deleted)
    ids = event_ids(path, "s")
    assert sorted(ids) == sorted([e["id"] for e in deleted.events] + ["late"])


# -- killed in the middle ----------------------------------------------------------------

BIG_EVENTS = 20_000

CHILD = r"""
import sys, time
from sqlalchemy import event
from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import delete_session, restore

path, operation, pause_on = sys.argv[1], sys.argv[2], sys.argv[3]
client = DBClient(db_path=path)
if pause_on:
    def pause(_conn, _cursor, statement, *_args):
        if statement.startswith(pause_on):
            print("mid", flush=True)
            time.sleep(60)
    event.listen(client.engine, "after_cursor_execute", pause)
deleted = delete_session(client, session_id="big") if operation == "restore" else None
print("go", flush=True)
if operation == "delete":
    delete_session(client, session_id="big")
else:
    restore(client, deleted)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def big_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "template.db"
    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", [("big", "big", T1, T2), ("small", "small", T1, T1)])
    body = "x" * 150
    conn.executemany(
        "INSERT INTO events VALUES (?, 'i', ?, ?, ?)",
        (
            (f"e{n}", "small" if n % 1000 == 999 else "big", T1 if n % 3 else T2, f'{{"n": {n}, "text": "{body}"}}')
            for n in range(BIG_EVENTS * 1000 // 999)
        ),
    )
    conn.commit()
    conn.close()
    DBClient(db_path=path).dispose()  # with the app's indexes, as the child will find it
    return path


def _run_child(path: Path, operation: str, *, delay: float | None = None, pause_on: str = "") -> bool:
    """Run the operation in a child process and SIGKILL it; True if it finished first."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), operation, pause_on],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wanted = "mid" if pause_on else "go"
        for line in child.stdout:  # type: ignore[union-attr]
            if line.strip() == wanted:
                break
        else:
            raise AssertionError("the child ended early")
        if delay:
            time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        rest = child.communicate(timeout=30)[0]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return "done" in rest


def _check_whole(path: Path, template: Path, what: str) -> str:
    assert rows(path, "PRAGMA integrity_check") == [("ok",)], what
    small = {"sessions": "id = 'small'", "events": "session_id = 'small'"}
    assert dump(path, small) == dump(template, small), what
    (sessions,) = rows(path, "SELECT count(*) FROM sessions WHERE id = 'big'")[0]
    (events,) = rows(path, "SELECT count(*) FROM events WHERE session_id = 'big'")[0]
    if sessions == 0:
        assert events == 0, what
        return "absent"
    assert events == BIG_EVENTS, what
    assert rows(path, "SELECT id FROM events WHERE session_id = 'big' ORDER BY created_at, rowid") == rows(
        template, "SELECT id FROM events WHERE session_id = 'big' ORDER BY created_at, rowid"
    ), what
    return "complete"


@pytest.mark.parametrize("operation", ["delete", "restore"])
def test_killed_in_the_middle_leaves_the_session_whole_or_absent(tmp_path: Path, big_template: Path, operation: str):
    # How long the operation takes here, to aim the kills inside it.
    timing = tmp_path / "timing.db"
    shutil.copy(big_template, timing)
    client = DBClient(db_path=timing)
    deleted = delete_session(client, session_id="big")
    if operation == "delete":
        restore(client, deleted)
    started = time.perf_counter()
    if operation == "delete":
        delete_session(client, session_id="big")
    else:
        restore(client, deleted)
    duration = time.perf_counter() - started
    client.dispose()

    # Stopped for certain between two statements of the transaction: nothing of it remains.
    path = tmp_path / "paused.db"
    shutil.copy(big_template, path)
    pause_on = "DELETE FROM events" if operation == "delete" else 'INSERT INTO "events"'
    assert not _run_child(path, operation, pause_on=pause_on)
    assert Path(f"{path}-journal").exists()  # a hot journal: killed inside the write
    expected = "complete" if operation == "delete" else "absent"
    assert _check_whole(path, big_template, f"{operation} paused") == expected

    rng = random.Random()
    for attempt in range(4):
        path = tmp_path / f"run{attempt}.db"
        shutil.copy(big_template, path)
        delay = rng.uniform(0, duration * 1.2)
        finished = _run_child(path, operation, delay=delay)
        outcome = _check_whole(path, big_template, f"{operation} killed after {delay:.3f}s of {duration:.3f}s")
        if finished:
            assert outcome == ("absent" if operation == "delete" else "complete")
