"""A history holding every awkward stored value, and what a JSON export of it must give back."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

_DATA_TESTS = str(Path(__file__).parent / "data")
if _DATA_TESTS not in sys.path:
    sys.path.insert(0, _DATA_TESTS)  # as pytest does for the data-layer tests

from dbutil import dasshh_database, digest, rows  # noqa: E402

from dasshh_history.domain.jsondepth import MAX_JSON_DEPTH  # noqa: E402

__all__ = ["SESSION", "TITLE", "dasshh_database", "depth", "digest", "expected_events", "rows", "stored_json",
           "varied_history", "without_errors"]

SESSION = "s-varied"
TITLE = "Fix the flaky test: é 漢字 [b]x[/b]\nsecond line"
FILLER = 250  # more events than the first batch of HistoryReader.iter_event_batches


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: (created_at, stored content) in insertion order, the only order; created_at goes backwards and ties.
_EVENTS: list[tuple[str | None, object]] = [
    ("2026-03-01 10:00:00.000000", json.dumps({"role": "user", "content": "héllo 漢字 🎉 a\u2028b c\x85d \x1b[31mred"})),
    ("2026-03-01 10:00:00.000000", json.dumps({"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "/etc/ngi'}}]})),
    ("2026-03-01 10:00:00.000000", json.dumps({"role": "tool", "tool_call_id": "c1", "name": "read_file",
                                               "content": json.dumps({"a": {"b": [1, 2.5, None, True, "```"]}})})),
    ("2026-03-01 09:59:00.000000", json.dumps({"role": "user", "content": "earlier, inserted later"})),
    ("2026-03-01 10:00:00.000000", json.dumps({"nested": json.loads(_deep(300))})),
    ("2026-03-01 10:00:00.000000", "{not json"),
    ("2026-03-01 10:00:00.000000", "plain words"),
    ("2026-03-01 10:00:00.000000", '"just a string"'),
    ("2026-03-01 10:00:00.000000", "42"),
    ("2026-03-01 10:00:00.000000", 42),
    ("2026-03-01 10:00:00.000000", None),
    ("2026-03-01 10:00:00.000000", "null"),
    ("2026-03-01 10:00:00.000000", b"\x00\xffbinary"),
    ("2026-03-01 10:00:00.000000", _deep(5000)),
    ("2026-03-01 10:00:00.000000", json.dumps({"role": "assistant", "content": "```python\nunclosed"})),
    ("2026-03-01 10:00:00.000000", json.dumps({"role": "system", "content": "Be concise."})),
    ("2026-03-01 10:00:00.000000", '{"role": "user", "content": "stored without escapes: ü"}'),
    (None, json.dumps({"role": "user", "content": "no time"})),
    ("garbage", json.dumps({"role": "user", "content": "bad time"})),
    *[("2026-03-01 10:05:00.000000", json.dumps({"role": "user", "content": f"filler {i}"})) for i in range(FILLER)],
    ("2026-03-01 10:01:00.000000", json.dumps({"role": "assistant", "content": "**later reply**"})),
]


def varied_history(path: Path) -> Path:
    """Three sessions; ``SESSION`` holds every kind of stored value, out of order and with ties."""
    sessions = [
        (SESSION, TITLE, "2026-03-01 09:59:00.000000", "2026-03-01 11:00:00.000000"),
        ("s-other", "Other", "2026-02-01 10:00:00.000000", "2026-02-01 10:00:00.000000"),
        ("s-empty", None, None, "not a date"),
    ]
    events = [(f"e{i:03d}", f"inv{i // 7}", SESSION, at, content) for i, (at, content) in enumerate(_EVENTS)]
    events.append(("o1", "inv-o", "s-other", "2026-02-01 10:00:00.000000", json.dumps({"role": "user", "content": "x"})))
    return dasshh_database(path, sessions, events)


def _iso(stored: str | None) -> str | None:
    try:
        return datetime.fromisoformat(stored).replace(tzinfo=UTC).isoformat() if stored else None
    except ValueError:
        return None


def depth(value: object) -> int:
    """How many lists/dicts a decoded JSON value has open at most (``[]`` is 1)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((inner, level + 1) for inner in (item.values() if isinstance(item, dict) else item))
    return deepest


def stored_json(stored: str) -> tuple[bool, object]:
    """Whether stored text reads as JSON (valid, at most MAX_JSON_DEPTH levels on every Python), and its value."""
    try:
        value = json.loads(stored)
    except (ValueError, RecursionError):  # 3.11 and 3.12 give up near 1,000 and 1,500 levels, 3.13 near 10,000
        return False, None
    return (True, value) if depth(value) <= MAX_JSON_DEPTH else (False, None)


def _content(stored: object) -> dict:
    if isinstance(stored, bytes):
        return {"content": None, "content_raw": stored.decode("utf-8", "replace")}
    if not isinstance(stored, str):
        return {"content": stored}
    ok, value = stored_json(stored)
    return {"content": value} if ok else {"content": None, "content_raw": stored}


def expected_events(path: Path, session_id: str) -> list[dict]:
    """A session's events as the JSON export must hold them, read with raw SQL (without content_error)."""
    stored = rows(
        path,
        "SELECT id, invocation_id, session_id, created_at, content FROM events WHERE session_id = ?"
        " ORDER BY rowid",
        session_id,
    )
    return [
        {"id": id_, "invocation_id": inv, "session_id": sid, "created_at": _iso(at)} | _content(content)
        for id_, inv, sid, at, content in stored
    ]


def without_errors(events: list[dict]) -> list[dict]:
    """Exported events with ``content_error`` checked (present exactly with ``content_raw``) and dropped."""
    cleaned = []
    for event in events:
        event = dict(event)
        error = event.pop("content_error", None)
        assert (error is not None) == ("content_raw" in event), event
        assert error is None or (isinstance(error, str) and error and "\n" not in error)
        cleaned.append(event)
    return cleaned
