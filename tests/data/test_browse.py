"""HistoryReader: session summaries from SQL, windows of them, and where a session stands."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


def test_windows_cover_the_list_in_order(tmp_path: Path):
    build(tmp_path / "h.db")
    client = DBClient(db_path=tmp_path / "h.db")
    try:
        reader = HistoryReader(client)
        everything = reader.list_summaries()
        assert reader.count_sessions() == len(everything) == 7
        windows = [s for offset in range(0, 7, 3) for s in reader.list_summaries(offset=offset, limit=3)]
        assert [s.id for s in windows] == [s.id for s in everything]
        # Text sorts above dates; ties go to the later insert; NULLs last.
        assert [s.id for s in everything] == ["e", "c", "b", "a", "f", "g", "d"]
        counts = {s.id: s.event_count for s in everything}
        assert counts == {"a": 3, "b": 0, "c": 2, "d": 0, "e": 0, "f": 0, "g": 0}
    finally:
        client.dispose()


def test_rank_is_the_index_in_the_list(tmp_path: Path):
    build(tmp_path / "h.db")
    client = DBClient(db_path=tmp_path / "h.db")
    try:
        reader = HistoryReader(client)
        for index, summary in enumerate(reader.list_summaries()):
            assert reader.rank(session_id=summary.id) == index, summary.id
        assert reader.rank(session_id="missing") is None
    finally:
        client.dispose()
