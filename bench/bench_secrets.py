"""Benchmark: scanning a history for secrets (first and incremental), redacting 100 of them, and updating
the search cache after it (and a purge of that cache alone).

    python bench/bench_secrets.py HISTORY.db    # alone; bench/bench.py runs it on its large history

The history is copied first (never changed); the scan writes its findings to a
cache file of its own in a temporary directory: a copy of the history's full
search cache (``HISTORY.search.db``, which bench/bench.py leaves built) when
there is one, so that the redaction updates a cache of its real size (indexed
again, merged, vacuumed), else a cache holding only the findings.
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
    from dasshh_history.data.search.index import SearchIndex
    from dasshh_history.data.search.purge import purge
    from dasshh_history.services.secrets import SecretsService

    with tempfile.TemporaryDirectory(prefix="dasshh-bench-secrets-") as tmp:
        db = Path(tmp) / "history.db"
        shutil.copyfile(history, db)
        cache = Path(tmp) / "search.db"
        full = history.with_suffix(".search.db")
        if full.is_file():
            shutil.copyfile(full, cache)
        client = DBClient(db_path=db, read_only=True)
        service = SecretsService(client, cache)
        try:
            (events,) = sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()
            start = time.perf_counter()
            service.scan()
            first = time.perf_counter() - start
            _plant(db, 100)
            if full.is_file():  # the new events indexed, as the app's search would have
                index = SearchIndex(client, path=cache)
                index.sync()
                (indexed,) = index._conn.execute("SELECT count(*) FROM docs WHERE doc > 0").fetchone()
                index.close()
            else:
                indexed = 0
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
            cache_mb = cache.stat().st_size / 1e6 if cache.exists() else 0.0
            index = SearchIndex(client, path=cache)
            try:
                start = time.perf_counter()
                purge(index)
                purged = time.perf_counter() - start
            finally:
                index.close()
        finally:
            service.close()
            client.dispose()
    return {"events": events, "scan": first, "incremental": incremental, "listing": listing,
            "redact": redact, "redacted": done.secrets, "indexed": indexed, "cache_mb": cache_mb,
            "updated": done.secrets and service.cache_updated, "purge": purged}


def report(history: Path) -> None:
    figures = measure(history)
    print(f"secrets ({figures['events']:,} events)")
    print(f"  {'first scan (target <= 30 s)':<48} {figures['scan']:>10.1f} s   "
          f"{'ok' if figures['scan'] <= 30 else 'MISSED'}")
    print(f"  {'scan of 100 new events':<48} {figures['incremental'] * 1000:>10.0f} ms")
    print(f"  {'listing the findings (titles scanned then)':<48} {figures['listing'] * 1000:>10.0f} ms")
    cache = (f"a full search cache of {figures['indexed']:,} events" if figures["indexed"]
             else "a cache of findings only")
    print(f"  {'redact {} secrets, cache updated'.format(figures['redacted']):<48} "
          f"{figures['redact']:>10.1f} s   ({cache}, {figures['cache_mb']:.0f} MB after; "
          f"{'updated in place' if figures['updated'] else 'discarded'})")
    print(f"  {'purge of that cache alone (trash emptied)':<48} {figures['purge']:>10.1f} s")


if __name__ == "__main__":
    report(Path(sys.argv[1]))
