"""``dasshh-history stats``: the figures for scripts, against what SQL says of the history; read-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from exportutil import digest, rows

from dasshh_history import cli
from dasshh_history.demo import DEMO_NOW, write_demo


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the search cache goes (never the user's own cache directory)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    return write_demo(tmp_path / "history" / "demo.db", now=DEMO_NOW)


def stats_json(capsys, *args: str) -> dict:
    assert cli.main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def run(*args: str, cache: Path, tz: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TZ": tz}
    return subprocess.run([sys.executable, "-m", "dasshh_history", *args], capture_output=True, text=True,
                          timeout=120, env=env, check=True)


def test_stats_json_against_sql(demo: Path, cache: Path, capsys):
    before = digest(demo)
    record = stats_json(capsys, "--db", str(demo), "stats", "--json")
    assert digest(demo) == before  # not a byte of the history changed
    totals = record["totals"]
    ((sessions,),) = rows(demo, "SELECT count(*) FROM sessions")
    ((events,),) = rows(demo, "SELECT count(*) FROM events WHERE session_id IN (SELECT id FROM sessions)")
    ((messages,),) = rows(demo, "SELECT count(*) FROM events WHERE json_extract(content, '$.role') IN "
                                "('user', 'assistant')")
    calls = dict(rows(demo, "SELECT json_extract(c.value, '$.function.name'), count(*) FROM events e, "
                            "json_each(e.content, '$.tool_calls') c GROUP BY 1"))
    assert (totals["sessions"], totals["events"], totals["messages"]) == (sessions, events, messages)
    assert {tool["name"]: tool["calls"] for tool in record["tools"] if tool["calls"]} == calls
    assert totals["tool_calls"] == sum(calls.values())
    ((first, last),) = rows(demo, "SELECT min(created_at), max(created_at) FROM events")
    assert totals["first"] == first[:19].replace(" ", "T") + "Z" and totals["last"] == last[:19].replace(" ", "T") + "Z"
    assert sum(map(sum, record["weekday_hour_messages"].values())) == messages
    largest = rows(demo, "SELECT session_id, count(*) AS n FROM events GROUP BY session_id ORDER BY n DESC LIMIT 1")
    assert record["largest_sessions"][0]["id"] == largest[0][0]
    assert record["sizes"]["database_bytes"] == demo.stat().st_size


def test_stats_of_a_search(demo: Path, cache: Path, capsys):
    record = stats_json(capsys, "--db", str(demo), "stats", "--json", "tool:read_file")
    expected = rows(demo, "SELECT DISTINCT e.session_id FROM events e, json_each(e.content, '$.tool_calls') c "
                          "WHERE json_extract(c.value, '$.function.name') = 'read_file'")
    assert record["query"] == "tool:read_file"
    assert record["totals"]["sessions"] == len(expected) > 0
    assert {s["id"] for s in record["largest_sessions"]} == {sid for (sid,) in expected}


def test_hours_are_local(demo: Path, cache: Path):
    """The same history in UTC and in Kolkata (UTC+05:30): the messages move by five and a half hours."""
    utc = json.loads(run("--db", str(demo), "stats", "--json", cache=cache, tz="UTC").stdout)
    kolkata = json.loads(run("--db", str(demo), "stats", "--json", cache=cache, tz="Asia/Kolkata").stdout)
    assert utc["weekday_hour_messages"] != kolkata["weekday_hour_messages"]
    assert utc["totals"] == kolkata["totals"]
    stamps = [stamp for (stamp,) in rows(demo, "SELECT created_at FROM events WHERE json_extract(content, '$.role') "
                                               "IN ('user', 'assistant')")]
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    grid: dict[str, list[int]] = {day: [0] * 24 for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
    for stamp in stamps:
        local = datetime.fromisoformat(stamp).replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Kolkata"))
        grid[local.strftime("%a")][local.hour] += 1
    assert kolkata["weekday_hour_messages"] == grid


def test_text_output_and_no_history(demo: Path, cache: Path, tmp_path: Path, capsys):
    assert cli.main(["--db", str(demo), "stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stats of the whole history\n") and "run_shell_command" in out
    assert cli.main(["--db", str(tmp_path / "none.db"), "stats", "--json"]) == 0
    assert capsys.readouterr().out == "{}\n"
    assert not (tmp_path / "none.db").exists()


def test_the_files_sizes_before_and_after_the_search_cache_is_built(demo: Path, cache: Path, capsys):
    """The text names the database's size, and the search cache's once there is one (a search builds it)."""
    assert cli.main(["--db", str(demo), "stats"]) == 0
    before = capsys.readouterr().out
    assert "no search cache yet" in before and "search cache –" not in before
    assert cli.main(["--db", str(demo), "search", "firewall"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", str(demo), "stats"]) == 0
    after = capsys.readouterr().out
    caches = list((cache / "dasshh-history").glob("search-*[0-9a-f].db"))
    assert len(caches) == 1
    size = caches[0].stat().st_size
    assert f"search cache {size / 1024 / 1024:.1f} MB" in after or f"search cache {size / 1024:.1f} KB" in after
    assert "no search cache yet" not in after
