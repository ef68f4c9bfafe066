"""SQLite's memory statistics, turned off at the start of the process (see ``dasshh_history.data.sqlite_setup``).

Each case runs in a fresh interpreter: the setting is the process's, made once.  Whether SQLite counts its
memory is read from SQLite itself (``sqlite3_memory_used`` with a connection open: 0 when it counts nothing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dasshh-0.2.0-written.db"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only done on Linux")

_PRELUDE = """
import ctypes, json, sqlite3, _sqlite3
library = ctypes.CDLL(_sqlite3.__file__)
library.sqlite3_memory_used.restype = ctypes.c_int64
def counted():
    return library.sqlite3_memory_used()
"""


def run(script: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_turned_off_before_the_first_connection():
    result = run("""
        from dasshh_history.data.sqlite_setup import quiet_memory_statistics
        before = counted()
        quiet = quiet_memory_statistics()
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(2000)])
        rows = conn.execute("SELECT count(*), sum(length(x)) FROM t").fetchone()
        print(json.dumps({"quiet": quiet, "again": quiet_memory_statistics(), "counted": counted(), "rows": rows}))
    """)
    assert result["quiet"] is True and result["again"] is True
    assert result["counted"] == 0  # a connection with rows in memory, and nothing counted
    assert result["rows"][0] == 2000


def test_left_on_while_a_connection_is_open():
    """SQLite is not stopped under an open connection: it goes on working, and counting."""
    result = run("""
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        from dasshh_history.data.sqlite_setup import quiet_memory_statistics
        quiet = quiet_memory_statistics()
        conn.execute("INSERT INTO t VALUES (1)")
        print(json.dumps({"quiet": quiet, "counted": counted(), "rows": conn.execute("SELECT x FROM t").fetchall()}))
    """)
    assert result == {"quiet": False, "counted": result["counted"], "rows": [[1]]}
    assert result["counted"] > 0


def test_the_command_line_turns_them_off(tmp_path: Path):
    """``dasshh-history``'s entry point does it first, before it opens the history."""
    history = Path(shutil.copy(FIXTURE, tmp_path / "history.db"))
    result = run(f"""
        from dasshh_history.cli import main
        code = main(["--db", {str(history)!r}, "list"])
        conn = sqlite3.connect(":memory:")
        print(json.dumps({{"code": code, "counted": counted()}}))
    """)
    assert result == {"code": 0, "counted": 0}
