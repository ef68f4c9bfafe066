"""ChangeWatcher: a cheap check, every second, for commits made by anyone else."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from dasshh_history.data.client import DatabaseUnavailableError, DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.data.trash import delete_session, restore
from dasshh_history.data.watch import ChangeWatcher

DASSHH_WRITES = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
with conn:
    conn.execute("INSERT INTO sessions VALUES ('from-dasshh', 'hello', '2026-01-01 10:00:00', '2026-01-01 10:00:00')")
    conn.execute("INSERT INTO events VALUES ('ev', 'inv', 'from-dasshh', '2026-01-01 10:00:00', '{}')")
conn.close()
"""


@pytest.fixture
def watcher(client: DBClient):
    watcher = ChangeWatcher(client)
    yield watcher
    watcher.close()


def test_first_call_primes_then_no_change_is_false(watcher: ChangeWatcher, service: SessionService):
    service.new_session("before the first look")
    assert watcher.changed() is False
    assert watcher.changed() is False
    assert watcher.changed() is False


def test_commit_from_another_process_is_seen_at_once(watcher: ChangeWatcher, db_path: Path):
    watcher.changed()
    subprocess.run([sys.executable, "-c", DASSHH_WRITES, str(db_path)], check=True)
    assert watcher.changed() is True
    assert watcher.changed() is False


def test_own_engine_writes_are_seen(watcher: ChangeWatcher, client: DBClient, service: SessionService):
    watcher.changed()
    session = service.new_session("mine")
    assert watcher.changed() is True
    service.add_event(invocation_id="i", session_id=session.id, content={"role": "user", "content": "x"})
    assert watcher.changed() is True
    deleted = delete_session(client, session_id=session.id)
    assert watcher.changed() is True
    restore(client, deleted)
    assert watcher.changed() is True
    service.get_events(session_id=session.id)  # reads change nothing
    assert watcher.changed() is False


def test_a_rolled_back_write_is_no_change(watcher: ChangeWatcher, db_path: Path):
    watcher.changed()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO sessions (id) VALUES ('never')")
    conn.rollback()
    conn.close()
    assert watcher.changed() is False


def test_removed_or_replaced_file_is_reported(watcher: ChangeWatcher, db_path: Path, tmp_path: Path):
    watcher.changed()
    other = tmp_path / "other.db"
    DBClient(db_path=other).dispose()
    os.replace(other, db_path)
    with pytest.raises(DatabaseUnavailableError, match="replaced"):
        watcher.changed()
    db_path.unlink()
    with pytest.raises(DatabaseUnavailableError, match="removed"):
        watcher.changed()


def test_no_lock_is_held_between_calls(watcher: ChangeWatcher, db_path: Path):
    for _ in range(2):
        watcher.changed()
        other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # would raise "database is locked" if the watcher held a read
        other.execute("INSERT INTO sessions (id) VALUES (?)", (f"x{_}",))
        other.execute("COMMIT")
        other.close()
    assert watcher.changed() is True


def test_a_writer_holding_the_lock_delays_the_answer_not_the_caller(watcher: ChangeWatcher, db_path: Path):
    watcher.changed()
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO sessions (id) VALUES ('x')")
    started = time.perf_counter()
    assert watcher.changed() is False  # cannot read while the writer commits: no change yet
    assert time.perf_counter() - started < 1.0
    other.execute("COMMIT")
    other.close()
    assert watcher.changed() is True


def test_unreadable_file_is_an_sqlalchemy_error(watcher: ChangeWatcher, db_path: Path):
    watcher.changed()
    watcher.close()
    watcher = ChangeWatcher(watcher.client)
    with db_path.open("r+b") as fh:  # same file, no longer a database
        fh.write(b"garbage" * 100)
    with pytest.raises(SQLAlchemyError):
        watcher.changed()
    watcher.close()


def test_works_from_another_thread(watcher: ChangeWatcher, service: SessionService):
    watcher.changed()
    service.new_session("x")
    answers: list[bool] = []
    thread = threading.Thread(target=lambda: answers.append(watcher.changed()))
    thread.start()
    thread.join()
    assert answers == [True]


def test_client_without_a_file_never_changes():
    client = DBClient(url="sqlite://")
    try:
        watcher = ChangeWatcher(client)
        watcher.changed()
        SessionService(client).new_session("in memory")
        assert watcher.changed() is False
        watcher.close()
    finally:
        client.dispose()


def test_read_only_url_client_is_watched(tmp_path: Path):
    path = tmp_path / "ro.db"
    DBClient(db_path=path).dispose()
    client = DBClient(url=f"sqlite:///file:{path}?mode=ro&uri=true")
    watcher = ChangeWatcher(client)
    try:
        assert watcher.changed() is False
        subprocess.run([sys.executable, "-c", DASSHH_WRITES, str(path)], check=True)
        assert watcher.changed() is True
    finally:
        watcher.close()
        client.dispose()


def test_closed_watcher_answers_false(watcher: ChangeWatcher, service: SessionService):
    watcher.changed()
    watcher.close()
    service.new_session("after close")
    assert watcher.changed() is False
    watcher.close()


def test_a_check_costs_well_under_a_millisecond(watcher: ChangeWatcher):
    watcher.changed()
    calls = 2000
    started = time.perf_counter()
    for _ in range(calls):
        watcher.changed()
    per_call = (time.perf_counter() - started) / calls
    assert per_call < 0.001, f"{per_call * 1e6:.0f} µs per check"
