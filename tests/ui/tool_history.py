"""A history of agent sessions written as dasshh writes them, for the tool-output tests and snapshots."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

AT = "2026-03-14 12:00:00.000000"
SCHEMA = (
    "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
    "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR REFERENCES sessions(id),"
    " created_at DATETIME, content JSON);"
)

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
DF = (
    "Filesystem      Size  Used Avail Use% Mounted on\n"
    "/dev/nvme0n1p2  468G  402G   43G  91% /\n"
    "tmpfs            16G  1.2G   15G   8% /tmp\n"
)


def call(call_id: str, name: str, arguments: object, index: int = 0) -> dict:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "index": index, "function": {"name": name, "arguments": args}}


def calls(*items: dict) -> dict:
    return {"role": "assistant", "tool_calls": list(items)}


def result(call_id: str, name: str, value: object) -> dict:
    """A tool result exactly as dasshh stores it: the value dumped with indent=2."""
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": json.dumps(value, indent=2)}


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def reply(text: str) -> dict:
    return {"role": "assistant", "content": text}


#: session id: (title, [(invocation id, content), …]) — inserted in this order.
SESSIONS: dict[str, tuple[str, list[tuple[str, dict]]]] = {
    "s-tools": ("What is this machine?", [
        ("i1", {"role": "system", "content": "You are dasshh, a helpful assistant.\nUse tools when you need to."}),
        ("i1", user("What is this machine, and how full is its disk?")),
        ("i1", calls(call("c1", "read_file", {"path": "/etc/os-release"}))),
        ("i1", result("c1", "read_file", OS_RELEASE)),
        ("i1", calls(call("c2", "run_shell_command", {"command": "df -h / /tmp"}))),
        ("i1", result("c2", "run_shell_command", {"exit_code": 0, "stdout": DF, "stderr": ""})),
        ("i1", reply("Debian 12; the root disk is **91% full**.")),
        ("i2", user("And the logs?")),
        ("i2", calls(call("c3", "run_shell_command", {"command": "journalctl -p err -n 5 --no-pager", "timeout": 10}))),
        ("i2", result("c3", "run_shell_command",
                      {"exit_code": 1, "stdout": "", "stderr": "Failed to open journal: Permission denied\n"})),
        ("i2", calls(call("c4", "read_file", '{"path": "/var/lo'))),
        ("i2", result("c4", "read_file", {"error": "Invalid arguments: Unterminated string starting at: line 1 column 10"})),
        ("i2", calls(call("c5", "run_shell_command", {"command": "seq 1 3000"}))),
        ("i2", result("c5", "run_shell_command",
                      {"exit_code": 0, "stdout": "\n".join(str(n) for n in range(1, 3001)) + "\n", "stderr": ""})),
        ("i2", reply("I can't read the journal without root.")),
    ]),
    "s-plain": ("Small talk", [
        ("j1", user("Hello")),
        ("j1", reply("Hi! How can I help?")),
    ]),
}


def write_tool_history(path: Path, sessions: dict = SESSIONS) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    with conn:
        for number, (session_id, (title, events)) in enumerate(sessions.items()):
            updated = f"2026-03-14 12:{59 - number:02d}:00.000000"
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, title, AT, updated))
            conn.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                [(f"{session_id}-e{n}", inv, session_id, AT, json.dumps(content)) for n, (inv, content) in enumerate(events)],
            )
    conn.close()
    return path
