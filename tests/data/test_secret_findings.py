"""Findings kept in the search cache: only new events are scanned; gone or replaced events are not listed."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from dbutil import dasshh_database

from dasshh_history.data.search import findings as findings_module
from dasshh_history.data.search.findings import SecretFindings

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from test_secrets import AWS, GHP


def user(eid: str, sid: str, text: str) -> tuple:
    return (eid, "i", sid, "2025-01-01 10:00:00", json.dumps({"role": "user", "content": text}))


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return dasshh_database(tmp_path / "history.db",
                           [("s1", "one", "2025-01-01 10:00:00", "2025-01-01 10:00:00"),
                            ("s2", f"two {GHP}", "2025-01-02 10:00:00", "2025-01-02 10:00:00")],
                           [user("e1", "s1", f"key {AWS}"), user("e2", "s1", "nothing"), user("e3", "s2", "x")])


def listed(found) -> list[tuple]:
    return [(f.session_id, f.event_id, f.kind) for f in found.findings()]


def test_only_new_events_are_scanned(history: Path, tmp_path: Path, monkeypatch):
    found = SecretFindings(tmp_path / "cache.db", history)
    try:
        seen: list[tuple[int, int]] = []
        assert found.scan(lambda done, total: seen.append((done, total))) == 3
        assert seen == [(0, 3), (3, 3)]
        assert listed(found) == [("s2", None, "github"), ("s1", "e1", "aws")]
        assert found.scan() == 0
        conn = sqlite3.connect(history)
        with conn:
            conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", user("e4", "s1", "again PASSWORD=hunter2!x"))
        conn.close()
        assert found.scan() == 1
        assert listed(found) == [("s2", None, "github"), ("s1", "e1", "aws"), ("s1", "e4", "password")]
        assert listed(found) == [(f.session_id, f.event_id, f.kind) for f in found.findings({"s1", "s2"})]
        assert [f.event_id for f in found.findings({"s1"})] == ["e1", "e4"]
        # New patterns: everything is scanned again.
        monkeypatch.setattr(findings_module, "PATTERNS_VERSION", "test")
        assert found.scan() == 4
    finally:
        found.close()


def test_events_gone_or_replaced_are_not_listed(history: Path, tmp_path: Path):
    found = SecretFindings(tmp_path / "cache.db", history)
    try:
        found.scan()
        conn = sqlite3.connect(history)
        with conn:  # e1 deleted; the last rowid reused by another event: the scan starts over
            conn.execute("DELETE FROM events WHERE id IN ('e1', 'e3')")
            conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", user("e9", "s2", f"{AWS}"))
        conn.close()
        assert found.scan() == 2
        assert listed(found) == [("s2", None, "github"), ("s2", "e9", "aws")]
    finally:
        found.close()
