"""The command line: options, the demo database, one-line errors for unusable files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dasshh_history import __version__, cli
from dasshh_history.data import client as client_module
from dasshh_history.data.session import SessionService


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dasshh_history", *args], capture_output=True, text=True, timeout=60
    )


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"dasshh-history {__version__}"


def test_help_names_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--db PATH", "--demo", "--version", "~/.dasshh/db/dasshh.db".replace("~", str(Path.home()))):
        assert option in result.stdout


@pytest.mark.parametrize("kind", ["text", "directory", "corrupt"])
def test_unusable_file_gives_one_line_error_and_exit_1(tmp_path: Path, kind: str):
    path = tmp_path / "history.db"
    if kind == "text":
        path.write_text("just some notes\n")
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"SQLite format 3\x00" + b"\x00\x01" * 3000)
    before = path.read_bytes() if path.is_file() else None
    result = run("--db", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"dasshh-history: cannot open {path}: ")
    assert "Traceback" not in result.stderr
    if before is not None:
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]


def test_db_and_demo_are_exclusive():
    result = run("--db", "x.db", "--demo")
    assert result.returncode == 2
    assert "not allowed with" in result.stderr


@pytest.fixture
def opened(monkeypatch) -> list[dict]:
    """Replace the TUI by a recorder of what it would have shown."""
    seen: list[dict] = []

    def fake_run_app(client) -> None:
        service = SessionService(client)
        seen.append({"path": client.db_path, "sessions": service.list_sessions()})

    monkeypatch.setattr(cli, "run_app", fake_run_app)
    return seen


def test_demo_opens_a_temporary_sample_history(opened, monkeypatch, tmp_path: Path):
    home_db = tmp_path / "home" / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", home_db)
    assert cli.main(["--demo"]) == 0
    (shown,) = opened
    assert len(shown["sessions"]) == 12
    assert not shown["path"].exists(), "the demo database is removed afterwards"
    assert not home_db.exists() and not home_db.parent.exists(), "nothing written to ~/.dasshh"


def test_db_opens_the_given_file(opened, tmp_path: Path):
    from dasshh_history.demo import write_demo

    path = write_demo(tmp_path / "mine.db")
    assert cli.main(["--db", str(path)]) == 0
    assert opened[0]["path"] == path
    assert len(opened[0]["sessions"]) == 12


def test_default_is_the_dasshh_database(opened, monkeypatch, tmp_path: Path):
    home_db = tmp_path / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", home_db)
    assert cli.main([]) == 0
    assert opened[0]["path"] == home_db
    assert opened[0]["sessions"] == []


def test_tilde_in_db_path_is_expanded(opened, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["--db", "~/x/history.db"]) == 0
    assert opened[0]["path"] == tmp_path / "x" / "history.db"
