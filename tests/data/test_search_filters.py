"""Search filters against direct SQL on a generated history: tool:, is:failed, after:/before:, in:title.

The history is hostile where it matters: events inserted out of their
``created_at`` order, sessions without a date, a failing result in text that
is not JSON, a whole event that is not JSON, events of no session.  After
each change another writer makes, every filter still answers what SQL says.
"""

from __future__ import annotations

import json
import random
import sqlite3
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dbutil import dasshh_database, digest, rows

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.domain.query import SearchQuery

KOLKATA = ZoneInfo("Asia/Kolkata")
NOW = datetime(2026, 3, 14, 12, 0)  # naive UTC
TOOLS = ["run_shell_command", "read_file", "Write_File", "get_weather", "run_tests"]
WORDS = ["nginx", "docker", "firewall", "kernel", "python", "backup", "cron", "grafana"]


def stored(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def call(call_id: str, name: object) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": name, "arguments": '{"command": "ls"}'}}]}


def result(call_id: str, content: object) -> dict:
    return {"role": "tool", "tool_call_id": call_id, "name": "x", "content": content}


#: Tool results and whether the timeline shows each as a failure.
RESULTS = [
    (json.dumps({"exit_code": 0, "stdout": "fine"}), False),
    (json.dumps({"exit_code": 2, "stdout": "", "stderr": "no such file"}), True),
    (json.dumps({"error": "Invalid arguments: cut off"}), True),
    ("Error: permission denied", True),
    ("Traceback (most recent call last):\n  File x\nValueError: no", True),
    ('{"exit_code": 1, "stdout": "cut off mid-str', False),  # not JSON: read as text, and not an error report
    ("all good", False),
]


def generate(path: Path, seed: int = 16, sessions: int = 90) -> Path:
    rng = random.Random(seed)
    session_rows: list[tuple] = []
    event_rows: list[tuple] = []
    for n in range(sessions):
        sid = f"s{n:03d}"
        updated = NOW - timedelta(hours=rng.randrange(0, 24 * 90), minutes=rng.randrange(60))
        word = WORDS[n % len(WORDS)]
        updated_at = None if n % 13 == 0 else stored(updated)  # some sessions have no updated_at
        session_rows.append((sid, f"Session {n}: the {word} question", stored(updated - timedelta(hours=1)), updated_at))
        for k in range(rng.randrange(0, 7)):
            # created_at is no order: it may be days before or after updated_at, and rows are shuffled below
            created = stored(updated + timedelta(hours=rng.randint(-72, 48)))
            kind = rng.randrange(4)
            if kind == 0:
                content = {"role": "user", "content": f"tell me about {rng.choice(WORDS)}s and {rng.choice(WORDS)}s"}
            elif kind == 1:
                content = call(f"c{n}-{k}", rng.choice(TOOLS))
            elif kind == 2:
                content = result(f"c{n}-{k}", rng.choice(RESULTS)[0])
            else:
                content = {"role": "assistant", "content": "Done."}
            event_rows.append((f"e{n}-{k}", f"inv{n}", sid, created, json.dumps(content)))
    rng.shuffle(event_rows)  # insertion order disagrees with created_at, and interleaves sessions
    hostile = [
        # Events of no session: a call and a failure that must not count for anyone.
        ("orphan-1", "inv", "ghost", stored(NOW), json.dumps(call("o1", "run_shell_command"))),
        ("orphan-2", "inv", "ghost", stored(NOW), json.dumps(result("o1", "Error: boom"))),
        ("orphan-3", "inv", None, stored(NOW), json.dumps(call("o2", "orphan_tool"))),
        # A whole event that is not JSON: a raw row in the timeline, so no failure.
        ("broken", "inv", "s001", stored(NOW - timedelta(days=400)), '{"role": "tool", "content": "Error: cut'),
        # Calls without a usable name, and a name in another case.
        ("noname", "inv", "s002", stored(NOW - timedelta(days=400)), json.dumps(call("n1", None))),
        ("upper", "inv", "s003", "not a date", json.dumps(call("u1", "READ_FILE"))),
        # A tool whose name starts others' ("run", "run_tests").
        ("run", "inv", "s004", stored(NOW - timedelta(days=400)), json.dumps(call("r1", "run"))),
    ]
    return dasshh_database(path, session_rows, event_rows + hostile)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return generate(tmp_path / "history.db")


@pytest.fixture
def index(history: Path, tmp_path: Path) -> Iterator[SearchIndex]:
    client = DBClient(db_path=history, read_only=True)
    index = SearchIndex(client, path=tmp_path / "search.db", tz=KOLKATA, clock=lambda: NOW)
    index.sync()
    yield index
    index.close()
    client.dispose()


def found(index: SearchIndex, text: str) -> list[str]:
    return index.search(SearchQuery.parse(text)).session_ids


# -- what SQL says ---------------------------------------------------------------------

_ORDER = "ORDER BY coalesce(s.updated_at, NULL) DESC, s.rowid"
_TOOL_SQL = (
    "SELECT DISTINCT e.session_id FROM events e, json_each(e.content, '$.tool_calls') c "
    "WHERE json_valid(e.content) AND json_extract(e.content, '$.role') = 'assistant' "
    "AND lower(json_extract(c.value, '$.function.name')) {}"
)
_RESULT = "json_extract(e.content, '$.content')"
_FAILED_SQL = (
    "SELECT DISTINCT e.session_id FROM events e WHERE json_valid(e.content) "
    "AND json_extract(e.content, '$.role') = 'tool' AND ("
    f" (json_valid({_RESULT}) AND (json_extract({_RESULT}, '$.exit_code') != 0"
    f"   OR json_extract({_RESULT}, '$.error') IS NOT NULL))"
    f" OR {_RESULT} LIKE 'Error:%' OR {_RESULT} LIKE 'Traceback (most recent call last)%')"
)
#: Each session's last activity as a Julian day: the latest of updated_at and its events' created_at.
_LAST_SQL = (
    "SELECT s.id AS id, (SELECT max(x) FROM (SELECT julianday(s.updated_at) AS x UNION ALL "
    "SELECT julianday(e.created_at) FROM events e WHERE e.session_id = s.id)) AS last FROM sessions s"
)


def sql_ids(history: Path, where: str, *args: object) -> list[str]:
    """The sessions, in list order, for which ``where`` holds (``s`` the session, ``d.last`` its last activity)."""
    return [row[0] for row in rows(history, f"SELECT s.id FROM sessions s JOIN ({_LAST_SQL}) d ON d.id = s.id "
                                            f"WHERE {where} {_ORDER}", *args)]


def sql_tool(history: Path, name: str, *, prefix: bool = False) -> tuple[str, str]:
    test = "LIKE ? || '%'" if prefix else "= ?"
    return f"s.id IN ({_TOOL_SQL.format(test)})", name.lower()


def sql_failed() -> str:
    return f"s.id IN ({_FAILED_SQL})"


def julian(moment: datetime) -> str:
    """A naive UTC time as SQL's julianday() reads it."""
    return stored(moment)


def check_every_filter(index: SearchIndex, history: Path) -> None:
    """Each filter, and some combinations, answer what SQL says; in list order."""
    for name in [*TOOLS, "orphan_tool", "nope"]:
        where, arg = sql_tool(history, name)
        assert found(index, f"tool:{name} ") == sql_ids(history, where, arg), name
    where, arg = sql_tool(history, "run", prefix=True)
    assert found(index, "tool:RUN") == sql_ids(history, where, arg)  # typed: a prefix
    where, arg = sql_tool(history, "run")
    assert found(index, "tool:run ") == sql_ids(history, where, arg) == ["s004"]  # done: the exact name
    assert found(index, "is:failed") == sql_ids(history, sql_failed())
    for text, moment in [("2026-03-01", datetime(2026, 2, 28, 18, 30)), ("2026-01-20", datetime(2026, 1, 19, 18, 30))]:
        assert found(index, f"after:{text}") == sql_ids(history, "d.last >= julianday(?)", julian(moment)), text
        assert found(index, f"before:{text}") == sql_ids(history, "d.last < julianday(?)", julian(moment)), text
    for text, moment in [("7d", NOW - timedelta(days=7)), ("2w", NOW - timedelta(days=14)),
                         ("1m", datetime(2026, 2, 14, 12, 0))]:
        assert found(index, f"after:{text}") == sql_ids(history, "d.last >= julianday(?)", julian(moment)), text
        assert found(index, f"before:{text}") == sql_ids(history, "d.last < julianday(?)", julian(moment)), text
    where, arg = sql_tool(history, "read_file")
    assert found(index, "tool:read_file is:failed after:2026-01-20") == sql_ids(
        history, f"{where} AND {sql_failed()} AND d.last >= julianday(?)", arg, julian(datetime(2026, 1, 19, 18, 30))
    )
    for word in WORDS[:3]:
        assert found(index, f"in:title {word} ") == sql_ids(history, "s.detail LIKE ?", f"%{word}%")
        titled_and_failed = sql_ids(history, f"s.detail LIKE ? AND {sql_failed()}", f"%{word}%")
        assert found(index, f"is:failed {word} in:title") == titled_and_failed
    assert found(index, "in:title") == sql_ids(history, "1")


def test_every_filter_answers_what_sql_says(index: SearchIndex, history: Path):
    check_every_filter(index, history)
    # The generated history has some of everything.
    assert 0 < len(found(index, "is:failed")) < len(found(index, "in:title"))
    assert 0 < len(found(index, "tool:read_file ")) < len(found(index, "in:title"))


def test_hostile_rows(index: SearchIndex):
    assert "ghost" not in found(index, "tool:run_shell_command ")  # events of no session count for nobody
    assert found(index, "tool:orphan_tool ") == []
    assert found(index, "tool:? ") == [] and found(index, "tool:none ") == []  # a call without a name
    assert "s003" in found(index, "tool:read_file ")  # READ_FILE: names are matched case-insensitively


def test_a_failure_in_text_that_is_not_json_counts_and_a_broken_row_does_not(tmp_path: Path):
    sessions = [("text", "t", "2026-03-01 10:00:00", "2026-03-01 10:00:00"),
                ("cut", "c", "2026-03-01 10:00:00", "2026-03-01 10:00:00"),
                ("raw", "r", "2026-03-01 10:00:00", "2026-03-01 10:00:00"),
                ("list", "l", "2026-03-01 10:00:00", "2026-03-01 10:00:00")]
    events = [
        ("e1", "i", "text", "2026-03-01 10:00:00", json.dumps(result("c", "fatal: not a git repository {"))),
        ("e2", "i", "cut", "2026-03-01 10:00:00", json.dumps(result("c", '{"exit_code": 3, "stdout": "cut'))),
        ("e3", "i", "raw", "2026-03-01 10:00:00", '{"role": "tool", "content": "Error: x"'),
        ("e4", "i", "list", "2026-03-01 10:00:00", json.dumps(result("c", [{"error": "a"}, {"error": "b"}]))),
    ]
    history = dasshh_database(tmp_path / "h.db", sessions, events)
    client = DBClient(db_path=history, read_only=True)
    index = SearchIndex(client, path=tmp_path / "s.db")
    index.sync()
    assert sorted(found(index, "is:failed")) == ["list", "text"]  # as the timeline judges each
    index.close()
    client.dispose()


def test_after_is_inclusive_of_the_local_day_and_before_is_not(tmp_path: Path):
    """In Kolkata (UTC+05:30) 14 March starts at 13 March 18:30 UTC."""
    sessions = [
        ("late-13", "a", "2026-03-13 10:00:00", "2026-03-13 18:29:59.999"),  # 23:59:59.999 on the 13th, local
        ("start-14", "b", "2026-03-13 10:00:00", "2026-03-13 18:30:00"),  # midnight, the 14th
        ("old-but-event", "c", "2026-01-01 10:00:00", "2026-01-01 10:00:00"),  # an event on the 14th
        ("no-date", "d", "garbage", None),
        ("garbage-date", "e", None, "yesterday"),
    ]
    events = [("e1", "i", "old-but-event", "2026-03-14 02:00:00", json.dumps({"role": "user", "content": "hi"})),
              ("e2", "i", "garbage-date", "not a date", json.dumps({"role": "user", "content": "hi"}))]
    history = dasshh_database(tmp_path / "h.db", sessions, events)
    client = DBClient(db_path=history, read_only=True)
    kolkata = SearchIndex(client, path=tmp_path / "k.db", tz=KOLKATA, clock=lambda: NOW)
    utc = SearchIndex(client, path=tmp_path / "u.db", tz=UTC, clock=lambda: NOW)
    for index in (kolkata, utc):
        index.sync()
    assert found(kolkata, "after:2026-03-14") == ["start-14", "old-but-event"]
    assert found(kolkata, "before:2026-03-14") == ["late-13"]
    assert found(kolkata, "after:2026-03-13 before:2026-03-14") == ["late-13"]  # exactly the day of the 13th
    assert found(utc, "after:2026-03-14") == ["old-but-event"]
    assert found(utc, "before:2026-03-14") == ["start-14", "late-13"]  # in list order
    # A session without any readable date passes neither.
    assert "no-date" not in found(kolkata, "before:1d") + found(kolkata, "after:1000w")
    assert "garbage-date" not in found(kolkata, "before:1d") + found(kolkata, "after:1000w")
    assert kolkata.last_activity(["old-but-event", "no-date"]) == {
        "old-but-event": datetime(2026, 3, 14, 2, 0), "no-date": None}
    for index in (kolkata, utc):
        index.close()
    client.dispose()


def change_history(history: Path) -> None:
    """Another writer: a new call and a failure in an old session, a failure removed, dates moved, events gone."""
    conn = sqlite3.connect(history)
    with conn:
        conn.execute("INSERT INTO events VALUES ('new-call', 'i', 's005', ?, ?)",
                     (stored(NOW), json.dumps(call("d1", "Deploy"))))
        conn.execute("INSERT INTO events VALUES ('new-fail', 'i', 's005', ?, ?)",
                     (stored(NOW), json.dumps(result("d1", "Error: deploy failed"))))
        results = conn.execute("SELECT id FROM events WHERE json_valid(content) "
                               "AND json_extract(content, '$.role') = 'tool' LIMIT 5").fetchall()
        conn.executemany("DELETE FROM events WHERE id = ?", results)
        # Dates alone change (the title stays): dasshh continuing a session, or going back.
        conn.execute("UPDATE sessions SET updated_at = ? WHERE id = 's010'", (stored(NOW - timedelta(hours=1)),))
        conn.execute("UPDATE sessions SET updated_at = '2025-01-01 00:00:00' WHERE id = 's011'")
        conn.execute("DELETE FROM events WHERE session_id = 's011'")  # and its events go: dated by updated_at alone
        # A session's newest events go.
        conn.execute("DELETE FROM events WHERE session_id = 's012' AND created_at = "
                     "(SELECT max(created_at) FROM events WHERE session_id = 's012')")
        conn.execute("DELETE FROM events WHERE session_id = 's014'")
        conn.execute("DELETE FROM sessions WHERE id = 's014'")
    conn.close()


def test_filters_keep_in_step_with_another_writer(index: SearchIndex, history: Path):
    assert found(index, "tool:deploy ") == []
    change_history(history)
    synced = index.sync()
    assert synced.dates >= 2  # s010 and s011: their dates alone changed
    assert found(index, "tool:deploy ") == ["s005"]
    assert "s005" in found(index, "is:failed") and "s005" in found(index, "after:1d")
    assert "s010" in found(index, "after:1d") and "s011" in found(index, "before:2025-01-02")
    check_every_filter(index, history)
    assert not index.sync()


def test_the_history_is_never_written(history: Path, tmp_path: Path):
    before = digest(history)
    client = DBClient(db_path=history, read_only=True)
    index = SearchIndex(client, path=tmp_path / "search.db", tz=KOLKATA, clock=lambda: NOW)
    index.sync()
    for text in ["tool:read_file ", "is:failed", "after:7d", "before:2026-01-01", "in:title nginx"]:
        found(index, text)
    index.close()
    client.dispose()
    assert digest(history) == before


def test_broad_filter_answers_are_kept_and_patched_with_what_changed_since(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)  # every tool and the failures are broad
    client = DBClient(db_path=history, read_only=True)
    index = SearchIndex(client, path=tmp_path / "broad.db", tz=KOLKATA, clock=lambda: NOW)
    index.sync()
    kept = {expr for (expr,) in rows(index.path, "SELECT expr FROM broad")}
    assert {"tool:read_file", "tool:run_shell_command", "tool:write_file", "is:failed"} <= kept
    check_every_filter(index, history)
    # The kept answer is what is searched: spoilt on purpose, it gives nothing.
    (marks,) = rows(index.path, "SELECT marks FROM broad WHERE expr = 'is:failed'")[0]
    spoil = sqlite3.connect(index.path)
    with spoil:
        spoil.execute("UPDATE broad SET marks = ? WHERE expr = 'is:failed'", (zlib.compress(b""),))
    assert found(index, "is:failed") == []
    with spoil:
        spoil.execute("UPDATE broad SET marks = ? WHERE expr = 'is:failed'", (marks,))
    spoil.close()
    # Another writer: the kept answers are patched with the sessions that changed, not worked out again.
    change_history(history)
    index.sync()
    assert rows(index.path, "SELECT count(*) FROM changed")[0][0] > 0
    assert {expr for (expr,) in rows(index.path, "SELECT expr FROM broad")} == kept
    check_every_filter(index, history)
    assert found(index, "tool:deploy ") == ["s005"]  # a new tool: not kept, read
    index.close()
    client.dispose()
