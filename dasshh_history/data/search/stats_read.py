"""Reading the stats tables of the search cache file (see :mod:`~dasshh_history.data.search.stats`): the figures
of every session, or of a search's results, with hours in a time zone; those of every session kept until they change.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo

from dasshh_history.data.search.schema import sibling, write_cache
from dasshh_history.data.search.stats import SLOT_MS, meta_value
from dasshh_history.domain.stats import LocalClock, StatsRows


def read_stats(conn: sqlite3.Connection, session_ids: Sequence[str] | None = None, *, tz: tzinfo | None = None,
               top: int = 10) -> StatsRows:
    """The figures of every session, or of ``session_ids`` alone (a search's results); hours in the zone ``tz``
    (None: the system's), counted here in SQL with the zone's offsets over the history's span.

    Those of every session are kept in the cache (``stats_whole``) until the stats change (``stats_version``)
    or another zone asks: the screen opens at once on a large history.  Titles are read afresh each time.
    """
    if session_ids is not None:
        return _read_stats(conn, session_ids, tz, top)
    key = json.dumps([meta_value(conn, "stats_version"), _zone_key(tz), top])
    kept = meta_value(conn, "stats_whole")
    if kept is not None:
        try:
            noted = json.loads(kept)
            if noted["key"] == key:
                return _titled(conn, _rows_from_json(noted["rows"]))
        except (ValueError, KeyError, TypeError):
            pass
    rows = _read_stats(conn, None, tz, top)
    try:
        write_cache(conn, lambda conn: conn.execute("INSERT OR REPLACE INTO meta VALUES ('stats_whole', ?)",
                                               (json.dumps({"key": key, "rows": _rows_to_json(rows)}),)))
    except sqlite3.OperationalError:
        pass  # the cache is busy or cannot be written: worked out again next time
    return rows


def _zone_key(tz: tzinfo | None) -> str:
    if tz is None:
        return f"local {os.environ.get('TZ')} {time.tzname} {time.timezone} {time.altzone}"
    return repr(tz)


def _rows_to_json(rows: StatsRows) -> dict:
    return {name: getattr(rows, name) for name in StatsRows.__dataclass_fields__}


def _rows_from_json(noted: dict) -> StatsRows:
    return StatsRows(**{name: [tuple(item) for item in value] if isinstance(value, list) else value
                        for name, value in noted.items()})


def _titled(conn: sqlite3.Connection, rows: StatsRows) -> StatsRows:
    """``rows`` with each session's title as it is now (a rename changes no figure), read in one query."""
    ids = list({row[4] for row in rows.outputs} | {row[0] for row in rows.largest} | {row[0] for row in rows.longest})
    titles = dict(conn.execute(f"SELECT id, detail FROM hist.sessions WHERE id IN ({', '.join('?' * len(ids))})",
                               ids).fetchall()) if ids else {}

    def title(session_id: object) -> object:
        return _texts((titles.get(session_id),))[0]

    return dataclasses.replace(
        rows,
        outputs=[(*row[:5], title(row[4])) for row in rows.outputs],
        largest=[(row[0], title(row[0]), *row[2:]) for row in rows.largest],
        longest=[(row[0], title(row[0]), *row[2:]) for row in rows.longest],
    )


def _read_stats(conn: sqlite3.Connection, session_ids: Sequence[str] | None, tz: tzinfo | None,
                top: int) -> StatsRows:
    """The figures, read in two halves: those of the sessions' table and those of the others.  Those of the whole
    history, which read every row of each table, are read on two connections at once (SQLite lets the other
    thread run meanwhile): the screen opens in the time of the longer half."""
    where = _chosen(conn, session_ids)
    other = sibling(conn) if session_ids is None else None
    if other is None:
        return StatsRows(**_by_session(conn, where, tz, top), **_by_event(conn, where, tz, top))
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="stats-read") as pool:
            by_event = pool.submit(_by_event, other, where, tz, top)
            by_session = _by_session(conn, where, tz, top)
            return StatsRows(**by_session, **by_event.result())
    finally:
        other.close()


def _chosen(conn: sqlite3.Connection, session_ids: Sequence[str] | None) -> str:
    """The SQL ``WHERE`` of the sessions chosen (``temp.st_chosen``): none for every session."""
    if session_ids is None:
        return ""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS st_chosen (session INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.st_chosen")
    conn.executemany(
        "INSERT OR IGNORE INTO temp.st_chosen SELECT rowid FROM hist.sessions WHERE id = ?",
        [(session_id,) for session_id in session_ids],
    )
    return "WHERE session IN (SELECT session FROM temp.st_chosen)"


def _by_session(conn: sqlite3.Connection, where: str, tz: tzinfo | None, top: int) -> dict[str, object]:
    """The figures of the sessions' table (``st_sessions``): totals, sessions per day, the largest and longest."""
    *totals, low, high = conn.execute(
        f"SELECT count(*), coalesce(sum(events), 0), coalesce(sum(messages), 0), coalesce(sum(calls), 0), "
        f"coalesce(sum(results), 0), coalesce(sum(failed), 0), min(first), max(last), "
        f"min(min(coalesce(created, first), coalesce(first, created))), "
        f"max(max(coalesce(created, last), coalesce(last, created))) FROM st_sessions {where}"
    ).fetchone()
    hour = _hour_sql(LocalClock(tz).intervals(low, high))
    session_days = conn.execute(
        f"SELECT {hour.format('coalesce(created, first)')} / 24 - {_SHIFT_DAYS} AS d, count(*) FROM st_sessions "
        f"{where} GROUP BY d HAVING d IS NOT NULL"
    ).fetchall()
    orphans = int(meta_value(conn, "stats_orphans") or 0)
    s = where.replace("session IN", "s.session IN")
    columns = "s.id, h.detail, s.events, s.bytes, s.first, s.last"
    joined = f"FROM st_sessions s LEFT JOIN hist.sessions h ON h.rowid = s.session {s}"
    largest = conn.execute(f"SELECT {columns} {joined} ORDER BY s.events DESC, s.bytes DESC, s.session LIMIT ?",
                           (top,)).fetchall()
    longest = conn.execute(
        f"SELECT {columns} {joined} {'AND' if s else 'WHERE'} s.last > s.first "
        "ORDER BY s.last - s.first DESC, s.session LIMIT ?",
        (top,),
    ).fetchall()
    return {**dict(zip(_TOTALS, totals, strict=True)), "orphans": orphans, "session_days": session_days,
            "largest": [_texts(row) for row in largest], "longest": [_texts(row) for row in longest]}


#: The totals, in the order the sessions' table gives them.
_TOTALS = ("sessions", "events", "messages", "calls", "results", "failed", "first", "last")


def _by_event(conn: sqlite3.Connection, where: str, tz: tzinfo | None, top: int) -> dict[str, list]:
    """The figures of the other tables: messages per local day, weekday and hour (``st_slots``), tools
    (``st_tools``), the largest outputs (``st_outputs``)."""
    # The zone's offsets over the span of these slots, not the sessions' (which the other half reads): this half
    # waits for nothing of the other.
    low, high = conn.execute(f"SELECT min(slot) * {SLOT_MS}, max(slot) * {SLOT_MS} FROM st_slots {where}").fetchone()
    hour = _hour_sql(LocalClock(tz).intervals(low, high))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS st_hours (h INTEGER PRIMARY KEY, messages INTEGER)")
    conn.execute("DELETE FROM temp.st_hours")
    conn.execute(f"INSERT INTO temp.st_hours SELECT {hour.format(f'slot * {SLOT_MS}')} AS h, sum(messages) "
                 f"FROM st_slots {where} GROUP BY h")
    message_days = conn.execute(f"SELECT h / 24 - {_SHIFT_DAYS} AS d, sum(messages) FROM temp.st_hours GROUP BY d"
                                ).fetchall()
    grid = conn.execute("SELECT (h / 24 + 3) % 7 AS w, h % 24 AS o, sum(messages) FROM temp.st_hours GROUP BY w, o"
                        ).fetchall()  # the shift is whole weeks: 1970-01-01 (day 0) was a Thursday (3)
    tools = conn.execute(
        f"SELECT name, sum(calls) AS n, sum(results), sum(failed) FROM st_tools {where} "
        "GROUP BY name ORDER BY n DESC, name"
    ).fetchall()
    outputs = conn.execute(
        f"""SELECT o.event, o.tool, o.size, o.created, s.id, h.detail FROM st_outputs o
            JOIN st_sessions s ON s.session = o.session LEFT JOIN hist.sessions h ON h.rowid = o.session
            {where.replace('session IN', 'o.session IN')}
            ORDER BY o.size DESC, o.event LIMIT ?""",
        (top,),
    ).fetchall()
    return {"message_days": message_days, "grid": grid, "tools": tools, "outputs": [_texts(row) for row in outputs]}


#: Hours added before dividing (and days taken off after), so that SQLite's division, which truncates, floors;
#: whole weeks, so that weekdays are unchanged.
_SHIFT_DAYS = 7 * 52 * 3000
_SHIFT_HOURS = 24 * _SHIFT_DAYS


def _hour_sql(intervals: list[tuple[int, int]]) -> str:
    """SQL for the local hour, shifted by :data:`_SHIFT_HOURS` (hours since 1970 in local time, plus the shift), of
    a time ``{0}`` in ms, given the zone's offsets (``(from ms, offset in seconds)``, the first from the start)."""
    cases = " ".join(f"WHEN {{0}} < {start} THEN {previous}" for (start, _), (_, previous)
                     in zip(intervals[1:], intervals, strict=False))
    last = intervals[-1][1]
    zone = f"CASE {cases} ELSE {last} END" if cases else str(last)
    return f"((({{0}}) / 1000 + {zone} + {_SHIFT_HOURS * 3600}) / 3600)"


def _texts(row: tuple) -> tuple:
    """A row with its titles as text (a title stored as a BLOB or number is shown as text, never markup)."""
    return tuple(value.decode("utf-8", "replace") if isinstance(value, bytes) else value for value in row)

