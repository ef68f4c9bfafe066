"""The stats tables of the search cache file: what each session adds up to, kept up to date by event rowid.

The figures of the stats screen and the ``stats`` command come from here.
They are kept in the cache file (never in dasshh's database), in tables of
their own with a version of their own (``stats_schema`` in ``meta``), apart
from the search index: they are worked out in seconds where the index takes a
minute, so they never wait for it.  A cache emptied for a new index version
loses them too; they are worked out again.

Per session (``st_sessions``, keyed by the session's rowid in the history):
its events, messages (events whose role is ``user`` or ``assistant``), tool
calls, tool results and failed results, bytes, first and last event (ms since
1970, UTC).  Per session and quarter hour of UTC, its messages
(``st_slots``: every time zone's hours are whole quarter hours of UTC, so the
local weekday and hour are worked out from them, see
:mod:`~dasshh_history.domain.stats`).  Per session and tool, its calls,
results and failures (``st_tools``).  Each call (``st_calls``: a result
without a name is its call's) and each tool result (``st_outputs``, for the
largest).  Orphan events (no session has their ``session_id``) count in none
of these, only in ``stats_orphans``.

Tool names are read with SQLite's JSON functions over ``$.tool_calls``, as
the timeline reads them (a call without a name is ``?``); whether a result
failed is the timeline's rule, in Python (:func:`~dasshh_history.domain.stats.body_failed`).

New events are read after the last one noted (``stats_mark``), a chunk at a
time: first into a temporary table of this connection (one statement, which
reads the history and writes nothing of the cache), then added up into the
stats tables in one write of the cache that reads nothing of the history
(see :func:`~dasshh_history.data.search.schema.begin`).  Sessions gone lose
their rows.  When the events noted no longer add up to those in the history
(events gone from a session that is still there, old ones back after an
undone delete, orphans whose session came) everything is worked out afresh:
rare, and a first computation takes seconds.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.data.search.schema import ms_sql, write_cache
from dasshh_history.domain.stats import body_failed

#: Bump when these tables or what goes in them change: they are worked out again.
STATS_SCHEMA = "2"
#: Events read and added up per write.
STATS_CHUNK = 50_000
#: A quarter hour in milliseconds: the unit of ``st_slots``.
SLOT_MS = 900_000

#: Progress of a computation: (events done, events in the history).
Progress = Callable[[int, int], None]

_TABLES = """
CREATE TABLE IF NOT EXISTS st_sessions (
    session INTEGER PRIMARY KEY, id TEXT, created INTEGER, events INTEGER NOT NULL DEFAULT 0,
    messages INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0, results INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, first INTEGER, last INTEGER
);
CREATE TABLE IF NOT EXISTS st_slots (
    session INTEGER NOT NULL, slot INTEGER NOT NULL, messages INTEGER NOT NULL, PRIMARY KEY (session, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS st_tools (
    session INTEGER NOT NULL, name TEXT NOT NULL, calls INTEGER NOT NULL, results INTEGER NOT NULL,
    failed INTEGER NOT NULL, PRIMARY KEY (session, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS st_calls (
    event INTEGER NOT NULL, seq INTEGER NOT NULL, session INTEGER NOT NULL, name TEXT NOT NULL, call_id TEXT,
    PRIMARY KEY (event, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS st_calls_id ON st_calls (call_id, session) WHERE call_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS st_calls_session ON st_calls (session);
CREATE TABLE IF NOT EXISTS st_outputs (
    event INTEGER PRIMARY KEY, session INTEGER NOT NULL, tool TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER
);
CREATE INDEX IF NOT EXISTS st_outputs_size ON st_outputs (size);
CREATE INDEX IF NOT EXISTS st_outputs_session ON st_outputs (session)
"""
_NAMES = ("st_sessions", "st_slots", "st_tools", "st_calls", "st_outputs")
_META = ("stats_mark", "stats_last_id", "stats_orphans", "stats_sessions", "stats_whole")

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS st_ev (
    event INTEGER PRIMARY KEY, event_id TEXT, session INTEGER, session_id, session_created INTEGER, created INTEGER,
    size INTEGER, kind INTEGER, tool TEXT, call_id TEXT, body_type TEXT, body, calls_type TEXT, calls TEXT
);
CREATE TEMP TABLE IF NOT EXISTS st_call (event INTEGER, seq INTEGER, session INTEGER, name TEXT, call_id TEXT);
CREATE TEMP TABLE IF NOT EXISTS st_failed (event INTEGER PRIMARY KEY)
"""
_VALID = "typeof(e.content) = 'text' AND json_valid(e.content)"
_NAMED = ("CASE WHEN json_type({0}, '$.name') = 'text' AND json_extract({0}, '$.name') <> '' "
          "THEN json_extract({0}, '$.name') END")
# A chunk of events, from the history into ``st_ev``: the JSON functions never see a BLOB or bad JSON.
# A chunk of events, from the history into ``st_ev``: the JSON functions never see a BLOB or bad JSON.  (Each
# call of a JSON function parses the text again: every content is parsed twice, a tool result's a few times more.)
_READ = f"""
INSERT INTO temp.st_ev
SELECT rowid, NULL, session, NULL, NULL, created, size, kind,
       CASE WHEN kind = 3 THEN {_NAMED.format('content')} END,
       CASE WHEN kind = 3 AND json_type(content, '$.tool_call_id') = 'text'
            THEN json_extract(content, '$.tool_call_id') END,
       CASE WHEN kind = 3 THEN json_type(content, '$.content') END,
       CASE WHEN kind = 3 AND json_type(content, '$.content') IN ('text', 'object', 'array')
            THEN json_extract(content, '$.content') END,
       CASE WHEN kind = 2 THEN json_type(content, '$.tool_calls') END,
       CASE WHEN kind = 2 AND json_type(content, '$.tool_calls') IN ('object', 'array')
            THEN json_extract(content, '$.tool_calls') END
FROM (
    SELECT e.rowid AS rowid, s.rowid AS session, {ms_sql('e.created_at')} AS created,
           coalesce(length(CAST(e.content AS BLOB)), 0) AS size,
           CASE WHEN {_VALID} THEN CASE json_extract(e.content, '$.role')
               WHEN 'user' THEN 1 WHEN 'assistant' THEN 2 WHEN 'tool' THEN 3 WHEN 'system' THEN 4 ELSE 0 END
           ELSE 0 END AS kind,
           e.content AS content
    FROM hist.events e LEFT JOIN hist.sessions s ON s.id = e.session_id
    WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?
) WHERE kind >= 0  -- a WHERE keeps the subquery (LIMIT) from being flattened: its JSON is read once a row
"""
# The tool calls of the chunk's assistant messages, as the timeline shows them: a ``tool_calls`` list holds a
# call per item, an object is one call (any other value but null too, without a name); no name is ``?``.
_CALL = ("CASE WHEN json_type({0}, '$.function.name') = 'text' AND json_extract({0}, '$.function.name') <> '' "
         "THEN json_extract({0}, '$.function.name') ELSE '?' END")  # no function object: no name either
_CALL_ID = "CASE WHEN json_type({0}, '$.id') = 'text' THEN json_extract({0}, '$.id') END"
_SPLIT_CALLS = f"""
INSERT INTO temp.st_call
SELECT event, 0, session, CASE WHEN calls_type = 'object' THEN {_CALL.format('calls')} ELSE '?' END,
       CASE WHEN calls_type = 'object' THEN {_CALL_ID.format('calls')} END
FROM temp.st_ev WHERE kind = 2 AND calls_type NOT IN ('array', 'null')
UNION ALL
SELECT event, x.key, session, CASE WHEN x.type = 'object' THEN {_CALL.format('x.value')} ELSE '?' END,
       CASE WHEN x.type = 'object' THEN {_CALL_ID.format('x.value')} END
FROM temp.st_ev, json_each(CASE WHEN calls_type = 'array' THEN calls END) x WHERE kind = 2
"""


@dataclass(frozen=True, slots=True)
class StatsSync:
    """What one :func:`sync_stats` changed."""

    added: int = 0
    sessions: int = 0  # sessions added or gone
    afresh: bool = False  # everything was worked out again

    def __bool__(self) -> bool:
        return bool(self.added or self.sessions or self.afresh)


def meta_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row is not None else None


def ensure_tables(conn: sqlite3.Connection) -> None:
    """Make the stats tables when missing, or afresh when of another :data:`STATS_SCHEMA` (one write)."""
    if meta_value(conn, "stats_schema") == STATS_SCHEMA:
        return

    def make(conn: sqlite3.Connection) -> None:
        if meta_value(conn, "stats_schema") == STATS_SCHEMA:
            return  # made meanwhile, by another process
        for name in _NAMES:
            conn.execute(f"DROP TABLE IF EXISTS {name}")
        for statement in _TABLES.split(";"):
            conn.execute(statement)
        conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in _META])
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('stats_schema', ?)", (STATS_SCHEMA,))

    write_cache(conn, make)


def has_stats(conn: sqlite3.Connection) -> bool:
    """Whether the cache holds stats worked out before (perhaps behind the history): they can be shown at once."""
    return meta_value(conn, "stats_schema") == STATS_SCHEMA and meta_value(conn, "stats_sessions") is not None


def _bump(conn: sqlite3.Connection) -> None:
    """Note that the figures changed (inside a write): what :func:`read_stats` kept is stale."""
    conn.execute("INSERT INTO meta VALUES ('stats_version', '1') ON CONFLICT (key) DO UPDATE "
                 "SET value = CAST(value AS INTEGER) + 1")


def _clear(conn: sqlite3.Connection) -> None:
    """Forget every figure (inside a write): they are worked out afresh."""
    _bump(conn)
    for name in _NAMES:
        conn.execute(f"DELETE FROM {name}")
    conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in _META])


def sync_stats(conn: sqlite3.Connection, progress: Progress | None = None,
               should_stop: Callable[[], bool] = lambda: False) -> StatsSync:
    """Bring the stats tables of the cache ``conn`` (the history attached as ``hist``) in step with the history.

    Cheap when nothing changed (a few counts).  New events are added up in
    chunks of :data:`STATS_CHUNK`, each one write; ``progress`` is told after
    each.  Stopped (``should_stop``) between chunks, the next sync goes on.
    """
    ensure_tables(conn)
    conn.execute("PRAGMA temp_store = MEMORY")  # the staged chunk: tens of megabytes at most
    for statement in _STAGE.split(";"):
        conn.execute(statement)
    sessions, afresh = _sync_sessions(conn)
    if not afresh and not _adds_up(conn):
        write_cache(conn, _clear)
        afresh = True
        _sync_sessions(conn)
    (total,) = conn.execute("SELECT count(*) FROM hist.events").fetchone()
    done = _counted(conn)
    added = 0
    while not should_stop():
        mark = int(meta_value(conn, "stats_mark") or 0)
        _unstage(conn)
        count = conn.execute(_READ, (mark, STATS_CHUNK)).rowcount
        if count <= 0:
            break
        _stage(conn)
        (last_id,) = conn.execute("SELECT CAST(id AS TEXT) FROM hist.events WHERE rowid = "
                                  "(SELECT max(event) FROM temp.st_ev)").fetchone() or (None,)
        write_cache(conn, functools.partial(_add_up, last_id=last_id))
        added += count
        if progress is not None:
            progress(done + added, max(total, done + added))
    _unstage(conn)
    if conn.execute("SELECT 1 FROM st_sessions WHERE id IS NULL LIMIT 1").fetchone() is not None:
        # Sessions written while their events were read: named now (or, for orphans' sessions, all afresh).
        more = sync_stats(conn, progress, should_stop)
        return StatsSync(added=added + more.added, sessions=sessions + more.sessions, afresh=afresh or more.afresh)
    return StatsSync(added=added, sessions=sessions, afresh=afresh)


def _counted(conn: sqlite3.Connection) -> int:
    """Events noted so far (orphans too)."""
    (events,) = conn.execute("SELECT coalesce(sum(events), 0) FROM st_sessions").fetchone()
    return events + int(meta_value(conn, "stats_orphans") or 0)


def _adds_up(conn: sqlite3.Connection) -> bool:
    """Whether the events noted are those of the history up to the last one noted (by count, and its id)."""
    mark = int(meta_value(conn, "stats_mark") or 0)
    (there,) = conn.execute("SELECT count(*) FROM hist.events WHERE rowid <= ?", (mark,)).fetchone()
    if there != _counted(conn):
        return False
    if not mark:
        return True
    (last_id,) = conn.execute("SELECT CAST(id AS TEXT) FROM hist.events WHERE rowid = ?", (mark,)).fetchone() or (None,)
    return last_id == meta_value(conn, "stats_last_id")


def _sync_sessions(conn: sqlite3.Connection) -> tuple[int, bool]:
    """Note new sessions, forget those gone; how many changed, and whether everything is to be worked out
    afresh (a new session while orphans are noted: they may be its events).

    Skipped after a count when the sessions are those noted before (their count and largest rowid).
    """
    (stamp,) = conn.execute("SELECT count(*) || ',' || coalesce(max(rowid), 0) FROM hist.sessions").fetchone()
    if meta_value(conn, "stats_sessions") == stamp:
        return 0, False
    listed = conn.execute(f"SELECT rowid, id, {ms_sql('created_at')} FROM hist.sessions").fetchall()
    known = dict(conn.execute("SELECT session, id FROM st_sessions").fetchall())
    current = {rowid: (session_id, created) for rowid, session_id, created in listed}
    # A session first noted by its events (written after the sessions were read) has no id and date yet.
    named = [(current[rowid][0], current[rowid][1], rowid) for rowid, session_id in known.items()
             if session_id is None and rowid in current]
    gone = [(rowid,) for rowid, session_id in known.items()
            if rowid not in current or (session_id is not None and current[rowid][0] != session_id)]
    new = [(rowid, session_id, created) for rowid, (session_id, created) in current.items()
           if rowid not in known or (known[rowid] is not None and known[rowid] != session_id)]
    afresh = bool(new) and int(meta_value(conn, "stats_orphans") or 0) > 0
    if afresh:
        gone, named = [], []
        new = [(rowid, session_id, created) for rowid, (session_id, created) in current.items()]

    def apply(conn: sqlite3.Connection) -> None:
        if afresh:
            _clear(conn)
        for table in _NAMES:
            conn.executemany(f"DELETE FROM {table} WHERE session = ?", gone)
        conn.executemany("INSERT OR IGNORE INTO st_sessions (session, id, created) VALUES (?, ?, ?)", new)
        conn.executemany("UPDATE st_sessions SET id = ?, created = ? WHERE session = ?", named)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('stats_sessions', ?)", (stamp,))
        _bump(conn)

    write_cache(conn, apply)
    return len(gone) + len(new), afresh


def _unstage(conn: sqlite3.Connection) -> None:
    for table in ("st_ev", "st_call", "st_failed"):
        conn.execute(f"DELETE FROM temp.{table}")


def _stage(conn: sqlite3.Connection) -> None:
    """Split the staged chunk's calls, and mark its failed results (the timeline's rules, in Python)."""
    conn.execute(_SPLIT_CALLS)
    results = conn.execute("SELECT event, body_type, body FROM temp.st_ev WHERE kind = 3").fetchall()
    failed = [(event,) for event, kind, body in results if body_failed(kind, body)]
    conn.executemany("INSERT OR IGNORE INTO temp.st_failed VALUES (?)", failed)


def _add_up(conn: sqlite3.Connection, last_id: str | None) -> None:
    """Add the staged chunk to the stats tables (inside a write; reads nothing of the history)."""
    _bump(conn)
    conn.execute(
        "INSERT INTO st_calls SELECT event, seq, session, name, call_id FROM temp.st_call WHERE session IS NOT NULL "
        "ON CONFLICT DO NOTHING"
    )
    # A result without a name is named after the call it answers (an earlier call of its session with its id).
    conn.execute(
        "UPDATE temp.st_ev SET tool = (SELECT c.name FROM st_calls c WHERE c.call_id = st_ev.call_id "
        "AND c.session = st_ev.session AND c.event < st_ev.event AND c.name <> '?' ORDER BY c.event DESC LIMIT 1) "
        "WHERE kind = 3 AND tool IS NULL AND call_id IS NOT NULL AND session IS NOT NULL"
    )
    conn.execute(
        """INSERT INTO st_sessions (session, id, created, events, messages, results, failed, bytes, first, last)
           SELECT session, session_id, session_created, count(*), count(*) FILTER (WHERE kind IN (1, 2)),
                  count(*) FILTER (WHERE kind = 3), count(f.event), sum(size), min(created), max(created)
           FROM temp.st_ev LEFT JOIN temp.st_failed f USING (event) WHERE session IS NOT NULL GROUP BY session
           ON CONFLICT (session) DO UPDATE SET
               events = events + excluded.events, messages = messages + excluded.messages,
               results = results + excluded.results, failed = failed + excluded.failed,
               bytes = bytes + excluded.bytes,
               first = CASE WHEN first IS NULL OR excluded.first < first THEN excluded.first ELSE first END,
               last = CASE WHEN last IS NULL OR excluded.last > last THEN excluded.last ELSE last END"""
    )
    conn.execute(
        "UPDATE st_sessions SET calls = st_sessions.calls + a.n FROM (SELECT session, count(*) AS n FROM temp.st_call "
        "WHERE session IS NOT NULL GROUP BY session) a WHERE a.session = st_sessions.session"
    )
    conn.execute(
        f"""INSERT INTO st_slots SELECT session, created / {SLOT_MS} AS slot, count(*) FROM temp.st_ev
            WHERE session IS NOT NULL AND kind IN (1, 2) AND created IS NOT NULL GROUP BY session, slot
            ON CONFLICT (session, slot) DO UPDATE SET messages = messages + excluded.messages"""
    )
    conn.execute(
        """INSERT INTO st_tools SELECT session, name, sum(calls), sum(results), sum(failed) FROM (
               SELECT session, name, 1 AS calls, 0 AS results, 0 AS failed FROM temp.st_call WHERE session IS NOT NULL
               UNION ALL
               SELECT session, coalesce(tool, '?'), 0, 1, f.event IS NOT NULL FROM temp.st_ev
               LEFT JOIN temp.st_failed f USING (event) WHERE session IS NOT NULL AND kind = 3
           ) GROUP BY session, name
           ON CONFLICT (session, name) DO UPDATE SET calls = calls + excluded.calls,
               results = results + excluded.results, failed = failed + excluded.failed"""
    )
    conn.execute(
        "INSERT OR REPLACE INTO st_outputs SELECT event, session, coalesce(tool, '?'), size, created FROM temp.st_ev "
        "WHERE kind = 3 AND session IS NOT NULL"
    )
    mark, orphans = conn.execute("SELECT max(event), count(*) FILTER (WHERE session IS NULL) FROM temp.st_ev"
                                 ).fetchone()
    orphans += int(meta_value(conn, "stats_orphans") or 0)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [("stats_mark", str(mark)), ("stats_last_id", last_id), ("stats_orphans", str(orphans))])
