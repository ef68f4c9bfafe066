"""Writes while dasshh streams: another process inserting all along, our renames, deletes and undos lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dbutil import dasshh_database, rows

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.data.trash import delete_session, restore

T = "2026-03-01 09:30:00.000000"
STREAMED = 400

# dasshh in another terminal: one transaction per message, a new session now and then.
WRITER = r"""
import json, sqlite3, sys, time
path, count = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(path, timeout=30, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 30000")
print("ready", flush=True)
sys.stdin.readline()
for n in range(count):
    conn.execute("BEGIN")
    if n % 50 == 0:
        conn.execute("INSERT INTO sessions VALUES (?, 'streamed', ?, ?)", (f"new-{n}", "2026-03-02", "2026-03-02"))
    conn.execute("INSERT INTO events VALUES (?, 'inv', 'stream', '2026-03-01 09:30:00.000000', ?)",
                 (f"w{n}", json.dumps({"role": "user", "content": f"message {n}"})))
    conn.execute("UPDATE sessions SET detail = ?, updated_at = '2026-03-01 10:00:00' WHERE id = 'stream'", (f"message {n}",))
    conn.execute("COMMIT")
    time.sleep(0.003)
print("done", flush=True)
"""


def history(path: Path) -> Path:
    sessions = [(sid, f"title {sid}", T, T) for sid in ("stream", "target", "other")]
    events = [
        (f"{sid}-{n}", "inv", sid, T, json.dumps({"role": "user", "content": f"{sid} {n}"}))
        for sid in ("target", "other") for n in range(50)
    ]
    return dasshh_database(path, sessions, events)


def snapshot(path: Path, session_id: str) -> list[tuple]:
    return rows(path, "SELECT rowid, * FROM events WHERE session_id = ? ORDER BY rowid", session_id)


def test_rename_delete_and_undo_during_a_stream_of_inserts_lose_nothing(tmp_path: Path):
    path = history(tmp_path / "history.db")
    client = DBClient(db_path=path)
    service = SessionService(client)
    target_before, other_before = snapshot(path, "target"), snapshot(path, "other")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(STREAMED)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        rounds, mid_stream = 0, 0
        while (writer.poll() is None and rounds < 30) or rounds < 3:
            rounds += 1
            mid_stream += 0 < rows(path, "SELECT count(*) FROM events WHERE session_id = 'stream'")[0][0] < STREAMED
            service.update_session(session_id="target", detail=f"renamed {rounds}")
            deleted = delete_session(client, session_id="target")
            other = delete_session(client, session_id="other")
            assert deleted is not None and other is not None
            restore(client, other)
            restore(client, deleted)
        assert writer.wait(60) == 0 and writer.stdout.read().strip() == "done"
    finally:
        writer.kill()
        client.dispose()
    assert mid_stream >= 3, (rounds, mid_stream)  # the writes really were interleaved
    streamed = rows(path, "SELECT id FROM events WHERE session_id = 'stream' ORDER BY rowid")
    assert streamed == [(f"w{n}",) for n in range(STREAMED)]  # every insert landed, in order
    assert rows(path, "SELECT count(*) FROM sessions WHERE id LIKE 'new-%'") == [(STREAMED // 50,)]
    assert rows(path, "SELECT detail FROM sessions WHERE id = 'stream'") == [(f"message {STREAMED - 1}",)]
    # The deleted and restored sessions are back byte for byte, the last rename kept.
    assert snapshot(path, "target") == target_before and snapshot(path, "other") == other_before
    assert rows(path, "SELECT detail FROM sessions WHERE id = 'target'") == [(f"renamed {rounds}",)]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
