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


def test_hostile_rows_are_scanned_and_redacted_without_harm(tmp_path: Path):
    """Every hostile row of the UI tests, and a copy of it holding a token: scanned, redacted, never corrupted."""
    from dasshh_history.data.client import DBClient
    from dasshh_history.data.redact import redact
    from dasshh_history.domain.jsondepth import is_json

    sys.path.insert(0, str(Path(__file__).parents[1] / "ui"))
    from hostile_db import write_hostile

    path = write_hostile(tmp_path / "hostile.db")
    conn = sqlite3.connect(path)
    with conn:
        for rowid, event_id, session_id, content in conn.execute(
                "SELECT rowid, id, session_id, content FROM events ORDER BY rowid").fetchall():
            if isinstance(content, bytes):
                planted: object = content + b" " + GHP.encode()
            elif isinstance(content, str) and '"' in content:
                planted = content.replace('"', f'"{GHP} ', 1)  # inside the first string (a key or a value)
            else:
                planted = f"{GHP} {content}"
            conn.execute("INSERT INTO events VALUES (?, 'inv', ?, '2026-03-01', ?)",
                         (f"{event_id}-planted", session_id, planted))
    before = {row[0]: row for row in conn.execute("SELECT id, typeof(content), content FROM events").fetchall()}
    conn.close()

    found = SecretFindings(tmp_path / "cache.db", path)
    try:
        found.scan()
        findings = found.findings()
    finally:
        found.close()
    planted = {event_id for event_id in before if event_id.endswith("-planted")}
    assert {f.event_id for f in findings} == planted
    client = DBClient(db_path=path)
    try:
        done = redact(client, [f.event_rowid for f in findings], [])
    finally:
        client.dispose()
    assert set(done.event_rowids) == {f.event_rowid for f in findings}
    conn = sqlite3.connect(path)
    after = {row[0]: row for row in conn.execute("SELECT id, typeof(content), content FROM events").fetchall()}
    conn.close()
    assert {k: v for k, v in after.items() if k not in planted} == {k: v for k, v in before.items() if k not in planted}
    for event_id in planted:
        kind, old, new = before[event_id][1], before[event_id][2], after[event_id][2]
        assert after[event_id][1] == kind
        text = new.decode("utf-8", "replace") if isinstance(new, bytes) else new
        assert GHP not in text and "[REDACTED:github]" in text
        old_text = old.decode("utf-8", "replace") if isinstance(old, bytes) else old
        assert is_json(text) == is_json(old_text), event_id
    assert GHP.encode() not in path.read_bytes()
