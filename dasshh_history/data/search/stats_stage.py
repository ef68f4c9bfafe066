"""A chunk of events staged for the stats: read from the history into a connection's temporary tables.

One statement reads the events after a rowid (up to another, as many as a
limit at most) into ``temp.st_ev``: for each, its session's rowid (NULL for
an orphan), time, size in bytes and kind (by its role), and for a tool result
its name, call id and whether it failed; then an assistant message's tool
calls are split into ``temp.st_call``.  It reads the history and writes
nothing of the cache: :mod:`~dasshh_history.data.search.stats` adds the chunk
up in a write of the cache that reads nothing of the history.  The
temporary tables are the connection's own, so several connections (lanes)
stage chunks at once.
"""

from __future__ import annotations

import sqlite3

from dasshh_history.data.search.schema import ms_sql
from dasshh_history.domain.stats import value_failed

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS st_ev (
    event INTEGER PRIMARY KEY, session INTEGER, created INTEGER, size INTEGER, kind INTEGER, tool TEXT,
    call_id TEXT, failed INTEGER, calls TEXT, named TEXT
);
CREATE TEMP TABLE IF NOT EXISTS st_call (event INTEGER, seq INTEGER, session INTEGER, name TEXT, call_id TEXT);
CREATE TEMP TABLE IF NOT EXISTS st_sess (session INTEGER PRIMARY KEY, id, created INTEGER)
"""
#: The sessions of the history, into ``temp.st_sess`` (a table of the stage, filled by the sessions' sync).
READ_SESSIONS = f"INSERT INTO temp.st_sess SELECT rowid, id, {ms_sql('created_at')} FROM hist.sessions"
_VALID = "typeof(e.content) = 'text' AND json_valid(e.content)"
# A chunk of events (the rowids after the first parameter, up to the second, as many as the third at most),
# from the history into ``st_ev``: the JSON functions never see a BLOB or bad JSON.  A call of one costs about a
# microsecond on these texts (SQLite 3.40), so there are as few as can be: each content's validity and role, an
# assistant message's ``tool_calls`` (only when its text names them), a tool result's ``name``, ``tool_call_id``
# and ``content``, each taken as JSON text (``->``: a string quoted), which is cheap to read again later.
# Whether a result failed is the timeline's rule, in Python (:func:`~dasshh_history.domain.stats.value_failed`,
# as the SQL function ``st_failed``): its JSON parser is quicker than a dozen calls of SQLite's.
_READ = f"""
INSERT INTO temp.st_ev
SELECT event, session, created, size, kind,
       CASE WHEN kind = 3 THEN content -> '$.name' END,
       CASE WHEN kind = 3 THEN content -> '$.tool_call_id' END,
       CASE WHEN kind = 3 THEN st_failed(content ->> '$.content') ELSE 0 END,
       CASE WHEN kind = 2 AND (instr(content, 'tool_calls') OR instr(content, '\\u')) THEN content -> '$.tool_calls'
       END, NULL
FROM (
    SELECT e.rowid AS event, s.rowid AS session, {ms_sql('e.created_at')} AS created,
           coalesce(length(CAST(e.content AS BLOB)), 0) AS size,
           CASE WHEN {_VALID} THEN CASE json_extract(e.content, '$.role')
               WHEN 'user' THEN 1 WHEN 'assistant' THEN 2 WHEN 'tool' THEN 3 WHEN 'system' THEN 4 ELSE 0 END
           ELSE 0 END AS kind,
           e.content AS content
    FROM hist.events e LEFT JOIN hist.sessions s ON s.id = e.session_id
    WHERE e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?
) WHERE kind >= 0  -- a WHERE keeps the subquery (LIMIT) from being flattened: its JSON is read once a row
"""
# The tool calls of the chunk's assistant messages, as the timeline shows them: a ``tool_calls`` list holds a
# call per item, an object is one call (any other value but null too, without a name).  ``calls`` is JSON text:
# ``[`` starts a list, ``{`` an object.  The name and id are JSON text too (``->``), read as in ``_UNQUOTE``.
_SPLIT_CALLS = """
INSERT INTO temp.st_call
SELECT event, 0, session, CASE WHEN calls LIKE '{%' THEN calls -> '$.function.name' END,
       CASE WHEN calls LIKE '{%' THEN calls -> '$.id' END
FROM temp.st_ev WHERE kind = 2 AND calls IS NOT NULL AND calls NOT LIKE '[%' AND calls <> 'null'
UNION ALL
SELECT event, x.key, session, CASE WHEN x.type = 'object' THEN x.value -> '$.function.name' END,
       CASE WHEN x.type = 'object' THEN x.value -> '$.id' END
FROM temp.st_ev, json_each(calls) x WHERE kind = 2 AND calls LIKE '[%'
"""
# A call's name and id as the timeline reads them: a string (a name not empty); a call without one is ``?``.
_UNQUOTE = """
UPDATE temp.st_call SET name = CASE WHEN name LIKE '"%' AND name <> '""' THEN name ->> '$' ELSE '?' END,
                        call_id = CASE WHEN call_id LIKE '"%' THEN call_id ->> '$' END
"""


def text_of(column: str) -> str:
    """SQL for the string that ``column`` holds as JSON text (``->``), or NULL when it holds no string: cheap
    for a string without escapes, read by SQLite's JSON functions otherwise."""
    return (f"""CASE WHEN {column} LIKE '"%' THEN CASE WHEN instr({column}, '\\') THEN {column} ->> '$' """
            f"ELSE substr({column}, 2, length({column}) - 2) END END")


def _st_failed(value: object) -> int:
    return 1 if value_failed(value) else 0


def prepare(conn: sqlite3.Connection) -> None:
    """What a connection needs to add chunks up: its staging tables (temporary: its own) and ``st_failed``."""
    conn.execute("PRAGMA temp_store = MEMORY")  # the staged chunk: a few megabytes
    conn.create_function("st_failed", 1, _st_failed, deterministic=True)
    for statement in _STAGE.split(";"):
        conn.execute(statement)


def read_chunk(conn: sqlite3.Connection, after: int, upto: int, limit: int) -> int:
    """Stage the events after rowid ``after``, up to ``upto`` (``limit`` at most), their calls split; how many.
    Reads the history, writes nothing of the cache."""
    unstage(conn)
    count = conn.execute(_READ, (after, upto, limit)).rowcount
    if count > 0:
        conn.execute(_SPLIT_CALLS)
        conn.execute(_UNQUOTE)
    return count


def unstage(conn: sqlite3.Connection) -> None:
    """Empty the connection's stage."""
    for table in ("st_ev", "st_call"):
        conn.execute(f"DELETE FROM temp.{table}")


__all__ = ["READ_SESSIONS", "prepare", "read_chunk", "text_of", "unstage"]
