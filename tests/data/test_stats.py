"""The stats tables: every figure against a count made here, independently (SQL and the timeline's own reading of
each row), on generated histories with hostile rows; an update after new rows equals a computation from scratch."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dbutil import DASSHH_SCHEMA, digest

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import schema, stats_read
from dasshh_history.data.search import stats as stats_module
from dasshh_history.data.search.schema import open_cache
from dasshh_history.data.search.stats import sync_stats
from dasshh_history.data.search.stats_read import read_stats
from dasshh_history.domain.entries import ToolCall, ToolResult
from dasshh_history.domain.failure import result_failure
from dasshh_history.domain.parse import entries_from_event
from dasshh_history.domain.stats import build_stats
from dasshh_history.services.stats import StatsKeeper

KOLKATA = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
TOOLS = ["run_shell_command", "read_file", "Get_Weather", "web_search"]
START = datetime(2026, 1, 5, 0, 0)


class _Event:
    def __init__(self, content: object) -> None:
        self.content = content
        self.id = "e"
        self.invocation_id = None
        self.created_at = None


def _result(rng: random.Random, call_id: str | None, name: str | None) -> dict:
    body = rng.choice([
        json.dumps({"exit_code": 0, "stdout": "ok"}), json.dumps({"exit_code": 2, "stderr": "no"}),
        json.dumps({"success": False}), json.dumps({"error": "Invalid arguments"}), json.dumps("plain text"),
        "Error: it broke", "Traceback (most recent call last):\n  x", "all fine", "x" * rng.randint(1, 3000),
        json.dumps([{"error": "a"}, {"error": "b"}]), json.dumps({"content": "file"}), "",
    ])
    content: dict = {"role": "tool", "content": body}
    if call_id is not None:
        content["tool_call_id"] = call_id
    if name is not None:
        content["name"] = name
    return content


def write_history(path: Path, seed: int, sessions: int = 40) -> Path:
    """A history of ``sessions`` sessions, tool calls and results, and hostile rows of every kind."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.executescript(DASSHH_SCHEMA)
    add_sessions(conn, rng, 0, sessions)
    conn.commit()
    conn.close()
    return path


def add_sessions(conn: sqlite3.Connection, rng: random.Random, first: int, count: int) -> None:
    for n in range(first, first + count):
        sid = f"s{n:03d}"
        at = START + timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 24 * 60 - 1))
        created = None if n % 17 == 5 else at.strftime("%Y-%m-%d %H:%M:%S.%f")
        conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (sid, f"Session {n}", created, created))
        add_events(conn, rng, sid, at, rng.randint(0, 14))


def add_events(conn: sqlite3.Connection, rng: random.Random, sid: str | None, at: datetime, count: int) -> None:
    (base,) = conn.execute("SELECT count(*) FROM events").fetchone()
    calls: list[tuple[str, str]] = []
    for k in range(count):
        eid = f"{sid}-{base + k}"
        at += timedelta(minutes=rng.randint(0, 50))
        when: object = at.strftime("%Y-%m-%d %H:%M:%S.%f")
        pick = rng.random()
        if pick < 0.25:
            content: object = json.dumps({"role": "user", "content": "hello " * rng.randint(1, 5)})
        elif pick < 0.45:
            content = json.dumps({"role": "assistant", "content": "answer"})
        elif pick < 0.65:
            items = []
            for i in range(rng.randint(1, 3)):
                call_id = f"c{base + k}-{i}"
                name = rng.choice(TOOLS)
                calls.append((call_id, name))
                items.append({"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}})
            content = json.dumps({"role": "assistant", "content": None, "tool_calls": items})
        elif pick < 0.85:
            call_id, name = rng.choice(calls) if calls else (None, rng.choice(TOOLS))
            content = json.dumps(_result(rng, call_id, name if rng.random() < 0.7 else None))
        else:  # hostile rows
            content = rng.choice([
                "{not json", b'{"role": "user", "content": "a blob"}', None, "[1, 2]", '"a string"',
                json.dumps({"role": "assistant", "tool_calls": [{"id": "x", "function": {"arguments": "{}"}}]}),
                json.dumps({"role": "assistant", "tool_calls": [{"function": "not an object"}, 7, None]}),
                json.dumps({"role": "assistant", "tool_calls": {"id": "o", "function": {"name": "single"}}}),
                json.dumps({"role": "assistant", "tool_calls": "a string"}),
                json.dumps({"role": "assistant", "tool_calls": []}),
                json.dumps({"role": "assistant", "tool_calls": [{"function": {"name": ""}}]}),
                json.dumps({"role": "tool", "content": {"exit_code": 1}}),
                json.dumps({"role": "tool", "name": "", "content": "Error: nameless"}),
                json.dumps({"role": "system", "content": "you are"}),
                json.dumps({"role": "narrator", "content": "?"}),
                json.dumps({"role": 5}),
            ])
            if rng.random() < 0.3:
                when = rng.choice([None, "not a date", b"2026-01-01", 12345])
        conn.execute("INSERT INTO events VALUES (?, 'inv', ?, ?, ?)", (eid, sid, when, content))
    if rng.random() < 0.3:  # an orphan: its session does not exist
        conn.execute("INSERT INTO events VALUES (?, 'inv', ?, ?, ?)",
                     (f"orphan-{base}", "no-such-session", at.strftime("%Y-%m-%d %H:%M:%S"),
                      json.dumps({"role": "user", "content": "lost"})))


# -- what the figures should be, worked out here ---------------------------------------


def _decoded(content: object) -> object:
    if not isinstance(content, str):
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _ms(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return round((parsed.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)


def expected(history: Path, tz) -> dict:
    """Every figure, from the rows: sessions joined by SQL, each event read by the timeline's own code."""
    conn = sqlite3.connect(history)
    conn.text_factory = bytes
    sessions = {sid.decode(): (rowid, created) for rowid, sid, created in
                conn.execute("SELECT rowid, id, created_at FROM sessions")}
    events = conn.execute("SELECT rowid, session_id, typeof(session_id), created_at, typeof(created_at), content, "
                          "typeof(content) FROM events ORDER BY rowid").fetchall()
    conn.close()
    counted = Counter()
    per_session: dict[str, Counter] = {sid: Counter() for sid in sessions}
    span: dict[str, list[int]] = {}
    calls, results, failed = Counter(), Counter(), Counter()
    grid = [[0] * 24 for _ in range(7)]
    outputs = []
    call_names: dict[tuple[str, str], str] = {}
    for _rowid, sid, sid_type, created, created_type, content, content_type in events:
        if sid_type != b"text" or sid.decode() not in sessions:
            counted["orphans"] += 1
            continue
        sid = sid.decode()
        text = content.decode() if content_type == b"text" else None
        value = _decoded(text)
        counted["events"] += 1
        per_session[sid]["events"] += 1
        size = len(content) if content_type in (b"text", b"blob") else len(str(content)) if content is not None else 0
        per_session[sid]["bytes"] += size
        ms = _ms(created.decode()) if created_type == b"text" else None
        if ms is not None:
            span.setdefault(sid, []).append(ms)
        role = value.get("role") if isinstance(value, dict) else None
        if role in ("user", "assistant"):
            counted["messages"] += 1
            if ms is not None:
                local = datetime.fromtimestamp(ms / 1000, tz)
                grid[local.weekday()][local.hour] += 1
        if not isinstance(value, dict):
            continue
        for entry in entries_from_event(_Event(value)):
            if isinstance(entry, ToolCall):
                calls[entry.name] += 1
                per_session[sid]["calls"] += 1
                if entry.call_id:
                    call_names[(sid, entry.call_id)] = entry.name
            elif isinstance(entry, ToolResult):
                name = entry.name or call_names.get((sid, entry.call_id or ""), "?")
                name = name if name != "?" or not entry.call_id else call_names.get((sid, entry.call_id), "?")
                results[name] += 1
                value_, decoded = entry.value
                if result_failure(value_, is_json=decoded) is not None:
                    failed[name] += 1
                    counted["failed"] += 1
                outputs.append(size)
    counted["sessions"] = len(sessions)
    counted["calls"] = sum(calls.values())
    counted["results"] = sum(results.values())
    return {"counted": counted, "per_session": per_session, "span": span, "calls": calls, "results": results,
            "failed": failed, "grid": grid, "outputs": sorted(outputs, reverse=True)}


def computed(history: Path, cache: Path, tz=UTC):
    conn, _ = open_cache(cache, history)
    try:
        sync_stats(conn)
        rows = read_stats(conn, tz=tz, top=1000)
    finally:
        conn.close()
    return rows, build_stats(rows)


@pytest.mark.parametrize(("seed", "zone"), [(1, "UTC"), (2, "Asia/Kolkata"), (3, "America/New_York")])
def test_every_figure_matches_a_count_made_here(tmp_path: Path, seed: int, zone: str):
    """In New York the history spans the change to summer time (8 March 2026): hours move by one from then."""
    history = write_history(tmp_path / "history.db", seed)
    _, stats = computed(history, tmp_path / "cache.db", ZoneInfo(zone))
    want = expected(history, ZoneInfo(zone))
    counted = want["counted"]
    assert (stats.sessions, stats.events, stats.messages, stats.calls, stats.results, stats.failed, stats.orphans) == (
        counted["sessions"], counted["events"], counted["messages"], counted["calls"], counted["results"],
        counted["failed"], counted["orphans"])
    assert counted["orphans"] > 0 and counted["failed"] > 0  # the history holds what the test is about
    assert {t.name: t.calls for t in stats.tools if t.calls} == dict(want["calls"])
    assert {t.name: t.results for t in stats.tools if t.results} == dict(want["results"])
    assert {t.name: t.failed for t in stats.tools if t.failed} == dict(want["failed"])
    assert "?" in want["calls"] and "single" in want["calls"]  # calls without a name, a lone call object
    assert stats.grid == want["grid"]
    assert [out.bytes for out in stats.outputs] == want["outputs"]
    by_id = {s.id: s for s in stats.largest}
    assert len(by_id) == counted["sessions"]
    for sid, figures in want["per_session"].items():
        assert (by_id[sid].events, by_id[sid].bytes) == (figures["events"], figures["bytes"]), sid
    assert [s.events for s in stats.largest] == sorted((f["events"] for f in want["per_session"].values()), reverse=True)
    spans = sorted((max(v) - min(v) for v in want["span"].values() if max(v) > min(v)), reverse=True)
    assert [round(s.span.total_seconds() * 1000) for s in stats.longest] == spans
    assert sum(stats.activity.messages) == sum(map(sum, want["grid"]))


def test_orphans_count_in_no_figure(tmp_path: Path):
    history = tmp_path / "history.db"
    conn = sqlite3.connect(history)
    conn.executescript(DASSHH_SCHEMA)
    conn.execute("INSERT INTO sessions VALUES ('s1', 'kept', '2026-03-14 10:00:00', '2026-03-14 10:00:00')")
    conn.execute("""INSERT INTO events VALUES ('e1', 'i', 's1', '2026-03-14 10:00:00', '{"role": "user", "content": "hi"}')""")
    conn.execute("""INSERT INTO events VALUES ('e2', 'i', 'gone', '2026-03-14 10:00:00', '{"role": "user"}')""")
    conn.execute("""INSERT INTO events VALUES ('e3', 'i', NULL, '2026-03-14 10:00:00',
        '{"role": "assistant", "tool_calls": [{"function": {"name": "x"}}]}')""")
    conn.commit()
    conn.close()
    _, stats = computed(history, tmp_path / "cache.db")
    assert (stats.sessions, stats.events, stats.messages, stats.calls, stats.orphans) == (1, 1, 1, 0, 2)
    assert stats.tools == []


def snapshot(history: Path, cache: Path) -> tuple:
    """Every table of the stats (sorted), as they are after a sync."""
    conn, _ = open_cache(cache, history)
    try:
        sync_stats(conn)
        tables = tuple(sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr)
                       for name in ("st_sessions", "st_slots", "st_tools", "st_calls", "st_outputs"))
        orphans = conn.execute("SELECT value FROM meta WHERE key = 'stats_orphans'").fetchone()
        return (*tables, orphans, read_stats(conn, tz=KOLKATA, top=50))
    finally:
        conn.close()


def test_an_update_equals_a_computation_from_scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """New sessions and events, in small chunks, after a first computation; then deletions, an undo, a session
    coming for its orphans: the tables are the same as those worked out in one go."""
    monkeypatch.setattr(stats_module, "STATS_CHUNK", 7)  # results and their calls in different chunks
    history = write_history(tmp_path / "history.db", seed=4, sessions=25)
    cache = tmp_path / "cache.db"
    snapshot(history, cache)
    rng = random.Random(5)
    conn = sqlite3.connect(history)
    add_sessions(conn, rng, 25, 10)
    add_events(conn, rng, "s003", START + timedelta(days=200), 9)  # more events in an old session
    conn.commit()
    assert snapshot(history, cache) == snapshot(history, tmp_path / "fresh1.db")

    # A session deleted with its events, another's events gone, a deletion undone (old rowids), a new session
    # for the orphans' session id.
    deleted = conn.execute("SELECT rowid, * FROM events WHERE session_id = 's007'").fetchall()
    conn.execute("DELETE FROM events WHERE session_id = 's007'")
    conn.execute("DELETE FROM sessions WHERE id = 's007'")
    conn.commit()
    assert snapshot(history, cache) == snapshot(history, tmp_path / "fresh2.db")
    conn.execute("INSERT INTO sessions VALUES ('s007', 'Back', '2026-02-01 10:00:00', '2026-02-01 10:00:00')")
    conn.executemany("INSERT INTO events (rowid, id, invocation_id, session_id, created_at, content) "
                     "VALUES (?, ?, ?, ?, ?, ?)", deleted)
    conn.execute("DELETE FROM events WHERE rowid = (SELECT min(rowid) FROM events WHERE session_id = 's010')")
    conn.commit()
    assert snapshot(history, cache) == snapshot(history, tmp_path / "fresh3.db")
    conn.execute("INSERT INTO sessions VALUES ('no-such-session', 'Came late', NULL, NULL)")
    conn.commit()
    conn.close()
    after = snapshot(history, cache)
    assert after == snapshot(history, tmp_path / "fresh4.db")
    assert after[-1].orphans == 0


@pytest.mark.parametrize("lanes", [2, 3])
def test_chunks_read_in_lanes_give_the_tables_one_connection_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   lanes: int):
    """Many small chunks, read on several connections at once and written in turn: the same tables, to the
    row, as one connection makes (results named after calls written by another lane, sessions across chunks)."""
    monkeypatch.setattr(stats_module, "STATS_CHUNK", 7)
    history = write_history(tmp_path / "history.db", seed=6, sessions=30)
    monkeypatch.setattr(stats_module, "STATS_LANES", 1)
    alone = snapshot(history, tmp_path / "one.db")
    monkeypatch.setattr(stats_module, "STATS_LANES", lanes)
    laned: list[int] = []
    add_in_lanes = stats_module._add_in_lanes

    def spy(*args, **kwargs):
        laned.append(add_in_lanes(*args, **kwargs))
        return laned[-1]

    monkeypatch.setattr(stats_module, "_add_in_lanes", spy)
    assert snapshot(history, tmp_path / "lanes.db") == alone
    (events,) = sqlite3.connect(history).execute("SELECT count(*) FROM events").fetchone()
    assert laned[0] == events  # every event went through the lanes


@pytest.mark.parametrize("sparse", [False, True])
def test_chunks_cover_the_events_after_the_mark_the_first_half_as_big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     sparse: bool):
    """Rowids dense (cut by rowid) or far apart (cut by counting): the chunks follow each other from the mark to
    the last event, the first about half as big as the others (the lanes take turns from the start)."""
    monkeypatch.setattr(stats_module, "STATS_CHUNK", 10)
    history = tmp_path / "history.db"
    conn = sqlite3.connect(history)
    conn.executescript(DASSHH_SCHEMA)
    rowids = [1 + (1000 * i if sparse else i) for i in range(95)]
    conn.executemany("INSERT INTO events (rowid, id, session_id, content) VALUES (?, ?, 's', '{}')",
                     [(rowid, f"e{rowid}") for rowid in rowids])
    conn.commit()
    cache, _ = open_cache(tmp_path / "cache.db", history)
    try:
        mark = rowids[4]  # five events noted already
        ranges = stats_module._chunk_ranges(cache, mark, 90)
        sizes = [sum(1 for rowid in rowids if after < rowid <= upto) for after, upto in ranges]
    finally:
        cache.close()
    assert ranges[0][0] == mark and ranges[-1][1] == rowids[-1]
    assert all(upto == after for (_, upto), (after, _) in zip(ranges, ranges[1:], strict=False))
    assert sum(sizes) == 90 and sizes == [5, 10, 10, 10, 10, 10, 10, 10, 10, 5]


def test_lanes_stopped_or_failing_leave_what_the_next_sync_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A stop asked for, or a write that fails, in the middle of the lanes: the sync ends (no lane waits for a
    turn that never comes), the chunks written are the first ones, and the next sync makes the same tables as a
    computation from scratch."""
    import threading

    monkeypatch.setattr(stats_module, "STATS_CHUNK", 7)
    monkeypatch.setattr(stats_module, "STATS_LANES", 2)
    history = write_history(tmp_path / "history.db", seed=7, sessions=30)
    expected_tables = snapshot(history, tmp_path / "fresh.db")
    cache = tmp_path / "cache.db"

    def in_thread(work) -> BaseException | None:
        outcome: list[BaseException | None] = [None]

        def run() -> None:
            try:
                work()
            except BaseException as exc:  # noqa: BLE001
                outcome[0] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the sync waits for ever"
        return outcome[0]

    def marked() -> tuple[int, int]:
        conn, _ = open_cache(cache, history)
        try:
            mark = int(stats_module.meta_value(conn, "stats_mark") or 0)
            (noted,) = conn.execute("SELECT coalesce(sum(events), 0) FROM st_sessions").fetchone()
            return mark, noted + int(stats_module.meta_value(conn, "stats_orphans") or 0)
        finally:
            conn.close()

    def first_events_to(mark: int) -> int:
        return sqlite3.connect(history).execute("SELECT count(*) FROM events WHERE rowid <= ?", (mark,)).fetchone()[0]

    asked = []

    def stop_after_five() -> bool:  # asked in one lane only: the other must learn it from that lane
        asked.append(1)
        return len(asked) > 5 and not threading.current_thread().name.startswith("stats-lane")

    def sync_stopping() -> None:
        conn, _ = open_cache(cache, history)
        try:
            sync_stats(conn, should_stop=stop_after_five)
        finally:
            conn.close()

    assert in_thread(sync_stopping) is None
    mark, noted = marked()
    assert 0 < mark and noted == first_events_to(mark)  # a prefix of the history, whole
    assert mark < sqlite3.connect(history).execute("SELECT max(rowid) FROM events").fetchone()[0]

    written = stats_module._write_chunk
    writes = []

    def failing_write(conn) -> None:
        writes.append(1)
        if len(writes) == 3:
            raise sqlite3.OperationalError("disk I/O error")
        written(conn)

    monkeypatch.setattr(stats_module, "_write_chunk", failing_write)

    def sync_failing() -> None:
        conn, _ = open_cache(cache, history)
        try:
            sync_stats(conn)
        finally:
            conn.close()

    error = in_thread(sync_failing)
    assert isinstance(error, sqlite3.OperationalError) and "disk I/O" in str(error)
    mark_after, noted = marked()
    assert mark_after > mark and noted == first_events_to(mark_after)
    monkeypatch.setattr(stats_module, "_write_chunk", written)
    assert snapshot(history, cache) == expected_tables


def test_a_search_s_sessions_alone(tmp_path: Path):
    history = write_history(tmp_path / "history.db", seed=6)
    conn, _ = open_cache(tmp_path / "cache.db", history)
    try:
        sync_stats(conn)
        chosen = ["s001", "s002", "s010", "missing"]
        rows = read_stats(conn, chosen, tz=UTC, top=100)
    finally:
        conn.close()
    db = sqlite3.connect(history)
    (events,) = db.execute("SELECT count(*) FROM events WHERE session_id IN ('s001', 's002', 's010')").fetchone()
    db.close()
    assert (rows.sessions, rows.events) == (3, events)
    assert {row[0] for row in rows.largest} == {"s001", "s002", "s010"}
    assert {row[4] for row in rows.outputs} <= {"s001", "s002", "s010"}


def test_weekday_and_hour_are_local(tmp_path: Path):
    """22:30 UTC on Saturday 14 March is 04:00 on Sunday 15 March in Kolkata (UTC+05:30)."""
    history = tmp_path / "history.db"
    conn = sqlite3.connect(history)
    conn.executescript(DASSHH_SCHEMA)
    conn.execute("INSERT INTO sessions VALUES ('s1', 't', '2026-03-14 22:30:00', '2026-03-14 22:30:00')")
    conn.execute("""INSERT INTO events VALUES ('e1', 'i', 's1', '2026-03-14 22:30:00.000000',
                    '{"role": "user", "content": "late"}')""")
    conn.execute("""INSERT INTO events VALUES ('e2', 'i', 's1', '2026-03-14 22:20:00.000000',
                    '{"role": "user", "content": "a bit earlier"}')""")
    conn.commit()
    conn.close()
    _, utc = computed(history, tmp_path / "cache.db", UTC)
    rows, kolkata = computed(history, tmp_path / "cache.db", KOLKATA)
    assert utc.grid[5][22] == 2 and sum(map(sum, utc.grid)) == 2
    assert kolkata.grid[6][3] == 1 and kolkata.grid[6][4] == 1 and sum(map(sum, kolkata.grid)) == 2
    assert [str(day) for day in utc.activity.starts] == ["2026-03-14"]
    assert [str(day) for day in kolkata.activity.starts] == ["2026-03-15"]
    assert kolkata == build_stats(rows)  # the same figures each time


def test_the_history_is_never_written(tmp_path: Path):
    history = write_history(tmp_path / "history.db", seed=7)
    before = digest(history)
    client = DBClient(db_path=history, read_only=True)
    keeper = StatsKeeper(client, tmp_path / "cache.db")
    try:
        keeper.sync()
        stats = keeper.figures()
    finally:
        keeper.close()
        client.dispose()
    assert digest(history) == before
    assert stats.sessions == 40 and stats.db_bytes == history.stat().st_size
    # The stats have a file of their own beside the search cache; the figures give the search cache's size,
    # none while there is no index.
    assert (tmp_path / "cache.stats.db").is_file() and not (tmp_path / "cache.db").exists()
    assert stats.cache_bytes is None
    open_cache(tmp_path / "cache.db", history)[0].close()
    keeper = StatsKeeper(client, tmp_path / "cache.db")
    try:
        assert keeper.figures().cache_bytes == (tmp_path / "cache.db").stat().st_size + sum(
            part.stat().st_size for part in tmp_path.glob("cache.db-wal"))
    finally:
        keeper.close()


def test_the_whole_history_s_figures_are_kept_until_they_change(tmp_path: Path):
    """Read twice, the second from what the cache kept; a rename shows at once, a new event after a sync, another
    zone is worked out for itself."""
    history = write_history(tmp_path / "history.db", seed=8)
    conn, _ = open_cache(tmp_path / "cache.db", history)
    try:
        sync_stats(conn)
        first = read_stats(conn, tz=UTC)
        kept = conn.execute("SELECT value FROM meta WHERE key = 'stats_whole'").fetchone()
        assert kept is not None and read_stats(conn, tz=UTC) == first
        assert read_stats(conn, tz=KOLKATA).session_days != [] and read_stats(conn, tz=UTC) == first
        db = sqlite3.connect(history)
        top = first.largest[0][0]
        db.execute("UPDATE sessions SET detail = 'Renamed' WHERE id = ?", (top,))
        db.execute("""INSERT INTO events VALUES ('late', 'i', ?, '2026-06-01 10:00:00', '{"role": "user"}')""", (top,))
        db.commit()
        db.close()
        assert read_stats(conn, tz=UTC).largest[0][1] == "Renamed"
        sync_stats(conn)
        after = read_stats(conn, tz=UTC)
        assert (after.events, after.messages, after.largest[0][2]) == (first.events + 1, first.messages + 1,
                                                                        first.largest[0][2] + 1)
        # every title read afresh (in one query), as the figures worked out afresh give them: renamed, a BLOB, gone
        outputs, longest = after.outputs[0][4], after.longest[-1][0]
        db = sqlite3.connect(history)
        db.execute("UPDATE sessions SET detail = ? WHERE id = ?", (b"bytes \xff title", outputs))
        db.execute("UPDATE sessions SET detail = '[b]Longest[/b]' WHERE id = ?", (longest,))
        db.execute("DELETE FROM sessions WHERE id = ?", (after.largest[1][0],))
        db.commit()
        db.close()
        kept_rows = read_stats(conn, tz=UTC)
        assert kept_rows == stats_read._read_stats(conn, None, UTC, 10)
        assert [row[5] for row in kept_rows.outputs if row[4] == outputs][0] == "bytes \ufffd title"
        assert [row[1] for row in kept_rows.longest if row[0] == longest] == ["[b]Longest[/b]"]
        assert [row[1] for row in kept_rows.largest if row[0] == after.largest[1][0]] == [None]
    finally:
        conn.close()


def test_the_whole_history_read_on_two_connections_gives_what_one_gives(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    """The whole history's figures are read in two halves at once, the second on a connection of its own (closed
    after); read on one connection (as a cache in memory is), they are the same, across a change of summer time."""
    history = write_history(tmp_path / "history.db", seed=9, sessions=80)
    opened: list[sqlite3.Connection] = []

    def sibling(conn: sqlite3.Connection) -> sqlite3.Connection | None:
        other = schema.sibling(conn)
        opened.append(other)
        return other

    conn, _ = open_cache(tmp_path / "cache.db", history)
    try:
        sync_stats(conn)
        monkeypatch.setattr(stats_read, "sibling", sibling)
        two = stats_read._read_stats(conn, None, NEW_YORK, 1000)
        assert len(opened) == 1 and opened[0] is not None
        with pytest.raises(sqlite3.ProgrammingError):
            opened[0].execute("SELECT 1")  # closed
        monkeypatch.setattr(stats_read, "sibling", lambda conn: None)
        one = stats_read._read_stats(conn, None, NEW_YORK, 1000)
    finally:
        conn.close()
    assert two == one
    assert two.sessions == 80 and two.grid and two.tools and two.outputs and two.message_days and two.session_days


def test_the_stats_never_wait_for_the_search_index_s_write_lock(tmp_path: Path):
    """The stats have a file of their own: worked out while another process holds the search cache's write lock
    (as an index build does nearly all the time), they neither wait for it nor fail with "database is locked"."""
    import time

    history = write_history(tmp_path / "history.db", seed=9)
    search = tmp_path / "search.db"
    open_cache(search, history)[0].close()
    builder = sqlite3.connect(search, isolation_level=None)
    builder.execute("BEGIN IMMEDIATE")  # held for the whole computation
    client = DBClient(db_path=history, read_only=True)
    keeper = StatsKeeper(client, search)
    try:
        start = time.monotonic()
        keeper.sync()
        stats = keeper.figures()
        assert time.monotonic() - start < 4  # the busy timeout is 5 s: nothing waited for the lock
        assert stats.sessions == 40
    finally:
        keeper.close()
        client.dispose()
        builder.execute("ROLLBACK")
        builder.close()
    assert (tmp_path / "search.stats.db").is_file()
    tables = {name for (name,) in sqlite3.connect(search).execute("SELECT name FROM sqlite_master")}
    assert not any(name.startswith("st_") for name in tables)


def test_stats_kept_in_the_search_cache_by_an_older_version_are_dropped_by_the_next_index_sync(tmp_path: Path):
    from dasshh_history.data.search import SearchIndex

    history = write_history(tmp_path / "history.db", seed=10, sessions=5)
    search = tmp_path / "search.db"
    conn, _ = open_cache(search, history)
    sync_stats(conn)  # the stats tables in the search cache file, as versions before the stats file made them
    assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'stats%'").fetchone()[0] > 0
    conn.close()
    client = DBClient(db_path=history, read_only=True)
    index = SearchIndex(client, path=search)
    try:
        index.sync()
    finally:
        index.close()
        client.dispose()
    conn = sqlite3.connect(search)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'st\\_%' ESCAPE '\\'").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'stats%'").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM docs").fetchone()[0] > 0  # the index itself is there
