"""Our pattern set (dasshh_history.domain.secrets) against detect-secrets: accuracy on labelled samples, speed.

Not part of the benchmark run: ``pip install detect-secrets`` in a venv of your own, then
``python bench/compare_detectors.py [HISTORY.db]``.  detect-secrets is not a dependency (README, "Privacy").
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "domain"))

from dasshh_history.data.search.extract import searchable_text
from dasshh_history.domain.secrets import find_secrets


def detect_secrets_scanner():
    # As ``detect-secrets scan`` reads a file: every default plugin and its false-positive filters, line by line.
    from detect_secrets.core.scan import _process_line_based_plugins
    from detect_secrets.settings import default_settings

    def scan(text: str) -> list[str]:
        with default_settings():
            lines = list(enumerate(text.splitlines() or [text], 1))
            return [s.secret_value for s in _process_line_based_plugins(lines, "history.txt") if s.secret_value]
    return scan


def ours(text: str) -> list[str]:
    return [s.value for s in find_secrets(text)]


def accuracy(name, scan) -> None:
    from test_secrets import NEAR_MISSES, POSITIVE

    found = missed = 0
    for text, expected in POSITIVE:
        got = scan(text)
        for _kind, value in expected:
            if any(value in g or g in value for g in got):
                found += 1
            else:
                missed += 1
    false = sum(1 for text in NEAR_MISSES if scan(text))
    print(f"{name:15} secrets found {found}/{found + missed}; near misses flagged {false}/{len(NEAR_MISSES)}")


def history_texts(path: Path, limit: int) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT content FROM events WHERE typeof(content) = 'text' LIMIT ?", (limit,)).fetchall()
    finally:
        conn.close()
    return [searchable_text(row[0]) for row in rows]


def speed(name, scan, texts: list[str]) -> None:
    start = time.perf_counter()
    flagged = sum(1 for text in texts if scan(text))
    elapsed = time.perf_counter() - start
    print(f"{name:15} {len(texts):,} events in {elapsed:.2f} s ({elapsed / len(texts) * 1e6:.0f} µs each); "
          f"{flagged} flagged (the history holds no secret)")


def main() -> None:
    scanners = [("ours", ours)]
    try:
        scanners.append(("detect-secrets", detect_secrets_scanner()))
    except ImportError:
        print("detect-secrets is not installed: ours only")
    for name, scan in scanners:
        accuracy(name, scan)
    import tempfile

    from dasshh_history.demo import write_demo

    with tempfile.TemporaryDirectory() as tmp:  # the demo: realistic agent text (code, logs, configs), no secret
        demo = history_texts(write_demo(Path(tmp) / "demo.db"), 100_000)
    for name, scan in scanners:
        flagged = [v for text in demo for v in scan(text)]
        print(f"{name:15} demo history ({len(demo)} events, no secret): {len(flagged)} flagged {flagged[:6]}")
    if len(sys.argv) > 1:
        texts = history_texts(Path(sys.argv[1]), 20_000)
        for name, scan in scanners:
            speed(name, scan, texts)


if __name__ == "__main__":
    main()
