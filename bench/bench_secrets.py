"""Benchmark: scanning a history for secrets (first and incremental) and redacting 100 of them.

    python bench/bench_secrets.py HISTORY.db    # alone; bench/bench.py runs it on its large history

The history is copied first (never changed); the scan writes its findings to a
cache file of its own in a temporary directory.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"[:32]


def _plant(db: Path, count: int) -> None:
    """``count`` new events in the first session, each a tool call exporting a (made-up) token of its own."""
    conn = sqlite3.connect(db)
    try:
        (session,) = conn.execute("SELECT id FROM sessions ORDER BY rowid LIMIT 1").fetchone()
        rows = []
        for n in range(count):
            token = f"{GITHUB}{n:04d}"
            content = {"role": "assistant", "content": None, "tool_calls": [{
                "id": f"c{n}", "type": "function", "index": 0, "function": {
                    "name": "run_shell_command", "arguments": json.dumps({"command": f"export GITHUB_TOKEN={token}"})}}]}
            rows.append((str(uuid.uuid4()), "inv", session, "2026-01-01 00:00:00", json.dumps(content)))
        with conn:
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    finally:
        conn.close()


def measure(history: Path) -> dict[str, float]:
    from dasshh_history.data.client import DBClient
    from dasshh_history.services.secrets import SecretsService

    with tempfile.TemporaryDirectory(prefix="dasshh-bench-secrets-") as tmp:
        db = Path(tmp) / "history.db"
        shutil.copyfile(history, db)
        cache = Path(tmp) / "search.db"
        client = DBClient(db_path=db, read_only=True)
        service = SecretsService(client, cache)
        try:
            (events,) = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()
            start = time.perf_counter()
            service.scan()
            first = time.perf_counter() - start
            _plant(db, 100)
            start = time.perf_counter()
            service.scan()
            incremental = time.perf_counter() - start
            start = time.perf_counter()
            findings = service.findings()
            listing = time.perf_counter() - start
            writer = DBClient(db_path=db)
            try:
                start = time.perf_counter()
                done = service.redact(findings, writer)
                redact = time.perf_counter() - start
            finally:
                writer.dispose()
        finally:
            service.close()
            client.dispose()
    return {"events": events, "scan": first, "incremental": incremental, "listing": listing,
            "redact": redact, "redacted": done.secrets}


def report(history: Path) -> None:
    figures = measure(history)
    print(f"secrets ({figures['events']:,} events)")
    print(f"  {'first scan (target <= 30 s)':<48} {figures['scan']:>10.1f} s   "
          f"{'ok' if figures['scan'] <= 30 else 'MISSED'}")
    print(f"  {'scan of 100 new events':<48} {figures['incremental'] * 1000:>10.0f} ms")
    print(f"  {'listing the findings (titles scanned then)':<48} {figures['listing'] * 1000:>10.0f} ms")
    print(f"  {'redact {} secrets (one transaction)'.format(figures['redacted']):<48} "
          f"{figures['redact'] * 1000:>10.0f} ms")


if __name__ == "__main__":
    report(Path(sys.argv[1]))
