"""The demo and benchmark history generators write what dasshh would write."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dasshh_history.data.client import DBClient
from dasshh_history.data.models import StorageEvent
from dasshh_history.data.session import SessionService
from dasshh_history.demo import DEMO_NOW, write_demo, write_large_history


@pytest.fixture
def demo(tmp_path: Path):
    path = write_demo(tmp_path / "demo.db", now=DEMO_NOW)
    client = DBClient(db_path=path)
    yield path, SessionService(client)
    client.dispose()


def _all_events(service: SessionService) -> list[StorageEvent]:
    return [e for s in service.list_sessions() for e in service.get_events(session_id=s.id)]


def _tool_calls(events: list[StorageEvent]) -> list[dict]:
    return [call for e in events if isinstance(e.content, dict) for call in e.content.get("tool_calls") or []]


def _rows(path: Path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        sessions = conn.execute("SELECT rowid, * FROM sessions ORDER BY rowid").fetchall()
        events = conn.execute("SELECT rowid, * FROM events ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return sessions, events


def test_demo_has_twelve_sessions_spread_before_now(demo):
    _, service = demo
    sessions = service.list_sessions()
    assert len(sessions) == 12
    ages = [DEMO_NOW - s.updated_at for s in sessions]
    assert all(age > timedelta(0) for age in ages)
    assert ages[0] <= timedelta(minutes=15)  # the most recent: ~10 minutes ago
    assert any(timedelta(hours=1, minutes=30) <= a <= timedelta(hours=3) for a in ages)
    assert any(timedelta(hours=20) <= a <= timedelta(hours=36) for a in ages)
    assert timedelta(days=50) <= ages[-1] <= timedelta(days=75)
    assert service.get_recent_session().id == sessions[0].id
    for s in sessions:
        assert s.created_at <= s.updated_at
        assert s.created_at.tzinfo is None


def test_title_is_last_user_message(demo):
    _, service = demo
    for s in service.list_sessions():
        users = [e.content["content"] for e in service.get_events(session_id=s.id) if e.content["role"] == "user"]
        assert s.detail == users[-1]
    assert any(s.detail.count("\n") >= 2 and len(s.detail) > 150 for s in service.list_sessions())


def test_demo_contains_every_kind_of_event(demo):
    _, service = demo
    events = _all_events(service)
    roles = {e.content["role"] for e in events}
    assert roles == {"user", "assistant", "tool", "system"}

    replies = [e.content["content"] for e in events if e.content["role"] == "assistant" and e.content.get("content")]
    assert any("\n|" in r and "| --- |" in r for r in replies), "a Markdown table"
    assert any("```bash" in r for r in replies)
    assert any("```python" in r for r in replies)
    assert any("\n## " in r or r.startswith("## ") for r in replies), "a heading"
    assert any("\n- " in r for r in replies), "a bullet list"

    calls = _tool_calls(events)
    assert all(c["id"].startswith("call_") and c["type"] == "function" for c in calls)
    assert {"run_shell_command", "read_file"} <= {c["function"]["name"] for c in calls}
    assert any(len(e.content.get("tool_calls") or []) == 2 for e in events), "two calls in one message"
    assert any(e.content.get("tool_calls") and e.content["content"] is None for e in events)

    arguments = [c["function"]["arguments"] for c in calls]
    assert "" in arguments
    cut = [a for a in arguments if a.startswith('{"path": "/etc/ngi')]
    assert cut
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut[0])
    assert any(json.loads(a) == {"command": "df -h"} for a in arguments if a.startswith("{") and a.endswith("}"))

    results = [e.content for e in events if e.content["role"] == "tool"]
    call_ids = {c["id"] for c in calls}
    for r in results:
        assert isinstance(r["content"], str)
        json.loads(r["content"])  # an indented JSON string
        assert r["content"].startswith(("{\n  ", "[\n  "))
    assert any(len(r["content"]) >= 100_000 for r in results)
    assert any(len(r["content"]) < 1_000 for r in results)
    assert any(r["tool_call_id"] not in call_ids for r in results), "an orphan tool result"
    assert any("error" in json.loads(r["content"]) for r in results), "an error result"


def test_events_are_grouped_by_invocation(demo):
    _, service = demo
    for s in service.list_sessions():
        events = service.get_events(session_id=s.id)
        runs = [e.invocation_id for i, e in enumerate(events) if i == 0 or events[i - 1].invocation_id != e.invocation_id]
        assert len(runs) == len(set(runs)), "an invocation's events are contiguous"
        for invocation in runs:
            roles = [e.content["role"] for e in events if e.invocation_id == invocation]
            assert roles.count("user") <= 1
            if "user" in roles:
                assert roles[-1] == "assistant", "an answered query ends with the reply"


def test_shared_created_at_orders_by_insertion(demo):
    path, service = demo
    _, rows = _rows(path)
    rowids = defaultdict(list)
    for rowid, event_id, _inv, session_id, _created, _content in rows:
        rowids[session_id].append(event_id)
    shared = []
    for s in service.list_sessions():
        events = service.get_events(session_id=s.id)
        assert [e.id for e in events] == rowids[s.id]
        if len({e.created_at for e in events}) == 1 and len({e.invocation_id for e in events}) > 1:
            shared.append(s)
    assert shared, "a session whose invocations all share one created_at"
    assert any(
        len({e.created_at for e in service.get_events(session_id=s.id)}) > 1 for s in service.list_sessions()
    ), "a session continued in a second dasshh run"


def test_stored_text_matches_sqlalchemy(demo, tmp_path: Path):
    path, service = demo
    _, rows = _rows(path)
    demo_text = {event_id: (created, content) for _r, event_id, _i, _s, created, content in rows}

    ref_path = tmp_path / "ref.db"
    client = DBClient(db_path=ref_path)
    ref = SessionService(client)
    target = ref.new_session("reference")
    # One of each kind, including non-ASCII text and the big result.
    samples = {}
    for e in _all_events(service):
        kind = (e.content["role"], bool(e.content.get("tool_calls")), len(json.dumps(e.content)) > 100_000)
        samples.setdefault(kind, e)
    samples.setdefault("unicode", next(e for e in _all_events(service) if "\\u" in demo_text[e.id][1]))
    for e in samples.values():
        ref.add_event(invocation_id=e.invocation_id, session_id=target.id, content=e.content)
    client.dispose()

    _, ref_rows = _rows(ref_path)
    assert [r[5] for r in ref_rows] == [demo_text[e.id][1] for e in samples.values()]
    # Datetimes: same text format as SQLAlchemy (microseconds always present).
    for r in ref_rows:
        datetime.strptime(r[4], "%Y-%m-%d %H:%M:%S.%f")
    for created, _content in demo_text.values():
        assert len(created) == len("2026-03-14 15:09:26.000000")
        datetime.strptime(created, "%Y-%m-%d %H:%M:%S.%f")


def test_demo_is_deterministic(tmp_path: Path):
    a = write_demo(tmp_path / "a.db", now=DEMO_NOW)
    b = write_demo(tmp_path / "b.db", now=DEMO_NOW)
    assert _rows(a) == _rows(b)
    c = write_demo(tmp_path / "c.db", now=DEMO_NOW + timedelta(days=1))
    assert _rows(a) != _rows(c)


def test_demo_default_now_is_current_utc(tmp_path: Path):
    path = write_demo(tmp_path / "now.db")
    client = DBClient(db_path=path)
    try:
        recent = SessionService(client).get_recent_session()
    finally:
        client.dispose()
    from dasshh_history.data.models import utcnow

    assert timedelta(minutes=5) < utcnow() - recent.updated_at < timedelta(minutes=15)


def test_refuses_to_overwrite_existing_history(demo):
    path, _ = demo
    with pytest.raises(FileExistsError):
        write_demo(path, now=DEMO_NOW)


def test_large_history_counts(tmp_path: Path):
    path = write_large_history(
        tmp_path / "large.db", sessions=200, big_session_events=300, big_result_bytes=50_000, now=DEMO_NOW, seed=3
    )
    client = DBClient(db_path=path)
    try:
        service = SessionService(client)
        sessions = service.list_sessions()
        assert len(sessions) == 201
        big = sessions[0]
        assert big.detail.startswith("Large session: ")
        big_events = service.get_events(session_id=big.id)
        assert len(big_events) == 300
        big_results = [e for e in big_events if e.content["role"] == "tool" and len(e.content["content"]) >= 50_000]
        assert len(big_results) == 2  # every 50th query returns the big log
        for s in sessions[1:]:
            events = service.get_events(session_id=s.id)
            assert len(events) == 6
            assert s.detail == [e.content["content"] for e in events if e.content["role"] == "user"][-1]
        oldest, newest = sessions[-1].updated_at, sessions[1].updated_at
        assert timedelta(days=2 * 365) < newest - oldest < timedelta(days=3 * 365 + 2)
        assert newest < big.updated_at < DEMO_NOW
        titles = {s.detail for s in sessions}
        assert len(titles) > 120, "varied text"
    finally:
        client.dispose()
    _, events = _rows(path)
    assert len(events) == 200 * 6 + 300


def test_large_history_is_deterministic_and_seeded(tmp_path: Path):
    def write(name: str, seed: int) -> Path:
        return write_large_history(tmp_path / name, sessions=30, events_per_session=5, now=DEMO_NOW, seed=seed)

    assert _rows(write("a.db", 1)) == _rows(write("b.db", 1))
    assert _rows(write("c.db", 1)) != _rows(write("d.db", 2))
    _, events = _rows(tmp_path / "a.db")
    assert len(events) == 150
