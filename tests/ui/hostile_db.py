"""A dasshh database holding every kind of hostile row the browser must survive.

Each row is written with plain ``sqlite3``, the way a buggy or foreign writer
would, so nothing on our side cleans it first.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

T = "2026-03-01 09:30:00.000000"
MARKUP = "[b]bold[/b] [/] [@click=app.quit]quit[/] [link=https://evil.example]x[/link]"
ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ \x9b2J"
CONTROLS = "nul\x00 cr\rreturn bidi\u202eevil\u202c zero\u200bwidth bell\x07 del\x7f"
WIDE = "漢字 🎉 ｗｉｄｅ"
SCHEMA = """
CREATE TABLE sessions (id VARCHAR NOT NULL, detail VARCHAR, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE events (id VARCHAR NOT NULL, invocation_id VARCHAR, session_id VARCHAR, created_at DATETIME,
    content JSON, PRIMARY KEY (id), FOREIGN KEY(session_id) REFERENCES sessions (id));
"""


def _msg(**fields: object) -> str:
    return json.dumps(fields)


def _call(arguments: object, **extra: object) -> dict:
    return {"id": "c1", "type": "function", "index": 0, "function": {"name": "run", "arguments": arguments}, **extra}


# session id -> (detail, created_at, updated_at, [(event id, content column value)])
SESSIONS: dict[str, tuple[object, object, object, list[tuple[str, object]]]] = {
    "shapes": ("Every shape of content", T, "2026-03-01 09:30:06", [
        ("null", None),
        ("string", json.dumps("just a JSON string")),
        ("list", json.dumps([1, "two", {"three": 3}])),
        ("number", "42"),
        ("no-role", _msg(content="a message without a role")),
        ("odd-role", _msg(role="wizard", content="abracadabra")),
        ("multimodal", _msg(role="user", content=[
            {"type": "text", "text": "look at this picture"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ])),
        ("calls-not-list", _msg(role="assistant", content=None, tool_calls="not a list")),
        ("call-no-function", _msg(role="assistant", content=None, tool_calls=[{"id": "c0", "type": "function"}])),
        ("dict-args", _msg(role="assistant", content=None, tool_calls=[_call({"command": "ls"})])),
        ("cut-args", _msg(role="assistant", content=None, tool_calls=[_call('{"command": "ls -la /tm')])),
        ("empty-args", _msg(role="assistant", content=None, tool_calls=[_call("")])),
        ("result-dict", _msg(role="tool", tool_call_id="c1", name="run", content={"exit_code": 0})),
        ("result-text", _msg(role="tool", tool_call_id="c1", name="run", content="plain text output")),
        ("invalid-json", '{"role": "user", "content": "cut off'),
        ("blob", b"\x00\xff\xfe binary"),
        ("deep", "[" * 5000 + "]" * 5000),
        ("deep-args", _msg(role="assistant", content=None, tool_calls=[_call("[" * 5000 + "]" * 5000)])),
        ("deep-result", _msg(role="tool", tool_call_id="c1", name="run", content='{"a":' * 5000 + "1" + "}" * 5000)),
        ("bad-date", _msg(role="assistant", content="written at no time")),
    ]),
    "markup": (f"{MARKUP} title", T, "2026-03-01 09:30:05", [
        ("user-markup", _msg(role="user", content=f"{MARKUP}\n{ESCAPES}\n{CONTROLS}\n{WIDE}")),
        ("reply-markup", _msg(role="assistant", content=f"**bold** {MARKUP}\n\n```\n{ESCAPES}\n```\n{CONTROLS}")),
        ("call-markup", _msg(role="assistant", content=None, tool_calls=[
            {"id": "c9", "type": "function", "index": 0,
             "function": {"name": MARKUP, "arguments": json.dumps({"cmd": ESCAPES + CONTROLS})}}])),
        ("result-markup", _msg(role="tool", tool_call_id="c9", name=MARKUP,
                               content=json.dumps({"stdout": ESCAPES + CONTROLS + WIDE}, indent=2))),
    ]),
    "huge": ("Huge texts", T, "2026-03-01 09:30:04", [
        ("one-mb-line", _msg(role="user", content="x" * 1_000_000)),
        ("many-lines", _msg(role="tool", tool_call_id="c1", name="run", content="\n".join(f"line {n}" for n in range(100_000)))),
        ("after-huge", _msg(role="assistant", content="still here after the huge ones")),
    ]),
    "null-title": (None, None, None, [("plain", _msg(role="user", content="no title, no dates"))]),
    "long-title": (("A very long title " * 600)[:10_000] + "\nsecond line", "yesterday", "not a date", [
        ("plain2", _msg(role="user", content="ten thousand characters of title")),
    ]),
}
#: Events whose dates are not dates.
EVENT_DATES = {"bad-date": None, "plain2": "garbage"}
#: Events whose session does not exist.
ORPHANS = [("orphan", "nowhere", _msg(role="user", content="I belong to no session"))]


def write_hostile(path: Path) -> Path:
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA)
        for session_id, (detail, created, updated, events) in SESSIONS.items():
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, detail, created, updated))
            for event_id, content in events:
                when = EVENT_DATES.get(event_id, T)
                conn.execute("INSERT INTO events VALUES (?, 'inv', ?, ?, ?)", (event_id, session_id, when, content))
        for event_id, session_id, content in ORPHANS:
            conn.execute("INSERT INTO events VALUES (?, 'inv', ?, ?, ?)", (event_id, session_id, T, content))
    conn.close()
    return path
