"""``dasshh-history search``: the search syntax from scripts, against what SQL says of the history."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from exportutil import dasshh_database, digest, rows

from dasshh_history import cli
from dasshh_history.demo import DEMO_NOW, write_demo

#: Sessions calling run_shell_command, and those with a failed result, in the demo (its shapes only).
CALLS_SHELL = (
    "s.id IN (SELECT e.session_id FROM events e, json_each(e.content, '$.tool_calls') c "
    "WHERE json_extract(c.value, '$.function.name') = 'run_shell_command')"
)
FAILED = (
    "s.id IN (SELECT e.session_id FROM events e WHERE json_extract(e.content, '$.role') = 'tool' AND ("
    "json_extract(json_extract(e.content, '$.content'), '$.exit_code') != 0 "
    "OR json_extract(json_extract(e.content, '$.content'), '$.error') IS NOT NULL))"
)
#: Each session's fields as ``list --json`` gives them, its message count and its last activity (SQL's own).
RECORDS = (
    "SELECT s.id, s.detail, s.created_at, s.updated_at, (SELECT count(*) FROM events e WHERE e.session_id = s.id), "
    "(SELECT max(x) FROM (SELECT s.updated_at AS x UNION ALL SELECT created_at FROM events e "
    "WHERE e.session_id = s.id)) FROM sessions s WHERE {} ORDER BY coalesce(s.updated_at, NULL) DESC, s.rowid"
)


def iso(stored: str | None) -> str | None:
    return datetime.fromisoformat(stored).replace(tzinfo=UTC).isoformat() if stored else None


def expected(history: Path, where: str) -> list[dict]:
    return [
        {"id": sid, "detail": detail, "created_at": iso(created), "updated_at": iso(updated),
         "last_active": iso(last), "event_count": count}
        for sid, detail, created, updated, count, last in rows(history, RECORDS.format(where))
    ]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the search cache goes (never the user's own cache directory)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_demo(tmp_path / "history" / "demo.db", now=DEMO_NOW)


def run(*args: str, cache: Path, tz: str = "UTC") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TZ": tz}
    return subprocess.run([sys.executable, "-m", "dasshh_history", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def search_json(capsys, *args: str) -> list[dict]:
    assert cli.main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def without_snippets(records: list[dict]) -> list[dict]:
    return [{key: value for key, value in record.items() if key != "snippet"} for record in records]


def test_search_prints_a_line_per_matching_session(demo: Path, cache: Path):
    result = run("--db", str(demo), "search", "tool:run_shell_command", cache=cache)
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["ID", "LAST", "ACTIVE", "EVENTS", "TITLE", "MATCH"]
    wanted = expected(demo, CALLS_SHELL)
    assert 1 < len(lines) == len(wanted)
    for line, record in zip(lines, wanted):
        sid, day, time, count = line.split()[:4]
        assert sid == record["id"]
        assert f"{day} {time}" == record["last_active"][:16].replace("T", " ")  # in local time: UTC here
        assert int(count) == record["event_count"]
        assert line[header.index("TITLE"):].startswith(record["detail"][:20])
        assert "run_shell_command" in line[header.index("MATCH"):], line  # the session's first call of it
    assert len({line.index(line.split()[1]) for line in lines}) == 1, "columns are aligned"


def test_search_json_against_sql(demo: Path, cache: Path, capsys):
    found = search_json(capsys, "--db", str(demo), "search", "tool:run_shell_command", "is:failed", "--json")
    assert without_snippets(found) == expected(demo, f"{CALLS_SHELL} AND {FAILED}")
    assert all(isinstance(record["snippet"], str) and record["snippet"] for record in found)
    # Words and filters, and several arguments joined into one query.
    git = search_json(capsys, "--db", str(demo), "search", "git", "in:title", "--json")
    assert without_snippets(git) == expected(demo, "s.detail LIKE '%git%'") and len(git) == 1
    assert [record["snippet"] for record in git] == [""]  # the match is in the title the row already shows
    disk = search_json(capsys, "--db", str(demo), "search", "disk", "--json")
    assert len(disk) == 1 and "disk" in disk[0]["snippet"].lower()
    assert search_json(capsys, "--db", str(demo), "search", "disk", "in:title", "--json") == []
    # The query is whole: its last word is not a prefix being typed.
    assert search_json(capsys, "--db", str(demo), "search", "ngin", "--json") == []
    assert search_json(capsys, "--db", str(demo), "search", "tool:run", "--json") == []


def test_limit_and_no_match(demo: Path, cache: Path, capsys):
    every = search_json(capsys, "--db", str(demo), "search", "tool:run_shell_command", "--json")
    assert search_json(capsys, "--db", str(demo), "search", "tool:run_shell_command", "--json", "--limit", "2") == every[:2]
    assert cli.main(["--db", str(demo), "search", "zzzz", "--json"]) == 0  # as list: 0 with nothing found
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("[]\n", "dasshh-history: no session matches 'zzzz'\n")
    assert cli.main(["--db", str(demo), "search", "zzzz"]) == 0
    assert capsys.readouterr().out.split() == ["ID", "LAST", "ACTIVE", "EVENTS", "TITLE", "MATCH"]


def test_unknown_filters_are_words_and_filters_alone_list_every_passing_session(demo: Path, cache: Path, capsys):
    assert search_json(capsys, "--db", str(demo), "search", "foo:bar", "--json") == []
    assert search_json(capsys, "--db", str(demo), "search", "is:nonsense", "--json") == []
    assert len(search_json(capsys, "--db", str(demo), "search", "in:title", "--json")) == 12
    assert len(search_json(capsys, "--db", str(demo), "search", "after:1000w", "--json")) == 12


def test_dates_are_local_days(tmp_path: Path):
    """Run in Kolkata (UTC+05:30), where 14 March starts at 13 March 18:30 UTC."""
    sessions = [("late-13", "a", "2026-03-13 10:00:00", "2026-03-13 18:29:59"),
                ("start-14", "b", "2026-03-13 10:00:00", "2026-03-13 18:30:00")]
    history = dasshh_database(tmp_path / "h.db", sessions, [])
    cache = tmp_path / "cache"
    kolkata = run("--db", str(history), "search", "after:2026-03-14", "--json", cache=cache, tz="Asia/Kolkata")
    assert [record["id"] for record in json.loads(kolkata.stdout)] == ["start-14"], kolkata.stderr
    before = run("--db", str(history), "search", "before:2026-03-14", cache=cache, tz="Asia/Kolkata")
    assert before.stdout.splitlines()[1].split()[:3] == ["late-13", "2026-03-13", "23:59"]  # shown in local time
    utc = run("--db", str(history), "search", "after:2026-03-14", "--json", cache=cache, tz="UTC")
    assert json.loads(utc.stdout) == []


def test_search_never_changes_the_history_and_caches_in_its_own_file(demo: Path, cache: Path, capsys):
    before = digest(demo)
    for query in ("tool:read_file", "is:failed", "after:7d", "nginx"):
        search_json(capsys, "--db", str(demo), "search", query, "--json")
    assert digest(demo) == before
    assert sorted(p.name for p in demo.parent.iterdir()) == ["demo.db"]
    cached = sorted(p.name for p in (cache / "dasshh-history").iterdir())  # the cache, and its build lock
    assert len(cached) == 2 and cached[0].startswith("search-") and cached[1] == cached[0] + ".lock", cached


def test_search_reads_a_history_that_cannot_be_written(demo: Path, cache: Path, make_read_only):
    make_read_only(demo, demo.parent)
    result = run("--db", str(demo), "search", "is:failed", "--json", cache=cache)
    assert result.returncode == 0, result.stderr
    assert without_snippets(json.loads(result.stdout)) == expected(demo, FAILED)


def test_search_without_a_writable_cache_searches_in_memory(demo: Path, tmp_path: Path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    result = run("--db", str(demo), "search", "tool:read_file", "--json", cache=blocked)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1


def test_search_on_the_demo_keeps_its_cache_in_the_demo_directory(cache: Path, capsys):
    assert len(search_json(capsys, "--demo", "search", "tool:read_file", "--json")) == 1
    assert not cache.exists()


def test_no_history_yet(tmp_path: Path, cache: Path):
    path = tmp_path / "nope" / "history.db"
    result = run("--db", str(path), "search", "x", "--json", cache=cache)
    assert (result.returncode, result.stdout) == (0, "[]\n")
    assert "no history yet" in result.stderr
    assert not path.parent.exists() and not cache.exists()


def test_search_help_lists_the_syntax(tmp_path: Path):
    result = run("search", "--help", cache=tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for part in ("QUERY", "--json", "--limit N", "--db PATH", "tool:NAME", "is:failed", "after:DATE",
                 "before:DATE", "in:title", "7d", "last activity", "Exit status 0"):
        assert part in text, part


def test_a_failing_index_is_said_and_what_is_indexed_is_searched(demo: Path, cache: Path, capsys, monkeypatch):
    def locked(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr("dasshh_history.data.search.index.SearchIndex.sync", locked)
    assert cli.main(["--db", str(demo), "search", "nginx", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []  # nothing was indexed
    assert "database is locked" in captured.err and "may miss" in captured.err


def test_search_never_imports_textual(demo: Path, tmp_path: Path):
    code = (
        "import sys\n"
        "from dasshh_history.cli import main\n"
        f"status = main(['--db', {str(demo)!r}, 'search', 'is:failed', '--json'])\n"
        "assert 'textual' not in sys.modules and 'rich' not in sys.modules, sorted(sys.modules)\n"
        "print('ok', status)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.stdout.strip().splitlines()[-1] == "ok 0", result.stderr
