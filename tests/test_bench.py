"""The benchmark still runs (at a tiny size; its timings are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"


def test_benchmark_runs_at_a_tiny_size(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sessions", "40", "--big-events", "120", "--big-result-bytes", "5000",
         "--repeat", "1", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for figure in ("first paint", "bare Textual app", "onto the 120-event session", "End: jump to the last event",
                   "End on open", "resident memory", "idle", "build the index", "key to filtered list",
                   "typing 'tool:run_shell_command how'", "bulk delete through the trash", "undo: the whole batch",
                   "first stats computation", "S to the stats screen shown"):
        assert figure in out, figure
    assert "40 sessions vs 12" in out
    assert (tmp_path / "large-40-120-5000.db").exists()
