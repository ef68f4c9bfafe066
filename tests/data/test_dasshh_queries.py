"""dasshh's own queries answer the same after dasshh-history has opened (and written to) a history.

dasshh 0.2.0 reads its history with three queries, none with a tie-break
(dasshh/data/session.py, through SQLAlchemy's legacy ``Query``):

- ``get_events``: every event of a session, no ORDER BY -- SQLite answers in
  whatever order the plan it picks gives (insertion order without an index);
- ``get_recent_session``: ``ORDER BY updated_at DESC LIMIT 1`` -- the session
  dasshh opens at its start;
- ``list_sessions``: every session, no ORDER BY.

These tests send that SQL verbatim to histories written the way dasshh writes
them (``created_at`` going backwards between two dasshh windows, ``updated_at``
tied between the new sessions of one run), before and after the browser's
indexes exist, and compare the answers row for row, order included.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from dbutil import dasshh_database, digest, rows

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import APP_INDEXES, RETIRED_INDEXES, DBClient
from dasshh_history.data.rename import rename_session
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.session import SessionService
from dasshh_history.data.trash import delete_session, restore
from dasshh_history.domain.query import SearchQuery

FIXTURE = Path(__file__).parent.parent / "fixtures" / "dasshh-0.2.0-written.db"

_SESSION_COLUMNS = (
    "sessions.id AS sessions_id, sessions.detail AS sessions_detail, "
    "sessions.created_at AS sessions_created_at, sessions.updated_at AS sessions_updated_at"
)
#: The statements dasshh 0.2.0 sends, as SQLAlchemy 2 compiles its ORM queries for SQLite.
DASSHH_GET_EVENTS = (
    "SELECT events.id AS events_id, events.invocation_id AS events_invocation_id, "
    "events.session_id AS events_session_id, events.created_at AS events_created_at, "
    "events.content AS events_content \nFROM events \nWHERE events.session_id = ?"
)
DASSHH_GET_RECENT_SESSION = f"SELECT {_SESSION_COLUMNS} \nFROM sessions ORDER BY sessions.updated_at DESC\n LIMIT ? OFFSET ?"
DASSHH_LIST_SESSIONS = f"SELECT {_SESSION_COLUMNS} \nFROM sessions"

# Two dasshh windows on one history: every row a dasshh run writes carries the run's start time.
RUN_A = "2026-11-30 10:00:00.000000"
RUN_B = "2026-11-30 10:00:04.000000"  # started 4 s after A
RUN_C = "2026-11-30 10:05:00.000000"  # a third run that only opened new sessions


def _message(role: str, text: str) -> str:
    return json.dumps({"role": role, "content": text})


def two_windows(path: Path) -> Path:
    """A history as two dasshh windows write it, plus a run whose new sessions tie on updated_at."""
    sessions = [
        ("shared", "and from A again: check it twice", RUN_A, "2026-11-30 10:01:30.000000"),
        ("a-only", "New Session", RUN_A, RUN_A),
        ("b-only", "hello from B", RUN_B, "2026-11-30 10:00:20.000000"),
        # New sessions of one run share updated_at until a message is sent: the newest three tie.
        ("c-first", "New Session", RUN_C, RUN_C),
        ("c-second", "New Session", RUN_C, RUN_C),
        ("c-third", "New Session", RUN_C, RUN_C),
    ]
    events = [
        ("e1", "i1", "shared", RUN_A, _message("user", "first, from A")),
        ("e2", "i1", "shared", RUN_A, _message("assistant", "reply to A")),
        ("b1", "i2", "b-only", RUN_B, _message("user", "hello from B")),
        ("e3", "i3", "shared", RUN_B, _message("user", "then from B: check the disk")),  # B opened the shared session
        ("e4", "i3", "shared", RUN_B, _message("assistant", "reply to B")),
        ("e5", "i4", "shared", RUN_A, _message("user", "and from A again: check it twice")),  # created_at goes backwards
        ("e6", "i4", "shared", RUN_A, _message("assistant", "reply to A again")),
    ]
    return dasshh_database(path, sessions, events)


#: Insertion order of the shared session: what dasshh sends its model, and what we show.
SHARED_IN_ORDER = ["e1", "e2", "e3", "e4", "e5", "e6"]


def dasshh_answers(path: Path) -> dict[str, list[tuple]]:
    """What dasshh's three queries return, in the order returned (read-only: asking changes nothing)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        answers = {
            "list_sessions": conn.execute(DASSHH_LIST_SESSIONS).fetchall(),
            "get_recent_session": conn.execute(DASSHH_GET_RECENT_SESSION, (1, 0)).fetchall(),
        }
        for (session_id,) in conn.execute("SELECT id FROM sessions"):
            answers[f"get_events {session_id}"] = conn.execute(DASSHH_GET_EVENTS, (session_id,)).fetchall()
    finally:
        conn.close()
    return answers


def index_names(path: Path) -> set[str]:
    return {name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_the_statements_are_what_dasshhs_orm_sends():
    """The literal SQL above is what dasshh's models and queries compile to (a replica of dasshh 0.2.0's code)."""
    from sqlalchemy import JSON, Column, DateTime, ForeignKey, String, create_engine
    from sqlalchemy.orm import DeclarativeBase, Session, relationship

    class Base(DeclarativeBase):
        pass

    class StorageSession(Base):
        __tablename__ = "sessions"
        id = Column(String, primary_key=True)
        detail = Column(String)
        created_at = Column(DateTime)
        updated_at = Column(DateTime)
        events = relationship("StorageEvent", back_populates="session")

    class StorageEvent(Base):
        __tablename__ = "events"
        id = Column(String, primary_key=True)
        invocation_id = Column(String)
        session_id = Column(String, ForeignKey("sessions.id"))
        created_at = Column(DateTime)
        content = Column(JSON)
        session = relationship("StorageSession", back_populates="events")

    engine = create_engine("sqlite://")
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(statement))
    Base.metadata.create_all(engine)
    seen.clear()
    with Session(engine) as db:
        db.query(StorageEvent).filter(StorageEvent.session_id == "x").all()
        db.query(StorageSession).order_by(StorageSession.updated_at.desc()).first()
        db.query(StorageSession).all()
    assert seen == [DASSHH_GET_EVENTS, DASSHH_GET_RECENT_SESSION, DASSHH_LIST_SESSIONS]


def test_the_history_is_as_dasshh_writes_it(tmp_path: Path):
    """The oracle's premises: created_at disagrees with insertion order, and the newest updated_at is tied."""
    path = two_windows(tmp_path / "h.db")
    answers = dasshh_answers(path)
    assert [row[0] for row in answers["get_events shared"]] == SHARED_IN_ORDER
    created = [row[3] for row in answers["get_events shared"]]
    assert created != sorted(created)
    assert answers["get_recent_session"][0][0] == "c-first"  # the first inserted of the tie
    assert [row[0] for row in answers["list_sessions"]] == ["shared", "a-only", "b-only", "c-first", "c-second", "c-third"]


@pytest.mark.parametrize("history", ["two windows", "written by dasshh 0.2.0"])
def test_dasshhs_queries_answer_the_same_after_the_browser_opened_the_history(tmp_path: Path, history: str):
    path = tmp_path / "h.db"
    if history == "two windows":
        two_windows(path)
    else:
        shutil.copyfile(FIXTURE, path)
    never_opened = dasshh_answers(path)
    client = DBClient(db_path=path)
    try:
        assert index_names(path) == set(APP_INDEXES)
        assert dasshh_answers(path) == never_opened
        # Our own reads agree with dasshh's on every order it has.
        service = SessionService(client)
        assert service.get_recent_session().id == never_opened["get_recent_session"][0][0]
        for (session_id,) in rows(path, "SELECT id FROM sessions"):
            dasshh_order = [row[0] for row in never_opened[f"get_events {session_id}"]]
            assert [e.id for e in service.get_events(session_id=session_id)] == dasshh_order
            batches = HistoryReader(client).iter_event_batches(session_id=session_id)
            assert [row.id for batch in batches for row in batch] == dasshh_order
    finally:
        client.dispose()


def test_the_previous_versions_indexes_are_replaced_in_one_go(tmp_path: Path):
    path = two_windows(tmp_path / "h.db")
    never_opened = dasshh_answers(path)
    with sqlite3.connect(path) as conn:  # what dasshh-history 0.1.0 left in the history
        conn.execute("CREATE INDEX ix_dasshh_history_events_session ON events (session_id, created_at)")
        conn.execute("CREATE INDEX ix_dasshh_history_sessions_updated ON sessions (updated_at)")
    spoiled = dasshh_answers(path)
    # They changed what dasshh does: the model got the shared session out of order, another session opened.
    assert [row[0] for row in spoiled["get_events shared"]] == ["e1", "e2", "e5", "e6", "e3", "e4"]
    assert spoiled["get_recent_session"][0][0] == "c-third"

    DBClient(db_path=path).dispose()

    assert index_names(path) == set(APP_INDEXES)
    assert not index_names(path) & set(RETIRED_INDEXES)
    assert dasshh_answers(path) == never_opened


def test_a_history_that_cannot_be_written_keeps_its_old_indexes_and_is_still_read_in_order(tmp_path: Path):
    path = two_windows(tmp_path / "h.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE INDEX ix_dasshh_history_events_session ON events (session_id, created_at)")
    before = digest(path)
    client = DBClient(url=f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert client.read_only
        assert [e.id for e in SessionService(client).get_events(session_id="shared")] == SHARED_IN_ORDER
    finally:
        client.dispose()
    assert digest(path) == before


def test_opening_again_writes_nothing(tmp_path: Path):
    path = two_windows(tmp_path / "h.db")
    DBClient(db_path=path).dispose()
    opened = digest(path)
    for _ in range(2):
        DBClient(db_path=path).dispose()
    assert digest(path) == opened


def test_read_only_clients_change_no_byte_and_create_no_index(tmp_path: Path):
    path = tmp_path / "h.db"
    shutil.copyfile(FIXTURE, path)
    before = digest(path)
    client = DBClient(db_path=path, read_only=True)
    try:
        reader = HistoryReader(client)
        summaries = reader.list_summaries()
        assert len(summaries) == 10
        assert sum(len(list(reader.iter_event_batches(session_id=s.id))) for s in summaries) > 0
    finally:
        client.dispose()
    assert digest(path) == before
    assert index_names(path) == set()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.db"], "no journal or other file left behind"


def test_the_browsers_writes_leave_dasshhs_choices_alone(tmp_path: Path):
    """Rename sets the title only; delete and undo put every row back: dasshh answers as before."""
    path = two_windows(tmp_path / "h.db")
    client = DBClient(db_path=path)
    try:
        baseline = dasshh_answers(path)
        rename_session(client, session_id="c-first", detail="Renamed")
        renamed = dasshh_answers(path)
        assert renamed["get_recent_session"] == [("c-first", "Renamed", RUN_C, RUN_C)]
        assert renamed | {"list_sessions": None, "get_recent_session": None} == baseline | {
            "list_sessions": None, "get_recent_session": None}
        rename_session(client, session_id="c-first", detail="New Session")
        for session_id in ("shared", "c-first"):
            deleted = delete_session(client, session_id=session_id)
            restore(client, deleted)
        assert dasshh_answers(path) == baseline
    finally:
        client.dispose()


def test_search_finds_the_first_match_in_insertion_order(tmp_path: Path):
    path = two_windows(tmp_path / "h.db")
    client = DBClient(db_path=path)
    index = SearchIndex(client, path=tmp_path / "search.db")
    try:
        index.sync()
        # "check" is in e3 (created at run B's start) and e5 (at run A's, earlier, inserted later): e3 comes first.
        result = index.search(SearchQuery.parse("check"))
        assert result.session_ids == ["shared"]
        assert index.snippets(result, ["shared"])["shared"] == "then from B: check the disk"
    finally:
        index.close()
        client.dispose()
