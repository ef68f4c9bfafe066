"""HistoryReader: session summaries from SQL, windows of them, and where a session stands."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import DASSHH_SCHEMA

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient


def build(path: Path) -> None:
    """Sessions with tied, missing and unparseable updated_at values, and some events."""
    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    sessions = [
        ("a", "tie 1", "2026-01-01 10:00:00.000000", "2026-01-02 10:00:00.000000"),
        ("b", "tie 2", "2026-01-01 10:00:00.000000", "2026-01-02 10:00:00.000000"),
        ("c", "newest", "2026-01-01 10:00:00.000000", "2026-03-01 10:00:00.000000"),
        ("d", "no date", None, None),
        ("e", "bad date", "yesterday", "not a date"),
        ("f", "oldest", "2025-01-01 10:00:00.000000", "2025-01-01 10:00:00.000000"),
        ("g", "no date 2", None, None),
    ]
    conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", sessions)
    events = [(f"e{i}", "inv", "a" if i < 3 else "c", "2026-01-01 10:00:00.000000", '{"role": "user", "content": "x"}')
              for i in range(5)]
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
    conn.commit()
    conn.close()


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[HistoryReader]:
    build(tmp_path / "h.db")
    client = DBClient(db_path=tmp_path / "h.db")
    yield HistoryReader(client)
    client.dispose()


def test_windows_cover_the_list_in_order(reader: HistoryReader):
    everything = reader.list_summaries()
    assert reader.count_sessions() == len(everything) == 7
    windows = [s for offset in range(0, 7, 3) for s in reader.list_summaries(offset=offset, limit=3)]
    assert [s.id for s in windows] == [s.id for s in everything]
    # Text sorts above dates; ties go to the first insert (the one dasshh opens); NULLs last.
    assert [s.id for s in everything] == ["e", "c", "a", "b", "f", "d", "g"]
    counts = {s.id: s.event_count for s in everything}
    assert counts == {"a": 3, "b": 0, "c": 2, "d": 0, "e": 0, "f": 0, "g": 0}


def test_rank_is_the_index_in_the_list(reader: HistoryReader):
    for index, summary in enumerate(reader.list_summaries()):
        assert reader.rank(session_id=summary.id) == index, summary.id
    assert reader.rank(session_id="missing") is None


def test_event_batches_stream_in_get_events_order(tmp_path: Path):
    from dasshh_history.data.session import SessionService
    from dasshh_history.demo import DEMO_NOW, write_large_history

    path = write_large_history(tmp_path / "big.db", sessions=2, big_session_events=250, big_result_bytes=2_000,
                               now=DEMO_NOW)
    client = DBClient(db_path=path)
    try:
        reader, service = HistoryReader(client), SessionService(client)
        big = service.get_recent_session()
        batches = list(reader.iter_event_batches(session_id=big.id, first=10, size=100))
        assert [len(b) for b in batches] == [10, 100, 100, 40]
        streamed = [row for batch in batches for row in batch]
        stored = service.get_events(session_id=big.id)
        assert [(r.id, r.invocation_id, r.created_at, r.content) for r in streamed] == [
            (e.id, e.invocation_id, e.created_at, e.content) for e in stored
        ]
        # Stopping early leaves nothing open: a write goes through at once.
        batches = reader.iter_event_batches(session_id=big.id, first=10)
        next(batches)
        batches.close()
        service.update_session(session_id=big.id, detail="renamed")
        assert service.get_session(session_id=big.id).detail == "renamed"
    finally:
        client.dispose()


def test_get_summary_is_the_listed_summary(reader: HistoryReader):
    for summary in reader.list_summaries():
        assert reader.get_summary(session_id=summary.id) == summary
    assert reader.get_summary(session_id="missing") is None


def test_session_signature_counts_and_tracks_the_newest_event(reader: HistoryReader):
    from sqlalchemy import text

    from dasshh_history.data.session import SessionService

    assert reader.session_signature(session_id="a") == (3, 3)
    assert reader.session_signature(session_id="c") == (2, 5)
    assert reader.session_signature(session_id="b") == (0, None)
    assert reader.session_signature(session_id="missing") == (0, None)
    service = SessionService(reader.db_client)
    service.add_event(invocation_id="i", session_id="a", content={"role": "user", "content": "more"})
    assert reader.session_signature(session_id="a") == (4, 6)
    with reader.db_client.get_db() as db:
        db.execute(text("DELETE FROM events WHERE id = 'e0'"))
        db.commit()
    assert reader.session_signature(session_id="a") == (3, 6)
    assert reader.session_signature(session_id="c") == (2, 5)


def _tool_call_rows(path: Path) -> None:
    """A session "t" whose assistant messages hold tool calls in every shape, and rows that only look like them."""
    import json

    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    conn.execute("INSERT INTO sessions VALUES ('t', 't', NULL, NULL)")
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    contents: list[object] = [
        json.dumps({"role": "user", "content": "mention tool_calls", "tool_calls": [call]}),
        json.dumps({"role": "assistant", "content": None, "tool_calls": [call, dict(call, id="d")]}),
        json.dumps({"role": "tool", "tool_call_id": "c", "content": '{"tool_calls": [1]}'}),
        json.dumps({"role": "assistant", "content": "no calls, says tool_calls"}),
        json.dumps({"role": "assistant", "content": "x", "tool_calls": None}),
        json.dumps({"role": "assistant", "content": "x", "tool_calls": []}),
        json.dumps({"role": "assistant", "content": None, "tool_calls": call}),
        json.dumps({"role": "assistant", "content": None, "tool_calls": "broken"}),
        json.dumps({"role": "assistant", "content": None, "tool_calls": [1, "x", None]}),
        '{"role": "assistant", "tool_calls": [',
        b'{"role": "assistant", "tool_calls": [{}]}',
        '"tool_calls"',
        json.dumps({"role": "assistant", "content": "ü", "tool_calls": [call]}, ensure_ascii=False),
    ]
    conn.executemany("INSERT INTO events VALUES (?, ?, 't', NULL, ?)",
                     [(f"t{i}", f"i{i // 2}", content) for i, content in enumerate(contents)])
    conn.commit()
    conn.close()


def test_count_tool_calls_counts_as_the_parser_numbers_them(tmp_path: Path):
    from dasshh_history.domain.entries import ToolCall
    from dasshh_history.domain.parse import entries_from_event

    _tool_call_rows(tmp_path / "t.db")
    client = DBClient(db_path=tmp_path / "t.db")
    try:
        reader = HistoryReader(client)
        rows = [row for batch in reader.iter_event_batches(session_id="t") for row in batch]
        calls = [sum(isinstance(entry, ToolCall) for entry in entries_from_event(row)) for row in rows]
        assert sum(calls) == 8
        for index, row in enumerate(rows):
            assert reader.count_tool_calls(session_id="t", before_rowid=row.rowid) == sum(calls[:index]), index
        assert reader.count_tool_calls(session_id="t", before_rowid=rows[-1].rowid + 1) == 8
        assert reader.count_tool_calls(session_id="missing", before_rowid=10**9) == 0
    finally:
        client.dispose()


def test_read_tail_is_the_sessions_end_from_an_invocations_start(tmp_path: Path):
    from dasshh_history.data.session import SessionService
    from dasshh_history.demo import DEMO_NOW, write_large_history

    path = write_large_history(tmp_path / "big.db", sessions=2, big_session_events=250, big_result_bytes=2_000,
                               now=DEMO_NOW)
    client = DBClient(db_path=path)
    try:
        reader = HistoryReader(client)
        big = SessionService(client).get_recent_session()
        everything = [row for batch in reader.iter_event_batches(session_id=big.id) for row in batch]
        for at_least in (1, 10, 37, 100, 249):
            tail = reader.read_tail(session_id=big.id, at_least=at_least)
            assert len(tail) >= at_least
            assert tail == everything[-len(tail):]  # the same rows, in the same order
            if len(tail) < len(everything):  # it starts an invocation...
                assert everything[-len(tail) - 1].invocation_id != tail[0].invocation_id
            assert len({row.invocation_id for row in tail[:len(tail) - at_least + 1]}) == 1  # ...the nearest one
        assert reader.read_tail(session_id=big.id, at_least=10_000) == everything
        assert reader.read_tail(session_id="missing", at_least=10) == []
    finally:
        client.dispose()
