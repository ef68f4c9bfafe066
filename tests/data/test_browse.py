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
