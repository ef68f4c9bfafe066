"""``prune`` and ``restore`` on real files: the dry run changes no byte, --yes goes through the trash and back."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dasshh_history import cli

SCHEMA = """
CREATE TABLE sessions (id VARCHAR NOT NULL, detail VARCHAR, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE events (id VARCHAR NOT NULL, invocation_id VARCHAR, session_id VARCHAR, created_at DATETIME,
    content JSON, PRIMARY KEY (id), FOREIGN KEY(session_id) REFERENCES sessions (id));
"""


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("TZ", "Asia/Kolkata")


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """old1, old2 (2025, about nginx and about cats), empty (2025, no events), new (2026), orphans of "gone"."""
    path = tmp_path / "h.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", [
        ("old1-aaaa", "nginx config", "2025-01-01 10:00:00.000000", "2025-01-02 10:00:00.000000"),
        ("old2-bbbb", "cats", "2025-02-01 10:00:00.000000", "2025-02-02 10:00:00.000000"),
        ("empty-cccc", "nothing said", "2025-03-01 10:00:00.000000", "2025-03-01 10:00:00.000000"),
        ("new-dddd", "nginx again", "2026-05-01 10:00:00.000000", "2026-05-02 10:00:00.000000"),
    ])
    events = [
        ("e1", "i", "old1-aaaa", "2025-01-02 10:00:00.000000", '{"role": "user", "content": "nginx proxy"}'),
        ("o1", "i", "gone", "2025-01-05 10:00:00.000000", '{"role": "user", "content": "orphan"}'),
        ("e2", "i", "old2-bbbb", "2025-02-02 10:00:00.000000", '{"role": "user", "content": "my cat"}'),
        ("e3", "i", "old1-aaaa", "2025-01-02 10:00:01.000000", b"\x00blob\xff"),
        ("e4", "i", "new-dddd", "2026-05-02 10:00:00.000000", '{"role": "user", "content": "nginx again"}'),
        ("o2", "i", "gone", "2025-01-05 10:00:01.000000", '{"role": "assistant", "content": "still here"}'),
    ]
    conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
    conn.commit()
    conn.close()
    return path


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT rowid, typeof(content), hex(content), * FROM {table} ORDER BY rowid"
                                    if table == "events" else f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall()
                for table in ("sessions", "events")}


def ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM sessions ORDER BY rowid")]


def main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_a_dry_run_prints_what_would_go_and_changes_no_byte(history, capsys):
    before = checksum(history)
    status, out, _ = main(capsys, "--db", str(history), "prune", "--before", "2026-01-01", "--orphans")
    assert status == 0
    listed = [line.split()[0] for line in out.splitlines()[1:] if line.split()[0].endswith(("aaaa", "bbbb", "cccc"))]
    assert listed == ["empty-cccc", "old2-bbbb", "old1-aaaa"]  # newest first
    assert "Would delete 3 sessions with 3 messages, and 2 orphan events of 1 session already gone" in out
    assert "Dry run: nothing was changed." in out
    assert main(capsys, "--db", str(history), "prune", "--empty")[1].count("empty-cccc") == 1
    assert "old1-aaaa" in main(capsys, "--db", str(history), "prune", "--match", "nginx", "--before", "2026-01-01")[1]
    assert checksum(history) == before
    assert not (history.parent / "data" / "dasshh-history").exists() and not list(history.parent.glob("h.db-*"))


def test_criteria_are_anded_and_bytes_are_counted(history, capsys):
    _, out, _ = main(capsys, "--db", str(history), "prune", "--match", "nginx", "--before", "2026-01-01")
    assert "Would delete 1 session with 2 messages" in out and "new-dddd" not in out
    _, out, _ = main(capsys, "--db", str(history), "prune", "--empty", "--before", "2026-01-01")
    assert "Would delete 1 session with 0 messages (74 bytes)" in out  # 10 + 12 + 26 + 26: its values as stored
    _, out, _ = main(capsys, "--db", str(history), "prune", "--empty", "--match", "cats")
    assert out.startswith("Nothing to prune")


def test_prune_yes_then_restore_round_trips_byte_for_byte(history, capsys):
    before = dump(history)
    status, out, _ = main(capsys, "--db", str(history), "prune", "--before", "2026-01-01", "--yes")
    assert status == 0 and "Deleted 3 sessions (3 events) into the trash" in out
    assert ids(history) == ["new-dddd"]
    status, out, _ = main(capsys, "--db", str(history), "restore")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()[1:4]] == ["old1-aaaa", "old2-bbbb", "empty-cccc"]
    assert "3 sessions in the trash of this history" in out
    # Short ids, as export takes them; then the rest since a date.
    status, out, _ = main(capsys, "--db", str(history), "restore", "old2")
    assert (status, out) == (0, "Restored 1 session with 1 message.\n")
    status, out, _ = main(capsys, "--db", str(history), "restore", "--all-since", "1d")
    assert (status, out) == (0, "Restored 2 sessions with 2 messages.\n")
    assert dump(history) == before
    assert "0 sessions in the trash" in main(capsys, "--db", str(history), "restore")[1]


def test_orphans_are_removed_only_with_orphans(history, capsys):
    orphan_sql = "SELECT id FROM events WHERE session_id = 'gone' ORDER BY rowid"
    main(capsys, "--db", str(history), "prune", "--before", "2027-01-01", "--yes")
    with sqlite3.connect(history) as conn:
        assert conn.execute(orphan_sql).fetchall() == [("o1",), ("o2",)]
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
    main(capsys, "--db", str(history), "restore", "--all-since", "1d")
    before = dump(history)
    status, out, _ = main(capsys, "--db", str(history), "prune", "--orphans", "--yes")
    assert status == 0 and "Deleted 0 sessions (2 events)" in out
    with sqlite3.connect(history) as conn:
        assert conn.execute(orphan_sql).fetchall() == []
    assert main(capsys, "--db", str(history), "restore", "gone")[0] == 0
    assert dump(history) == before


def test_restore_errors_are_said(history, capsys):
    main(capsys, "--db", str(history), "prune", "--before", "2026-01-01", "--yes")
    status, _, err = main(capsys, "--db", str(history), "restore", "zzz")
    assert status == 1 and "no session with id 'zzz' in the trash" in err
    status, _, err = main(capsys, "--db", str(history), "restore", "o")
    assert status == 1 and "several trashed sessions" in err
    with sqlite3.connect(history) as conn:
        conn.execute("INSERT INTO sessions VALUES ('old1-aaaa', 'again', NULL, NULL)")
    status, _, err = main(capsys, "--db", str(history), "restore", "old1-aaaa")
    assert status == 1 and "exists again" in err
    assert main(capsys, "--db", str(history), "prune")[0] == 1
    status, _, err = main(capsys, "--db", str(history), "prune", "--before", "soon")
    assert status == 1 and "not a date" in err


def test_prune_and_restore_in_a_child_process(history, tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dasshh_history", "--db", str(history), *args],
                              capture_output=True, text=True, env=env, check=False)

    before = dump(history)
    assert run("prune", "--empty", "--yes").returncode == 0
    assert "empty-cccc" not in ids(history)
    assert len(list((tmp_path / "data" / "dasshh-history" / "trash").iterdir())) == 1
    done = run("restore", "empty")
    assert done.returncode == 0, done.stderr
    assert dump(history) == before


def test_a_read_only_history_or_trash_is_an_error_and_changes_nothing(
    history, capsys, make_read_only, tmp_path, monkeypatch
):
    before = dump(history)
    trash = tmp_path / "data" / "dasshh-history" / "trash"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    trash.mkdir(parents=True)
    make_read_only(trash)
    status, _, err = main(capsys, "--db", str(history), "prune", "--empty", "--yes")
    assert status == 1 and "cannot write the trash" in err
    assert dump(history) == before
    make_read_only(history, history.parent)
    status, _, err = main(capsys, "--db", str(history), "prune", "--empty", "--yes")
    assert status == 1 and "nothing was" in err
    assert dump(history) == before
