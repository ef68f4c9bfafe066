"""``R``'s write: one session's ``updated_at`` set so that dasshh's ``get_recent_session`` returns it, nothing else."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite as sqlite_dialect

from dasshh_history.data.client import DBClient
from dasshh_history.data.resume import DASSHH_FORMAT, ResumeError, make_recent, stored_text
from dasshh_history.data.session import SessionNotFoundError, SessionService

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dasshh-0.2.0-written.db"
DASSHH_RECENT = "SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 1"  # dasshh's own query


def dump(path: Path) -> dict[tuple[str, int, str], tuple[str, str]]:
    """Every cell of both tables, keyed by (table, rowid, column), as (typeof, hex of its bytes)."""
    cells = {}
    with sqlite3.connect(path) as conn:
        for table in ("sessions", "events"):
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            selected = ", ".join(f"typeof({c}), hex({c})" for c in columns)
            for row in conn.execute(f"SELECT rowid, {selected} FROM {table}"):
                for n, column in enumerate(columns):
                    cells[(table, row[0], column)] = (row[1 + 2 * n], row[2 + 2 * n])
    return cells


def recent_by_dasshh(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute(DASSHH_RECENT).fetchone()[0]


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """A copy of the history the real dasshh 0.2.0 wrote."""
    return Path(shutil.copy(FIXTURE, tmp_path / "dasshh.db"))


def rowid_of(path: Path, session_id: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT rowid FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]


def test_resume_changes_exactly_one_updated_at_and_dasshh_then_opens_that_session(written: Path):
    with sqlite3.connect(written) as conn:
        oldest = conn.execute("SELECT id FROM sessions ORDER BY updated_at ASC LIMIT 1").fetchone()[0]
        latest_before = conn.execute("SELECT max(updated_at) FROM sessions").fetchone()[0]
    assert recent_by_dasshh(written) != oldest
    before = dump(written)
    client = DBClient(db_path=written)
    try:
        resumed = make_recent(client, session_id=oldest)
        assert SessionService(client).get_recent_session().id == oldest
    finally:
        client.dispose()
    after = dump(written)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {("sessions", rowid_of(written, oldest), "updated_at")}
    assert recent_by_dasshh(written) == oldest
    # Stored as dasshh stores it (text, microseconds), later than every other as text and as a date.
    value = resumed.after
    assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", value)
    assert after[("sessions", rowid_of(written, oldest), "updated_at")] == ("text", value.encode().hex().upper())
    assert value > latest_before and datetime.fromisoformat(value) > datetime.fromisoformat(latest_before)
    assert resumed.changed and resumed.before != value


def test_the_text_is_what_sqlalchemy_writes_for_dasshh():
    dialect = sqlite_dialect.dialect()
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)  # what dasshh's models write
    for when in (datetime(2026, 3, 14, 9, 5, 7), datetime(2026, 3, 14, 9, 5, 7, 120),
                 datetime(1999, 12, 31, 23, 59, 59, 999999)):
        assert stored_text(when) == processor(when) == when.strftime(DASSHH_FORMAT)


def make_history(path: Path, updated: list[tuple[str, object]]) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR NOT NULL PRIMARY KEY, detail VARCHAR, created_at DATETIME,"
        " updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR NOT NULL PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR,"
        " created_at DATETIME, content JSON);"
    )
    with conn:
        for session_id, value in updated:
            conn.execute("INSERT INTO sessions VALUES (?, 't', '2026-01-01 00:00:00.000000', ?)", (session_id, value))
    conn.close()
    return path


def resume_at(path: Path, session_id: str, now: datetime):
    client = DBClient(db_path=path)
    try:
        return make_recent(client, session_id=session_id, now=now)
    finally:
        client.dispose()


NOW = datetime(2026, 3, 14, 12, 0, 0)


def test_a_later_updated_at_than_now_is_passed_by_one_microsecond(tmp_path: Path):
    """A clock behind dasshh's (or a session updated "in the future"): just after the latest, not now."""
    path = make_history(tmp_path / "h.db", [("a", "2030-01-01 00:00:00.000000"), ("b", "2026-03-01 00:00:00.000000")])
    assert resume_at(path, "b", NOW).after == "2030-01-01 00:00:00.000001"
    assert recent_by_dasshh(path) == "b"


def test_equal_times_are_no_tie_the_session_is_strictly_later(tmp_path: Path):
    same = NOW.strftime(DASSHH_FORMAT)
    path = make_history(tmp_path / "h.db", [("a", same), ("b", same)])
    assert recent_by_dasshh(path) == "a"  # among equal times SQLite gives the first inserted
    assert resume_at(path, "b", NOW).after == "2026-03-14 12:00:00.000001"
    assert recent_by_dasshh(path) == "b"


def test_odd_values_of_other_sessions(tmp_path: Path):
    """NULL, numbers and dates that do not parse sort below a date; a later text without microseconds is passed."""
    path = make_history(tmp_path / "h.db", [("n", None), ("i", 99999999999), ("x", "not a date"),
                                             ("s", "2026-03-14 12:30:00"), ("b", "2026-03-01 00:00:00.000000")])
    # "not a date" > "2026-..." as text: dasshh opens it; no date can pass it, so nothing is written.
    before = dump(path)
    with pytest.raises(ResumeError, match="not a date"):
        resume_at(path, "b", NOW)
    assert dump(path) == before
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM sessions WHERE id = 'x'")
    assert resume_at(path, "b", NOW).after == "2026-03-14 12:30:00.000001"
    assert recent_by_dasshh(path) == "b"


def test_a_blob_updated_at_sorts_above_any_text_so_nothing_is_written(tmp_path: Path):
    path = make_history(tmp_path / "h.db", [("blob", b"\x00"), ("b", "2026-03-01 00:00:00.000000")])
    before = dump(path)
    with pytest.raises(ResumeError):
        resume_at(path, "b", NOW)
    assert dump(path) == before


def test_the_session_dasshh_opens_already_is_not_written(tmp_path: Path):
    path = make_history(tmp_path / "h.db", [("a", "2026-03-01 00:00:00.000000"), ("b", "2026-02-01 00:00:00.000000")])
    before = dump(path)
    resumed = resume_at(path, "a", NOW)
    assert not resumed.changed and resumed.after == resumed.before == "2026-03-01 00:00:00.000000"
    assert dump(path) == before


def test_an_unknown_session_changes_nothing(tmp_path: Path):
    path = make_history(tmp_path / "h.db", [("a", "2026-03-01 00:00:00.000000")])
    before = dump(path)
    with pytest.raises(SessionNotFoundError):
        resume_at(path, "nope", NOW)
    assert dump(path) == before
