"""The stats tables: what each session adds up to, kept up to date by event rowid.

The figures of the stats screen and the ``stats`` command come from here.
They are kept in a cache file of their own beside the search cache (never in
dasshh's database; see :func:`~dasshh_history.data.search.schema.stats_cache_path`),
with a version of their own (``stats_schema`` in ``meta``): they are worked
out in seconds where the index takes a minute, so they never wait for it,
not even for its write lock.

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

Roles and tool names are read with SQLite's JSON functions (``$.role``,
``$.tool_calls``, a result's ``$.name``), as the timeline reads them (a call
without a name is ``?``); whether a result failed is the timeline's rule, in
Python (:func:`~dasshh_history.domain.stats.value_failed`).

New events are read after the last one noted (``stats_mark``), a chunk at a
time: first into temporary tables of a connection (one statement, which
reads the history and writes nothing of the cache: see
:mod:`~dasshh_history.data.search.stats_stage`), then added up into the
stats tables in one write of the cache that reads nothing of the history
(see :func:`~dasshh_history.data.search.schema.begin`).  A first
computation reads its chunks on two connections at once, and writes them in
turn (:func:`_add_in_lanes`).  Sessions gone lose their rows.  When the
events noted no longer add up to those in the history
(events gone from a session that is still there, old ones back after an
undone delete, orphans whose session came) everything is worked out afresh:
rare, and a first computation takes seconds.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.data.search.lanes import in_lanes
from dasshh_history.data.search.schema import sibling, write_cache
from dasshh_history.data.search.stats_stage import READ_SESSIONS, prepare, read_chunk, text_of, unstage

#: Bump when these tables or what goes in them change: they are worked out again.
STATS_SCHEMA = "3"
#: Events read and added up per write.
STATS_CHUNK = 25_000
#: Connections reading chunks at once, when there are several to read (see :func:`_add_in_lanes`).
STATS_LANES = min(2, os.cpu_count() or 1)
#: Above every rowid: a chunk read to the end.
_NO_END = 2**63 - 1
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
    session INTEGER NOT NULL, call_id TEXT NOT NULL, event INTEGER NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (session, call_id, event, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS st_outputs (
    event INTEGER PRIMARY KEY, session INTEGER NOT NULL, tool TEXT NOT NULL, size INTEGER NOT NULL, created INTEGER
);
CREATE INDEX IF NOT EXISTS st_outputs_size ON st_outputs (size);
CREATE INDEX IF NOT EXISTS st_outputs_session ON st_outputs (session)
"""
#: The stats tables (an older version kept them in the search cache: see ``sync._drop_old_stats``).
STATS_TABLES = ("st_sessions", "st_slots", "st_tools", "st_calls", "st_outputs")
_META = ("stats_mark", "stats_last_id", "stats_orphans", "stats_sessions", "stats_whole")

# A result's tool as the timeline names it: its own name (a string, not empty), else its call's (see ``_add_up``).
_TOOL = f"coalesce(nullif({text_of('tool')}, ''), named, '?')"


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
        for name in STATS_TABLES:
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
    for name in STATS_TABLES:
        conn.execute(f"DELETE FROM {name}")
    conn.executemany("DELETE FROM meta WHERE key = ?", [(key,) for key in _META])


def sync_stats(conn: sqlite3.Connection, progress: Progress | None = None,
               should_stop: Callable[[], bool] = lambda: False) -> StatsSync:
    """Bring the stats tables of the cache ``conn`` (the history attached as ``hist``) in step with the history.

    Cheap when nothing changed (a few counts).  New events are added up in
    chunks of :data:`STATS_CHUNK`, each one write, in the history's order;
    ``progress`` is told after each.  Many chunks are read on
    :data:`STATS_LANES` connections at once (see :func:`_add_in_lanes`), so
    ``progress`` and ``should_stop`` may be called from another thread.
    Stopped (``should_stop``) between chunks, the next sync goes on.
    """
    ensure_tables(conn)
    prepare(conn)
    sessions, afresh = _sync_sessions(conn)
    if not afresh and not _adds_up(conn):
        write_cache(conn, _clear)
        afresh = True
        _sync_sessions(conn)
    (total,) = conn.execute("SELECT count(*) FROM hist.events").fetchone()
    done = _counted(conn)

    def tell(added: int) -> None:
        if progress is not None:
            progress(done + added, max(total, done + added))

    added = _add_in_lanes(conn, total - done, tell, should_stop) if STATS_LANES > 1 else 0
    while not should_stop():
        mark = int(meta_value(conn, "stats_mark") or 0)
        count = read_chunk(conn, mark, _NO_END, STATS_CHUNK)
        if count <= 0:
            break
        _write_chunk(conn)
        added += count
        tell(added)
    unstage(conn)
    if conn.execute("SELECT 1 FROM st_sessions WHERE id IS NULL LIMIT 1").fetchone() is not None:
        # Sessions written while their events were read: named now (or, for orphans' sessions, all afresh).
        more = sync_stats(conn, progress, should_stop)
        return StatsSync(added=added + more.added, sessions=sessions + more.sessions, afresh=afresh or more.afresh)
    return StatsSync(added=added, sessions=sessions, afresh=afresh)


def _write_chunk(conn: sqlite3.Connection) -> None:
    """Add the staged chunk up into the stats tables: one write of the cache."""
    (last_id,) = conn.execute("SELECT CAST(id AS TEXT) FROM hist.events WHERE rowid = "
                              "(SELECT max(event) FROM temp.st_ev)").fetchone() or (None,)
    write_cache(conn, functools.partial(_add_up, last_id=last_id))


def _add_in_lanes(conn: sqlite3.Connection, pending: int, tell: Callable[[int], None],
                  should_stop: Callable[[], bool]) -> int:
    """Add up the events not noted yet on :data:`STATS_LANES` connections at once; how many were.  (Those
    written meanwhile are left to the caller.)

    A first computation is mostly reading: SQLite's JSON functions, which let
    other threads run (in parallel once SQLite's memory statistics are off,
    see :mod:`~dasshh_history.data.sqlite_setup`: their lock is taken at every
    allocation).  Each lane reads every other chunk into its own
    staging tables, and writes it when its turn comes (see
    :func:`~dasshh_history.data.search.lanes.in_lanes`): the chunks are
    written in the history's order (each names its results after calls
    written before), one write at a time, so the tables are the same as those
    one connection would make.  A cache in memory has one lane.
    """
    ranges = _chunk_ranges(conn, int(meta_value(conn, "stats_mark") or 0), pending)
    if len(ranges) < 2:
        return 0
    lanes = [conn]
    try:
        for _ in range(STATS_LANES - 1):
            other = sibling(conn)
            if other is None:
                break
            lanes.append(other)
            prepare(other)
        if len(lanes) < 2:
            return 0
        counts = [0] * len(ranges)

        def write(lane: sqlite3.Connection, chunk: int, count: int) -> None:
            if count > 0:
                _write_chunk(lane)
                counts[chunk] = count
                tell(sum(counts))

        # A range is read whole, even if rows came back into it since (an undone delete keeps its rowids).
        in_lanes(lanes, ranges, lambda lane, bounds: read_chunk(lane, *bounds, limit=_NO_END), write, should_stop,
                 name="stats-lane")
        return sum(counts)
    finally:
        for other in lanes[1:]:
            unstage(other)
            other.close()
        unstage(conn)


def _chunk_ranges(conn: sqlite3.Connection, mark: int, pending: int) -> list[tuple[int, int]]:
    """The chunks of the ``pending`` events after rowid ``mark``: (after, up to) rowid, in order.

    About :data:`STATS_CHUNK` events each, but the first half as big: the
    first lane writes it while the second still reads its own, so the lanes
    take turns (one reads while the other writes) from the start instead of
    reading together and then waiting.  Cut by rowid when the rowids are dense,
    as dasshh's are (each event takes the next one): free.  Else by counting.
    """
    (last,) = conn.execute("SELECT max(rowid) FROM hist.events").fetchone()
    if last is None or mark >= last or pending <= 0:
        return []
    cuts = range(STATS_CHUNK // 2, pending, STATS_CHUNK)  # events before each cut
    span = last - mark
    if span <= 2 * pending:
        ends = [mark + cut * span // pending for cut in cuts]
    else:
        ends, end, counted = [], mark, 0
        for cut in cuts:  # each counted on from the one before: the history is read once
            row = conn.execute("SELECT rowid FROM hist.events WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?",
                               (end, cut - counted - 1)).fetchone()
            if row is None:
                break
            end, counted = row[0], cut
            ends.append(end)
    bounds = [mark, *sorted({end for end in ends if mark < end < last}), last]
    return list(zip(bounds, bounds[1:], strict=False))


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

    Skipped after a count when the sessions are those noted before (their count and largest rowid).  The
    sessions are read into ``temp.st_sess`` (one statement on the history), then compared in SQL.
    """
    (stamp,) = conn.execute("SELECT count(*) || ',' || coalesce(max(rowid), 0) FROM hist.sessions").fetchone()
    if meta_value(conn, "stats_sessions") == stamp:
        return 0, False
    conn.execute("DELETE FROM temp.st_sess")
    conn.execute(READ_SESSIONS)
    # Gone: no longer there, or another session in its place.  (A session first noted by its events, written
    # after the sessions were read, has no id and date yet: it is named below.)
    gone = conn.execute(
        "SELECT k.session FROM st_sessions k LEFT JOIN temp.st_sess c ON c.session = k.session "
        "WHERE c.session IS NULL OR (k.id IS NOT NULL AND k.id IS NOT c.id)").fetchall()
    (new,) = conn.execute(
        "SELECT count(*) FROM temp.st_sess c LEFT JOIN st_sessions k ON k.session = c.session "
        "WHERE k.session IS NULL OR (k.id IS NOT NULL AND k.id IS NOT c.id)").fetchone()
    afresh = bool(new) and int(meta_value(conn, "stats_orphans") or 0) > 0

    def apply(conn: sqlite3.Connection) -> None:
        if afresh:
            _clear(conn)
        else:
            for table in STATS_TABLES:
                conn.executemany(f"DELETE FROM {table} WHERE session = ?", gone)
        conn.execute("INSERT OR IGNORE INTO st_sessions (session, id, created) SELECT session, id, created "
                     "FROM temp.st_sess ORDER BY session")
        conn.execute("UPDATE st_sessions SET id = c.id, created = c.created FROM temp.st_sess c "
                     "WHERE c.session = st_sessions.session AND st_sessions.id IS NULL")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('stats_sessions', ?)", (stamp,))
        _bump(conn)

    (listed,) = conn.execute("SELECT count(*) FROM temp.st_sess").fetchone()
    try:
        write_cache(conn, apply)
    finally:
        conn.execute("DELETE FROM temp.st_sess")
    return (listed if afresh else len(gone) + new), afresh


def _add_up(conn: sqlite3.Connection, last_id: str | None) -> None:
    """Add the staged chunk to the stats tables (inside a write; reads nothing of the history)."""
    _bump(conn)
    conn.execute(
        "INSERT INTO st_calls SELECT session, call_id, event, seq, name FROM temp.st_call "
        "WHERE session IS NOT NULL AND call_id IS NOT NULL AND name <> '?' ON CONFLICT DO NOTHING"
    )
    # A result without a name is named after the call it answers (an earlier call of its session with its id).
    conn.execute(
        f"UPDATE temp.st_ev SET named = (SELECT c.name FROM st_calls c WHERE c.session = st_ev.session "
        f"AND c.call_id = {text_of('st_ev.call_id')} AND c.event < st_ev.event ORDER BY c.event DESC, c.seq DESC "
        f"LIMIT 1) WHERE kind = 3 AND nullif({text_of('tool')}, '') IS NULL AND call_id LIKE '\"%' "
        "AND session IS NOT NULL"
    )
    conn.execute(
        """INSERT INTO st_sessions (session, id, created, events, messages, calls, results, failed, bytes, first, last)
           SELECT session, NULL, NULL, g.events, g.messages, coalesce(c.calls, 0), g.results, g.failed, g.bytes,
                  g.first, g.last
           FROM (SELECT session, count(*) AS events, count(*) FILTER (WHERE kind IN (1, 2)) AS messages,
                        count(*) FILTER (WHERE kind = 3) AS results, sum(failed) AS failed, sum(size) AS bytes,
                        min(created) AS first, max(created) AS last
                 FROM temp.st_ev WHERE session IS NOT NULL GROUP BY session) g
           LEFT JOIN (SELECT session, count(*) AS calls FROM temp.st_call WHERE session IS NOT NULL
                      GROUP BY session) c USING (session)
           WHERE true  -- (an upsert's SELECT with a join needs a WHERE)
           ON CONFLICT (session) DO UPDATE SET
               events = events + excluded.events, messages = messages + excluded.messages,
               calls = calls + excluded.calls, results = results + excluded.results,
               failed = failed + excluded.failed, bytes = bytes + excluded.bytes,
               first = CASE WHEN first IS NULL OR excluded.first < first THEN excluded.first ELSE first END,
               last = CASE WHEN last IS NULL OR excluded.last > last THEN excluded.last ELSE last END"""
    )
    conn.execute(
        f"""INSERT INTO st_slots SELECT session, created / {SLOT_MS} AS slot, count(*) FROM temp.st_ev
            WHERE session IS NOT NULL AND kind IN (1, 2) AND created IS NOT NULL GROUP BY session, slot
            ON CONFLICT (session, slot) DO UPDATE SET messages = messages + excluded.messages"""
    )
    conn.execute(
        f"""INSERT INTO st_tools SELECT session, name, sum(calls), sum(results), sum(failed) FROM (
               SELECT session, name, 1 AS calls, 0 AS results, 0 AS failed FROM temp.st_call WHERE session IS NOT NULL
               UNION ALL
               SELECT session, {_TOOL}, 0, 1, failed FROM temp.st_ev
               WHERE session IS NOT NULL AND kind = 3
           ) GROUP BY session, name
           ON CONFLICT (session, name) DO UPDATE SET calls = calls + excluded.calls,
               results = results + excluded.results, failed = failed + excluded.failed"""
    )
    conn.execute(
        f"INSERT OR REPLACE INTO st_outputs SELECT event, session, {_TOOL}, size, created FROM temp.st_ev "
        "WHERE kind = 3 AND session IS NOT NULL"
    )
    mark, orphans = conn.execute("SELECT max(event), count(*) FILTER (WHERE session IS NULL) FROM temp.st_ev"
                                 ).fetchone()
    orphans += int(meta_value(conn, "stats_orphans") or 0)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                     [("stats_mark", str(mark)), ("stats_last_id", last_id), ("stats_orphans", str(orphans))])
