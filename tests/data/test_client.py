"""DBClient: default location, schema, databases dasshh wrote, bad files, read-only files."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from dbutil import DASSHH_SCHEMA, dasshh_database, digest, rows
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

from dasshh_history.data import client as client_module
from dasshh_history.data.client import (
    DEFAULT_DB_PATH,
    Base,
    DatabaseOpenError,
    DatabaseUnavailableError,
    DBClient,
)
from dasshh_history.data.models import BrokenValue, StorageEvent, StorageSession
from dasshh_history.data.session import SessionService

T0 = "2026-03-01 09:30:00.123456"  # one dasshh run: every row shares this created_at
T1 = "2026-03-02 18:00:00.000000"


def test_default_database_is_under_home(monkeypatch, tmp_path: Path):
    assert DEFAULT_DB_PATH == Path.home() / ".dasshh" / "db" / "dasshh.db"
    target = tmp_path / "home" / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", target)
    client = DBClient()
    try:
        assert client.db_path == target
        assert target.is_file()  # directories and file created, as dasshh does
        assert {"sessions", "events"} <= {r[0] for r in rows(target, "SELECT name FROM sqlite_master")}
    finally:
        client.dispose()


def test_documented_attributes(client, db_path):
    assert issubclass(Base, DeclarativeBase)
    assert issubclass(StorageSession, Base) and issubclass(StorageEvent, Base)
    assert client.db_path == db_path
    assert client.engine is not None
    with client.DatabaseSessionFactory() as db:
        assert db.query(StorageSession).count() == 0


def test_schema_matches_the_documented_tables(client, db_path):
    def columns(table: str) -> list[tuple[str, str, int]]:
        return [(r[1], r[2], r[5]) for r in rows(db_path, f"PRAGMA table_info({table})")]

    assert columns("sessions") == [
        ("id", "VARCHAR", 1), ("detail", "VARCHAR", 0), ("created_at", "DATETIME", 0), ("updated_at", "DATETIME", 0)
    ]
    assert columns("events") == [
        ("id", "VARCHAR", 1), ("invocation_id", "VARCHAR", 0), ("session_id", "VARCHAR", 0),
        ("created_at", "DATETIME", 0), ("content", "JSON", 0),
    ]
    assert rows(db_path, "PRAGMA foreign_key_list(events)")[0][2:5] == ("sessions", "session_id", "id")


def test_our_database_is_readable_with_dasshh_schema_expectations(service, db_path):
    """What we write has the same shape as what dasshh writes (so dasshh can read it)."""
    session = service.new_session("ours")
    service.add_event(invocation_id="inv", session_id=session.id, content={"role": "user", "content": "hi"})
    ((created, content),) = rows(db_path, "SELECT created_at, content FROM events")
    datetime.strptime(created, "%Y-%m-%d %H:%M:%S.%f")
    assert json.loads(content) == {"role": "user", "content": "hi"}


def _dasshh_rows() -> tuple[list[tuple], list[tuple]]:
    sessions = [
        ("s-old", "Show me disk usage", T0, T0),
        ("s-new", "line one\nline two of a long question", T1, T1),
    ]
    user = {"role": "user", "content": "Show me disk usage"}
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "index": 0,
             "function": {"name": "run_shell_command", "arguments": '{"command": "df -h"}'}},
            {"id": "call_2", "type": "function", "index": 1,
             "function": {"name": "read_file", "arguments": '{"path": "/etc/ngi'}},  # cut off mid-stream
            {"id": "call_3", "type": "function", "index": 2, "function": {"name": "read_file", "arguments": ""}},
        ],
    }
    result = {"role": "tool", "tool_call_id": "call_1", "name": "run_shell_command",
              "content": json.dumps({"exit_code": 0, "stdout": "/dev/sda1 91%"}, indent=2)}
    reply = {"role": "assistant", "content": "Your disk is **91%** full."}
    events = [
        (f"e{n}", "inv-1", "s-old", T0, json.dumps(c)) for n, c in enumerate([user, call, result, reply])
    ]
    events.insert(2, ("e9", "inv-1", "s-old", T0, json.dumps({"role": "user", "content": "ordering by rowid"})))
    events.append(("e5", "inv-2", "s-new", T1, json.dumps({"role": "user", "content": "line one\nline two"})))
    return sessions, events


def test_database_written_by_dasshh_opens_lists_orders_and_is_unchanged(tmp_path: Path):
    sessions, events = _dasshh_rows()
    path = dasshh_database(tmp_path / "dasshh.db", sessions, events)
    dump_before = rows(path, "SELECT rowid, * FROM events ORDER BY rowid") + rows(path, "SELECT rowid, * FROM sessions")
    client = DBClient(db_path=path)
    try:
        service = SessionService(client)
        listed = service.list_sessions(include_events=True)
        assert [s.id for s in listed] == ["s-new", "s-old"]
        assert service.get_recent_session().id == "s-new"
        old = service.get_events(session_id="s-old")
        # Every created_at ties: the order is the insertion order, not the id order.
        assert [e.id for e in old] == ["e0", "e1", "e9", "e2", "e3"]
        assert [e.id for e in listed[1].events] == ["e0", "e1", "e9", "e2", "e3"]
        assert old[1].content["tool_calls"][1]["function"]["arguments"] == '{"path": "/etc/ngi'
        assert old[0].created_at == datetime(2026, 3, 1, 9, 30, 0, 123456)
        assert listed[0].detail == "line one\nline two of a long question"
    finally:
        client.dispose()
    dump_after = rows(path, "SELECT rowid, * FROM events ORDER BY rowid") + rows(path, "SELECT rowid, * FROM sessions")
    assert dump_after == dump_before  # byte-identical rows
    # Only our own indexes were added to the schema.
    added = {r[0] for r in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert added == {"ix_dasshh_history_events_by_session", "ix_dasshh_history_sessions_recent"}


def test_reading_never_writes(tmp_path: Path):
    sessions, events = _dasshh_rows()
    path = dasshh_database(tmp_path / "dasshh.db", sessions, events)
    DBClient(db_path=path).dispose()  # the first open may add indexes
    before = digest(path)
    client = DBClient(db_path=path)
    try:
        service = SessionService(client)
        service.list_sessions(include_events=True)
        for s in service.list_sessions():
            service.get_events(session_id=s.id)
        service.get_recent_session()
        service.get_session(session_id="s-old")
    finally:
        client.dispose()
    assert digest(path) == before


def test_malformed_rows_do_not_hide_the_others(tmp_path: Path):
    path = dasshh_database(
        tmp_path / "bad.db",
        [("good", "fine", T0, T0), ("bad-date", "bad date", "yesterday-ish", None), ("null", None, None, None)],
        [
            ("e1", "i", "good", T0, json.dumps({"role": "user", "content": "ok"})),
            ("e2", "i", "good", T0, '{"role": "user", "content": "cut'),
            ("e3", "i", "good", "not a date", json.dumps({"role": "assistant", "content": "still here"})),
            ("e4", "i", "good", T0, None),
            ("e5", "i", "good", T0, 42),
        ],
    )
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO events VALUES ('e6', 'i', 'good', ?, ?)", (T0, b"\x00\xffbinary"))
    client = DBClient(db_path=path)
    try:
        service = SessionService(client)
        listed = {s.id: s for s in service.list_sessions(include_events=True)}
        assert set(listed) == {"good", "bad-date", "null"}
        assert listed["bad-date"].created_at is None and listed["bad-date"].updated_at is None
        assert listed["null"].detail is None
        events = {e.id: e for e in service.get_events(session_id="good")}
        assert set(events) == {"e1", "e2", "e3", "e4", "e5", "e6"}
        assert events["e1"].content == {"role": "user", "content": "ok"}
        assert isinstance(events["e2"].content, BrokenValue)
        assert events["e2"].content.raw == '{"role": "user", "content": "cut'
        assert "JSON" in events["e2"].content.error
        assert events["e3"].created_at is None and events["e3"].content["content"] == "still here"
        assert events["e4"].content is None
        assert events["e5"].content == 42
        assert isinstance(events["e6"].content, BrokenValue) and "binary" in events["e6"].content.error
    finally:
        client.dispose()


def test_text_that_is_not_utf8_is_read_with_replacement_characters_everywhere(tmp_path: Path):
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.data.search import SearchIndex
    from dasshh_history.domain.query import SearchQuery

    path = dasshh_database(tmp_path / "latin1.db", [("s1", "ok", T0, T0)], [
        ("e1", "i", "s1", T0, json.dumps({"role": "user", "content": "before"})),
    ])
    with sqlite3.connect(path) as conn:  # Latin-1 bytes stored as TEXT, as a foreign writer might
        conn.execute("INSERT INTO sessions VALUES ('s2', CAST(X'436166E9' AS TEXT), ?, ?)", (T0, T0))
        content = json.dumps({"role": "user", "content": "caf\u00e9 au lait"}).replace("\\u00e9", "\xe9").encode("latin-1")
        conn.execute("INSERT INTO events VALUES ('e2', 'i', 's2', ?, CAST(? AS TEXT))", (T0, content))
        conn.execute("INSERT INTO events VALUES ('e3', 'i', 's2', ?, ?)", (T0, json.dumps({"role": "user", "content": "after"})))
        assert conn.execute("SELECT typeof(content) FROM events WHERE id = 'e2'").fetchone() == ("text",)
    DBClient(db_path=path).dispose()  # the first open adds the browser's indexes
    before = digest(path)
    client = DBClient(db_path=path)
    try:
        service = SessionService(client)
        assert {s.id: s.detail for s in service.list_sessions()} == {"s1": "ok", "s2": "Caf\ufffd"}
        events = service.get_events(session_id="s2")
        assert [e.id for e in events] == ["e2", "e3"]
        assert events[0].content == {"role": "user", "content": "caf\ufffd au lait"}
        reader = HistoryReader(client)
        assert [s.detail for s in reader.list_summaries()] == ["ok", "Caf\ufffd"]  # tied: first inserted first
        batches = [row.id for batch in reader.iter_event_batches(session_id="s2") for row in batch]
        assert batches == ["e2", "e3"]
        index = SearchIndex(client, path=tmp_path / "search.db")
        index.sync()
        assert index.search(SearchQuery.parse("lait ")).session_ids == ["s2"]
        assert index.search(SearchQuery.parse("after ")).session_ids == ["s2"]
        index.close()
    finally:
        client.dispose()
    assert digest(path) == before


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b"hello, not a database\n" * 10), "not an SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 600), "corrupt"),
        (lambda p: p.mkdir(), "directory"),
    ],
    ids=["text-file", "corrupt", "directory"],
)
def test_unusable_files_are_refused_and_left_untouched(tmp_path: Path, make, reason):
    path = tmp_path / "target.db"
    make(path)
    before = (digest(path), path.stat().st_mtime_ns) if path.is_file() else sorted(os.listdir(path))
    with pytest.raises(DatabaseOpenError) as caught:
        DBClient(db_path=path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and reason in message
    after = (digest(path), path.stat().st_mtime_ns) if path.is_file() else sorted(os.listdir(path))
    assert after == before
    assert sorted(os.listdir(tmp_path)) == ["target.db"]  # no journal or WAL left behind


def test_another_applications_database_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    before = digest(path)
    with pytest.raises(DatabaseOpenError, match="not a dasshh database"):
        DBClient(db_path=path)
    assert digest(path) == before


@pytest.mark.parametrize("keep", [100, 4096 + 100, 0.5])
def test_truncated_database_is_refused_untouched(tmp_path: Path, keep):
    events = [(f"e{n}", "i", "s", T0, json.dumps({"role": "user", "content": "x" * 500})) for n in range(200)]
    path = dasshh_database(tmp_path / "full.db", [("s", "t", T0, T0)], events)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    before = digest(truncated)
    with pytest.raises(DatabaseOpenError, match="corrupt") as caught:
        DBClient(db_path=truncated)
    assert str(truncated) in str(caught.value) and "\n" not in str(caught.value)
    assert digest(truncated) == before


def test_empty_file_becomes_a_new_database(tmp_path: Path):
    path = tmp_path / "empty.db"
    path.touch()
    client = DBClient(db_path=path)
    try:
        assert SessionService(client).list_sessions() == []
    finally:
        client.dispose()


def test_missing_parent_directories_are_created(tmp_path: Path):
    path = tmp_path / "a" / "b" / "history.db"
    client = DBClient(db_path=path)
    client.dispose()
    assert path.is_file()


def test_parent_that_is_a_file_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(DatabaseOpenError) as caught:
        DBClient(db_path=blocker / "history.db")
    assert "\n" not in str(caught.value)
    assert blocker.read_text() == "x"


def test_read_only_file_is_browsable(tmp_path: Path, make_read_only):
    sessions, events = _dasshh_rows()
    path = dasshh_database(tmp_path / "ro.db", sessions, events)
    before = digest(path)
    make_read_only(path, tmp_path)
    client = DBClient(db_path=path)
    try:
        assert client.read_only
        service = SessionService(client)
        assert len(service.get_events(session_id="s-old")) == 5
        with pytest.raises(SQLAlchemyError):
            service.update_session(session_id="s-old", detail="not allowed")
    finally:
        client.dispose()
    assert digest(path) == before


def test_read_only_url_is_browsable_and_writes_fail(tmp_path: Path):
    sessions, events = _dasshh_rows()
    path = dasshh_database(tmp_path / "ro.db", sessions, events)
    before = digest(path)
    client = DBClient(url=f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert client.db_path == path
        assert client.read_only  # the indexes could not be created, and that is fine
        service = SessionService(client)
        assert [s.id for s in service.list_sessions()] == ["s-new", "s-old"]
        with pytest.raises(Exception, match="readonly|read-only|read only"):
            service.update_session(session_id="s-old", detail="x")
    finally:
        client.dispose()
    assert digest(path) == before


def test_in_memory_url():
    client = DBClient(url="sqlite://")
    try:
        service = SessionService(client)
        session = service.new_session("memory")
        assert service.get_recent_session().id == session.id
    finally:
        client.dispose()


def test_path_and_url_together_are_refused(tmp_path: Path):
    with pytest.raises(ValueError):
        DBClient(db_path=tmp_path / "a.db", url="sqlite://")


def test_schema_text_of_dasshh_is_accepted_as_is(tmp_path: Path):
    path = tmp_path / "schema-only.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(DASSHH_SCHEMA)
    schema_before = rows(path, "SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    DBClient(db_path=path).dispose()
    assert rows(path, "SELECT sql FROM sqlite_master WHERE type = 'table' ORDER BY name") == schema_before


def test_uri_url_creates_nothing_beside_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "new.db"
    DBClient(url=f"sqlite:///file:{path}?uri=true").dispose()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.db"]


def test_removed_file_is_reported_not_written_to(service, client, db_path):
    session = service.new_session("before")
    db_path.unlink()
    with pytest.raises(DatabaseUnavailableError, match="was removed"):
        service.update_session(session_id=session.id, detail="lost")
    with pytest.raises(DatabaseUnavailableError):
        service.list_sessions()


def test_replaced_file_is_reported(service, client, db_path, tmp_path: Path):
    service.new_session("original")
    other = tmp_path / "other.db"
    DBClient(db_path=other).dispose()
    os.replace(other, db_path)
    with pytest.raises(DatabaseUnavailableError, match="replaced"):
        service.get_recent_session()
