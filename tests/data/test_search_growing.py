"""Answers kept while another process builds the cache: brought up to date with what it indexed, not looked up again."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import dasshh_database

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search import index as index_module
from dasshh_history.data.search.marks import read_marks, session_ranges
from dasshh_history.domain.query import SearchQuery


def user(eid: str, sid: str, text: str) -> tuple:
    return (eid, "inv", sid, "2025-01-01 10:00:00", json.dumps({"role": "user", "content": text}))


def call(eid: str, sid: str, tool: str) -> tuple:
    content = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "index": 0, "function": {"name": tool, "arguments": "{}"}}]}
    return (eid, "inv", sid, "2025-01-01 10:00:00", json.dumps(content))


# Six sessions; s1 is the newest (the list order is updated_at, newest first).
SESSIONS = [(f"s{n}", f"Session {n}", "2025-01-01 10:00:00", f"2025-01-0{7 - n} 10:00:00") for n in range(1, 7)]
FIRST = [user("e1", "s1", "zebra crossing"), user("e2", "s2", "nothing here"), user("e3", "s3", "a zebu"),
         call("c1", "s3", "run_shell_command")]
LATER = [user("e4", "s5", "zebras again"), user("e5", "s6", "the zen of it"), user("e6", "s2", "zeal"),
         call("c2", "s6", "run_shell_command")]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return dasshh_database(tmp_path / "history.db", SESSIONS, FIRST)


@pytest.fixture
def pair(history: Path, tmp_path: Path) -> Iterator[tuple[SearchIndex, SearchIndex]]:
    """The app's index (growing: another process builds) and the builder's, on one cache file."""
    client = DBClient(db_path=history)
    builder = SearchIndex(client, path=tmp_path / "search.db")
    builder.sync()
    app = SearchIndex(client, path=tmp_path / "search.db")
    app.growing = True
    yield app, builder
    app.close()
    builder.close()
    client.dispose()


def found(index: SearchIndex, text: str) -> list[str]:
    return index.search(SearchQuery.parse(text)).session_ids


def add(history: Path, events: list[tuple], *, retitle: str | None = None) -> None:
    conn = sqlite3.connect(history)
    with conn:
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
        if retitle:
            conn.execute("UPDATE sessions SET detail = ?, updated_at = '2025-02-01 10:00:00' WHERE id = 's4'", (retitle,))
    conn.close()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of every lookup of the sessions a term matches: whole, or within ranges of sessions."""
    seen: list[str] = []

    def counting(conn, found_sql, match, top):  # noqa: ANN001
        seen.append(found_sql)
        return read_marks(conn, found_sql, match, top)

    monkeypatch.setattr(index_module, "read_marks", counting)
    return seen


def test_an_answer_kept_during_a_build_gains_the_sessions_indexed_since(pair, history: Path, lookups: list[str]):
    app, builder = pair
    assert found(app, "ze") == ["s1", "s3"]
    assert len(lookups) == 1 and "BETWEEN" not in lookups[0]
    add(history, LATER)
    builder.sync()  # the builder's write: only events added
    assert found(app, "ze") == ["s1", "s2", "s3", "s5", "s6"]
    # brought up to date within the sessions indexed since (s2, s5, s6: two ranges), not looked up whole
    assert len(lookups) == 3 and all("BETWEEN" in sql for sql in lookups[1:])
    assert found(app, "zebra") == ["s1", "s5"]  # a word not asked before: looked up whole
    assert found(app, "ze") == ["s1", "s2", "s3", "s5", "s6"]
    assert len(lookups) == 4  # "ze" again: as kept


def test_a_title_written_during_a_build_makes_every_answer_be_looked_up_again(pair, history: Path, lookups):
    app, builder = pair
    assert found(app, "ze") == ["s1", "s3"]
    add(history, [], retitle="Zeppelin notes")
    builder.sync()
    assert found(app, "ze") == ["s4", "s1", "s3"]  # renamed as dasshh does: the newest
    assert len(lookups) == 2 and "BETWEEN" not in lookups[1]


def test_without_a_build_another_writer_makes_answers_be_looked_up_again(pair, history: Path, lookups):
    app, builder = pair
    app.growing = False
    assert found(app, "ze") == ["s1", "s3"]
    add(history, LATER)
    builder.sync()
    assert found(app, "ze") == ["s1", "s2", "s3", "s5", "s6"]
    assert [("BETWEEN" in sql) for sql in lookups] == [False, False]


def test_the_end_of_a_build_forgets_what_was_kept(pair, history: Path, lookups):
    app, _ = pair
    assert found(app, "ze") == ["s1", "s3"]
    app.growing = False
    assert found(app, "ze") == ["s1", "s3"]
    assert len(lookups) == 2


def test_filters_are_read_again_after_a_build_s_write(pair, history: Path):
    app, builder = pair
    assert found(app, "tool:run_shell_command") == ["s3"]
    assert found(app, "after:2024-01-01 ze") == ["s1", "s3"]
    add(history, LATER)
    builder.sync()
    assert found(app, "tool:run_shell_command") == ["s3", "s6"]
    assert found(app, "after:2024-01-01 ze") == ["s1", "s2", "s3", "s5", "s6"]


@pytest.mark.parametrize(
    ("sessions", "limit", "expected"),
    [
        ([], 4, []),
        ([3, 1, 2, 2], 4, [(1, 3)]),
        ([1, 2, 5, 9, 10], 4, [(1, 2), (5, 5), (9, 10)]),
        ([1, 2, 5, 9, 10], 2, [(1, 5), (9, 10)]),  # the widest gap (5 to 9) is kept
        ([1, 50, 52, 100], 1, [(1, 100)]),
    ],
)
def test_sessions_as_ranges(sessions: list[int], limit: int, expected: list[tuple[int, int]]):
    assert session_ranges(sessions, limit) == expected


def test_read_marks_reads_large_rowids(tmp_path: Path):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (session INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(0,), (5,), (5,), (2_000_000,), (-3,)])
    marks = read_marks(conn, "SELECT session FROM t WHERE session >= ?1", -10, 2_000_000)
    assert len(marks) == 2_000_001
    assert [i for i, mark in enumerate(marks) if mark] == [0, 5, 2_000_000]
    assert read_marks(conn, "SELECT session FROM t WHERE session > ?1", 3_000_000, 0) == b""
