"""The command line: options, the demo database, one-line errors for unusable files, list and export."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from exportutil import (
    SESSION,
    TITLE,
    dasshh_database,
    digest,
    expected_events,
    rows,
    varied_history,
    without_errors,
)

from dasshh_history import __version__, cli
from dasshh_history.data import client as client_module
from dasshh_history.data.session import SessionService


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dasshh_history", *args], capture_output=True, text=True, timeout=60
    )


def run_in_terminal(*args: str) -> subprocess.CompletedProcess[str]:
    """Like :func:`run`, with standard input and output on a terminal (a pty), as the browser needs."""
    master, slave = pty.openpty()
    try:
        return subprocess.run(
            [sys.executable, "-m", "dasshh_history", *args],
            stdin=slave, stdout=slave, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(slave)
        os.close(master)


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
    result = run_in_terminal("--db", str(path))
    assert result.returncode == 1
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

    def fake_run_app(client, search_path=None, history=None, config=None, trash_dir=None) -> None:
        service = SessionService(client)
        seen.append({"path": client.db_path, "sessions": service.list_sessions(), "search_path": search_path,
                     "history": history})

    monkeypatch.setattr(cli, "run_app", fake_run_app)
    monkeypatch.setattr(cli, "has_terminal", lambda: True)
    return seen


def test_demo_opens_a_temporary_sample_history(opened, monkeypatch, tmp_path: Path):
    home_db = tmp_path / "home" / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", home_db)
    assert cli.main(["--demo"]) == 0
    (shown,) = opened
    assert len(shown["sessions"]) == 12
    assert not shown["path"].exists(), "the demo database is removed afterwards"
    assert shown["search_path"].parent == shown["path"].parent, "its search index too"
    assert not home_db.exists() and not home_db.parent.exists(), "nothing written to ~/.dasshh"


def test_db_opens_the_given_file(opened, tmp_path: Path):
    from dasshh_history.demo import write_demo

    path = write_demo(tmp_path / "mine.db")
    assert cli.main(["--db", str(path)]) == 0
    assert opened[0]["path"] == path
    assert len(opened[0]["sessions"]) == 12


def test_default_is_the_dasshh_database(opened, monkeypatch, tmp_path: Path):
    from dasshh_history.demo import write_demo

    home_db = tmp_path / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", home_db)
    home_db.parent.mkdir(parents=True)
    write_demo(home_db)
    assert cli.main([]) == 0
    assert opened[0]["path"] == opened[0]["history"] == home_db
    assert len(opened[0]["sessions"]) == 12


def test_no_history_yet_opens_empty_and_creates_nothing(opened, monkeypatch, tmp_path: Path):
    home_db = tmp_path / ".dasshh" / "db" / "dasshh.db"
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", home_db)
    assert cli.main([]) == 0
    assert opened[0]["history"] == home_db  # named in the empty state
    assert opened[0]["sessions"] == []
    assert list(tmp_path.iterdir()) == [], "no file or folder is created"


def test_tilde_in_db_path_is_expanded(opened, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["--db", "~/x/history.db"]) == 0
    assert opened[0]["history"] == tmp_path / "x" / "history.db"
    assert not (tmp_path / "x").exists()


# -- list and export -------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return varied_history(tmp_path / "history.db")


def stored_rows(path: Path) -> list[list[tuple]]:
    return [rows(path, f"SELECT rowid, * FROM {table} ORDER BY rowid") for table in ("sessions", "events")]


def test_list_prints_a_table_newest_first(history: Path):
    result = run("--db", str(history), "list")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "UPDATED", "EVENTS", "TITLE"]
    # An unparseable updated_at sorts first, as in the app's list.
    assert [line.split()[0] for line in lines] == ["s-empty", SESSION, "s-other"]
    assert lines[0].split()[1:] == ["unknown", "time", "0", "(untitled)"]
    assert lines[2].split()[3:] == ["1", "Other"]
    title_column = header.index("TITLE")
    assert lines[1][title_column:] == " ".join(TITLE.split())[: len(lines[1]) - title_column - 1] + "…"
    assert len({line.index(line.split()[1]) for line in lines}) == 1, "columns are aligned"


def test_list_json_and_limit(history: Path, capsys):
    assert cli.main(["--db", str(history), "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[1] == {
        "id": SESSION, "detail": TITLE, "created_at": "2026-03-01T09:59:00+00:00",
        "updated_at": "2026-03-01T11:00:00+00:00", "event_count": len(expected_events(history, SESSION)),
    }
    assert listed[0] == {"id": "s-empty", "detail": None, "created_at": None, "updated_at": None, "event_count": 0}
    assert cli.main(["list", "--limit", "1", "--json", "--db", str(history)]) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)] == ["s-empty"]
    assert cli.main(["--db", str(history), "list", "--json", "--limit", "0"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["--db", str(history), "list", "--limit", "0"]) == 0
    assert capsys.readouterr().out.split() == ["ID", "UPDATED", "EVENTS", "TITLE"]


@pytest.mark.parametrize("limit", ["-1", "two", ""])
def test_list_limit_must_be_a_whole_number(history: Path, limit: str):
    result = run("--db", str(history), "list", "--limit", limit)
    assert result.returncode == 2
    assert "--limit" in result.stderr and "Traceback" not in result.stderr


def test_list_on_the_demo_and_options_after_the_command(capsys):
    assert cli.main(["--demo", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 12
    assert cli.main(["list", "--demo", "--json", "--limit", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_db_and_demo_are_exclusive_around_the_command(history: Path):
    for args in (["--db", str(history), "list", "--demo"], ["list", "--db", str(history), "--demo"]):
        result = run(*args)
        assert result.returncode == 2
        assert "not allowed with" in result.stderr


def test_export_json_via_the_command_gives_back_the_stored_contents(history: Path):
    result = run("--db", str(history), "export", SESSION, "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert without_errors(document["events"]) == expected_events(history, SESSION)
    assert (document["id"], document["detail"]) == (SESSION, TITLE)


def test_export_markdown_to_stdout_and_to_a_file(history: Path, tmp_path: Path, capsys):
    result = run("export", SESSION, "--db", str(history))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Fix the flaky test: é 漢字 \\[b\\]x\\[/b\\] second line\n\n- Session: `s-varied`\n")
    assert "### You" in result.stdout and "\x1b" not in result.stdout
    out = tmp_path / "out.json"
    out.write_text("old contents, replaced")
    assert cli.main(["--db", str(history), "export", SESSION, "--format", "json", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert without_errors(json.loads(out.read_text(encoding="utf-8"))["events"]) == expected_events(history, SESSION)
    assert cli.main(["--db", str(history), "export", "s-other", "--output", str(tmp_path / "o.md")]) == 0
    assert (tmp_path / "o.md").read_text(encoding="utf-8").startswith("# Other\n")


@pytest.mark.parametrize("extra", [[], ["--format", "json"], ["-o", "out.md"]])
def test_export_of_an_unknown_id_is_a_one_line_error(history: Path, tmp_path: Path, extra: list[str]):
    (tmp_path / "out.md").write_text("keep me")
    result = subprocess.run(
        [sys.executable, "-m", "dasshh_history", "--db", str(history), "export", "no such\nid", *extra],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "dasshh-history: no session with id 'no such\\nid'\n"
    assert (tmp_path / "out.md").read_text() == "keep me"


def test_export_refuses_to_write_over_the_database(history: Path):
    before = stored_rows(history)
    result = run("--db", str(history), "export", SESSION, "-o", str(history))
    assert result.returncode == 1
    assert result.stderr == f"dasshh-history: refusing to write the export over the database {history}\n"
    assert stored_rows(history) == before


def test_list_and_export_never_change_the_database(history: Path, capsys):
    """Not a byte, not even the browser's indexes: a history never opened by the browser stays that way."""
    before = digest(history)
    assert run("--db", str(history), "list").returncode == 0
    for args in (["list", "--json"], ["export", SESSION], ["export", SESSION, "--format", "json"], ["export", "nope"],
                 ["export", "s-"]):
        cli.main(["--db", str(history), *args])
    assert run("--db", str(history), "export", SESSION, "--format", "json").returncode == 0
    assert digest(history) == before
    assert rows(history, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL") == []
    assert sorted(p.name for p in history.parent.iterdir()) == ["history.db"]


def test_list_and_export_read_a_file_that_cannot_be_written(history: Path, make_read_only):
    make_read_only(history, history.parent)
    listed = run("--db", str(history), "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {s["id"] for s in json.loads(listed.stdout)} == {SESSION, "s-other", "s-empty"}
    exported = run("--db", str(history), "export", "s-v")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("# Fix the flaky test")


# -- short ids -------------------------------------------------------------------


@pytest.fixture
def prefixed(tmp_path: Path) -> Path:
    """Sessions whose ids share prefixes, as uuids sometimes do."""
    sessions = [(f"ab{i:02d}cdef-0000", f"title {i}", "2026-01-01 10:00:00", "2026-01-01 10:00:00") for i in range(12)]
    sessions.append(("abff0001-1111", "the unique one", "2026-01-02 10:00:00", "2026-01-02 10:00:00"))
    sessions.append(("abff0001", "an id that is another's prefix", "2026-01-02 10:00:00", "2026-01-02 10:00:00"))
    return dasshh_database(tmp_path / "ids.db", sessions, [])


def test_export_takes_a_unique_prefix_of_an_id(prefixed: Path, capsys):
    assert cli.main(["--db", str(prefixed), "export", "ab03", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "ab03cdef-0000"
    assert cli.main(["--db", str(prefixed), "export", "abff0001-", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "abff0001-1111"
    # A whole id wins over the longer ids it starts.
    assert cli.main(["--db", str(prefixed), "export", "abff0001", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "abff0001"


def test_an_ambiguous_prefix_lists_at_most_ten_candidates(prefixed: Path):
    result = run("--db", str(prefixed), "export", "ab0")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "dasshh-history: 'ab0' starts the ids of several sessions; give more of the id:",
        *(f"  ab{i:02d}cdef-0000  title {i}" for i in range(10)),
    ]
    result = run("--db", str(prefixed), "export", "ab")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "dasshh-history: 'ab' starts the ids of several sessions; the first 10; give more of the id:"
    assert len(lines) == 11
    result = run("--db", str(prefixed), "export", "zz")
    assert (result.returncode, result.stderr) == (1, "dasshh-history: no session with id 'zz'\n")


# -- no terminal -------------------------------------------------------------------


@pytest.mark.parametrize("stdin", ["devnull", "pipe"])
@pytest.mark.parametrize("args", [[], ["--demo"]])
def test_the_browser_without_a_terminal_exits_at_once_pointing_to_list_and_export(history: Path, stdin: str, args):
    before = digest(history)
    result = _run_without_terminal(args or ["--db", str(history)], stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "dasshh-history: the browser needs a terminal (its input or output is redirected); "
        "for scripts use 'dasshh-history list', 'dasshh-history search QUERY' and 'dasshh-history export SESSION_ID'\n"
    )
    assert digest(history) == before


def _run_without_terminal(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dasshh_history", *args],
        stdin=subprocess.DEVNULL if stdin == "devnull" else None,
        input="" if stdin == "pipe" else None,
        capture_output=True, text=True, timeout=30,
    )


@pytest.mark.parametrize("redirected", ["output", "error"])
def test_the_browser_with_only_one_stream_redirected_exits_too(history: Path, tmp_path: Path, redirected: str):
    """Input on a terminal is not enough: Textual reads keys there but draws on standard error."""
    master, slave = pty.openpty()
    log = tmp_path / "log"
    try:
        with log.open("w") as captured:
            result = subprocess.run(
                [sys.executable, "-m", "dasshh_history", "--db", str(history)], stdin=slave,
                stdout=captured if redirected == "output" else slave, stderr=captured, timeout=30,
            )
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 2
    assert "needs a terminal" in log.read_text()


@pytest.mark.parametrize("command", ["list", "export"])
def test_an_unusable_file_is_a_one_line_error(tmp_path: Path, command: str):
    text = tmp_path / "notes.db"
    text.write_text("just notes\n")
    result = run("--db", str(text), command, *(["some-id"] if command == "export" else []))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"dasshh-history: cannot open {text}: not an SQLite database\n"
    assert text.read_text() == "just notes\n"


@pytest.mark.parametrize("kind", ["missing", "empty file"])
def test_no_history_yet_lists_nothing_and_exports_nothing(tmp_path: Path, kind: str):
    path = tmp_path / "nope" / "history.db"
    if kind == "empty file":
        path.parent.mkdir()
        path.write_bytes(b"")
    hint = (f"dasshh-history: there is no history yet at {path} (dasshh writes it at your first conversation); "
            "'dasshh-history --demo' opens a sample one\n")
    listed = run("--db", str(path), "list")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "", hint)
    as_json = run("--db", str(path), "list", "--json")
    assert (as_json.returncode, as_json.stdout, as_json.stderr) == (0, "[]\n", hint)
    exported = run("--db", str(path), "export", "some-id")
    assert (exported.returncode, exported.stdout) == (1, "")
    assert exported.stderr == f"dasshh-history: no session with id 'some-id' (there is no history yet at {path})\n"
    if kind == "missing":
        assert not path.parent.exists(), "a read never creates a database"
    else:
        assert path.read_bytes() == b""


def test_default_history_missing_is_no_history_yet(tmp_path: Path):
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "dasshh_history", "list", "--json"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert (result.returncode, result.stdout) == (0, "[]\n")
    assert f"no history yet at {tmp_path}/.dasshh/db/dasshh.db" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["export", "BIG", "--format", "json"]])
def test_a_closed_pipe_stops_quietly(tmp_path: Path, args: list[str]):
    from dasshh_history.demo import write_large_history

    path = write_large_history(tmp_path / "big.db", sessions=3000, big_session_events=40, big_result_bytes=100_000)
    if "BIG" in args:
        args = [a if a != "BIG" else rows(path, "SELECT id FROM sessions WHERE detail LIKE 'Large%'")[0][0] for a in args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dasshh_history", "--db", str(path), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert process.stdout.read(10)
    process.stdout.close()  # like `| head -c 10`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 1
    assert stderr == ""


def test_command_help():
    for command, options in (("list", ["--json", "--limit N", "--db PATH", "--demo"]),
                             ("export", ["SESSION_ID", "--format {md,json}", "-o FILE", "--db PATH"])):
        result = run(command, "--help")
        assert result.returncode == 0
        for option in options:
            assert option in result.stdout, (command, option)
