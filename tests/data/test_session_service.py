"""SessionService: every documented method, with its edge cases, on real SQLite files."""

from __future__ import annotations

import inspect
import time
from datetime import timedelta

import pytest
from dbutil import rows
from sqlalchemy.exc import InvalidRequestError

from dasshh_history.data.client import DBClient
from dasshh_history.data.models import StorageEvent, StorageSession, utcnow
from dasshh_history.data.session import SessionNotFoundError, SessionService


def test_documented_signatures_and_keyword_only_arguments():
    def params(method) -> dict[str, inspect.Parameter]:
        return dict(list(inspect.signature(method).parameters.items())[1:])  # drop self

    keyword_only = inspect.Parameter.KEYWORD_ONLY
    assert list(params(SessionService.__init__)) == ["db_client"]
    new = params(SessionService.new_session)
    assert list(new) == ["detail"] and new["detail"].default == "New Session"
    assert new["detail"].kind is not keyword_only
    listing = params(SessionService.list_sessions)
    assert list(listing) == ["include_events", "offset", "limit"] and listing["include_events"].default is False
    assert listing["include_events"].kind is not keyword_only  # as documented; the window is ours, keyword-only
    assert (listing["offset"].kind, listing["offset"].default) == (keyword_only, 0)
    assert (listing["limit"].kind, listing["limit"].default) == (keyword_only, None)
    assert params(SessionService.get_recent_session) == {}
    for name, expected in {
        "get_session": ["session_id"],
        "get_events": ["session_id"],
        "update_session": ["session_id", "detail"],
        "delete_session": ["session_id"],
        "add_event": ["invocation_id", "session_id", "content"],
    }.items():
        found = params(getattr(SessionService, name))
        assert list(found) == expected, name
        assert all(p.kind is keyword_only for p in found.values()), name
    with pytest.raises(TypeError):
        SessionService.get_session(None, "positional")  # type: ignore[misc]


def test_new_session_is_stored_with_utc_timestamps(service, db_path):
    before = utcnow()
    session = service.new_session("My first chat")
    after = utcnow()
    assert isinstance(session, StorageSession)
    assert session.detail == "My first chat"
    assert before <= session.created_at == session.updated_at <= after
    assert session.created_at.tzinfo is None  # naive, meaning UTC
    stored = rows(db_path, "SELECT id, detail, created_at, updated_at FROM sessions")
    assert stored == [(session.id, "My first chat", str(session.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
                       session.updated_at.strftime("%Y-%m-%d %H:%M:%S.%f"))]
    assert service.new_session().detail == "New Session"


def test_timestamps_are_taken_per_row_not_once_per_run(service):
    first = service.new_session("a")
    time.sleep(0.002)
    second = service.new_session("b")
    assert second.created_at > first.created_at
    service.add_event(invocation_id="i", session_id=first.id, content={"role": "user", "content": "x"})
    time.sleep(0.002)
    service.add_event(invocation_id="i", session_id=first.id, content={"role": "user", "content": "y"})
    a, b = service.get_events(session_id=first.id)
    assert b.created_at > a.created_at > first.created_at


def test_get_session_found_and_missing(service):
    session = service.new_session("x")
    found = service.get_session(session_id=session.id)
    assert (found.id, found.detail) == (session.id, "x")
    assert service.get_session(session_id="no-such-id") is None


def test_objects_stay_usable_after_the_call(service):
    session = service.new_session("detached")
    service.add_event(invocation_id="inv", session_id=session.id, content={"role": "user", "content": "hi"})
    fetched = service.get_session(session_id=session.id)
    events = service.get_events(session_id=session.id)
    recent = service.get_recent_session()
    # No DetachedInstanceError on any column after the database session closed.
    assert (fetched.detail, recent.detail, events[0].content["content"]) == ("detached", "detached", "hi")
    assert events[0].invocation_id == "inv" and events[0].session_id == session.id


def test_list_sessions_loads_events_only_when_asked(service):
    s1 = service.new_session("one")
    for text in ("q", "a"):
        service.add_event(invocation_id="i", session_id=s1.id, content={"role": "user", "content": text})
    service.new_session("empty")
    with_events = {s.detail: s for s in service.list_sessions(include_events=True)}
    assert [e.content["content"] for e in with_events["one"].events] == ["q", "a"]
    assert with_events["empty"].events == []
    without = service.list_sessions()
    assert {s.detail for s in without} == {"one", "empty"}
    with pytest.raises(InvalidRequestError):
        _ = without[0].events  # not loaded, and no lazy query behind our back


def test_list_sessions_newest_first(service, db_path):
    ids = [service.new_session(f"s{i}").id for i in range(3)]
    service.update_session(session_id=ids[0], detail="touched")
    assert [s.id for s in service.list_sessions()] == [ids[0], ids[2], ids[1]]


def test_get_recent_session_is_the_most_recently_updated(service):
    assert service.get_recent_session() is None
    a = service.new_session("a")
    b = service.new_session("b")
    assert service.get_recent_session().id == b.id
    service.update_session(session_id=a.id, detail="a again")
    assert service.get_recent_session().id == a.id


def test_update_session_sets_detail_and_bumps_updated_at(service, db_path):
    session = service.new_session("old")
    time.sleep(0.002)
    service.update_session(session_id=session.id, detail="new")
    fetched = service.get_session(session_id=session.id)
    assert fetched.detail == "new"
    assert fetched.updated_at > session.updated_at
    assert fetched.created_at == session.created_at


def test_update_missing_session_raises_and_writes_nothing(service, db_path):
    service.new_session("keep")
    before = rows(db_path, "SELECT * FROM sessions")
    with pytest.raises(SessionNotFoundError) as caught:
        service.update_session(session_id="ghost", detail="x")
    assert isinstance(caught.value, LookupError)
    assert caught.value.session_id == "ghost"
    assert "ghost" in str(caught.value)
    assert rows(db_path, "SELECT * FROM sessions") == before


def test_add_event_stores_json_text_as_sqlalchemy_does(service, db_path):
    session = service.new_session()
    content = {"role": "user", "content": "Olá — ✓"}
    service.add_event(invocation_id="inv", session_id=session.id, content=content)
    (stored,) = rows(db_path, "SELECT invocation_id, session_id, content FROM events")
    assert stored == ("inv", session.id, '{"role": "user", "content": "Ol\\u00e1 \\u2014 \\u2713"}')
    (event,) = service.get_events(session_id=session.id)
    assert isinstance(event, StorageEvent) and event.content == content


def test_get_events_orders_ties_by_insertion(service, db_path):
    session = service.new_session()
    for number in range(20):
        service.add_event(invocation_id="i", session_id=session.id, content={"n": number})
    # Make every created_at equal, as in a database written by one dasshh run.
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE events SET created_at = '2026-01-01 00:00:00.000000'")
    assert [e.content["n"] for e in service.get_events(session_id=session.id)] == list(range(20))


def test_get_events_of_a_missing_session_is_empty(service):
    assert service.get_events(session_id="nope") == []


def test_delete_session_removes_session_and_all_its_events(service, db_path):
    doomed = service.new_session("doomed")
    kept = service.new_session("kept")
    for session in (doomed, kept):
        for n in range(5):
            service.add_event(invocation_id="i", session_id=session.id, content={"n": n})
    service.delete_session(session_id=doomed.id)
    assert rows(db_path, "SELECT id FROM sessions") == [(kept.id,)]
    assert rows(db_path, "SELECT count(*) FROM events WHERE session_id = ?", doomed.id) == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM events WHERE session_id = ?", kept.id) == [(5,)]


def test_delete_missing_session_is_a_quiet_no_op(service, db_path):
    service.new_session("x")
    before = rows(db_path, "SELECT * FROM sessions")
    service.delete_session(session_id="ghost")
    assert rows(db_path, "SELECT * FROM sessions") == before


def test_delete_does_not_load_events_into_memory(service, client, monkeypatch):
    session = service.new_session()
    service.add_event(invocation_id="i", session_id=session.id, content={"n": 1})
    statements: list[str] = []
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement.strip().split()[0].upper())

    event.listen(client.engine, "before_cursor_execute", record)
    try:
        service.delete_session(session_id=session.id)
    finally:
        event.remove(client.engine, "before_cursor_execute", record)
    assert "SELECT" not in statements
    assert statements.count("DELETE") == 2


def test_delete_is_one_transaction(service, client, db_path):
    """If deleting the session row fails, its events are not deleted either."""
    session = service.new_session()
    service.add_event(invocation_id="i", session_id=session.id, content={"n": 1})
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    with pytest.raises(Exception, match="refused"):
        service.delete_session(session_id=session.id)
    assert rows(db_path, "SELECT count(*) FROM events") == [(1,)]
    assert rows(db_path, "SELECT count(*) FROM sessions") == [(1,)]


def test_get_db_rolls_back_and_closes_on_error(client, db_path):
    with pytest.raises(RuntimeError):
        with client.get_db() as db:
            db.add(StorageSession(id="half", detail="never committed"))
            db.flush()
            raise RuntimeError("boom")
    assert rows(db_path, "SELECT count(*) FROM sessions") == [(0,)]
    assert client.engine.pool.checkedout() == 0


def test_get_db_usage_from_the_docs(client):
    with client.get_db() as db:
        db.add(StorageSession(detail="via get_db"))
        db.commit()
    with client.get_db() as db:
        result = db.query(StorageSession).all()
    assert [s.detail for s in result] == ["via get_db"]
    assert result[0].id and result[0].created_at is not None


def test_service_works_across_clients(db_path):
    """A second client (another process in real life) sees what the first wrote."""
    a, b = DBClient(db_path=db_path), DBClient(db_path=db_path)
    try:
        session = SessionService(a).new_session("shared")
        assert SessionService(b).get_session(session_id=session.id).detail == "shared"
    finally:
        a.dispose()
        b.dispose()


def test_recent_session_tie_broken_by_insertion(service, db_path):
    first = service.new_session("first")
    second = service.new_session("second")
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE sessions SET updated_at = '2026-01-01 00:00:00.000000'")
    # As dasshh's own query answers (no tie-break, no index it can use): the first inserted.
    assert service.get_recent_session().id == first.id
    assert [s.id for s in service.list_sessions()] == [first.id, second.id]
    assert utcnow() - timedelta(days=1) > service.get_recent_session().updated_at


def test_list_sessions_reads_windows_of_the_same_order(service, db_path):
    import sqlite3

    created = [service.new_session(f"s{i}") for i in range(7)]
    with sqlite3.connect(db_path) as conn:  # three tied at the top: the first inserted first, as dasshh opens
        for i, session in enumerate(created):
            stamp = "2026-01-09 00:00:00.000000" if i in (2, 4, 5) else f"2026-01-0{i + 1} 00:00:00.000000"
            conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (stamp, session.id))
    expected = [created[i].id for i in (2, 4, 5, 6, 3, 1, 0)]
    assert [s.id for s in service.list_sessions()] == expected
    windows = [s.id for offset in range(0, 7, 3) for s in service.list_sessions(offset=offset, limit=3)]
    assert windows == expected
    assert [s.id for s in service.list_sessions(True, offset=5)] == expected[5:]
