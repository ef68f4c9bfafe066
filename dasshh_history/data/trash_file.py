"""The format of one batch file of the trash: what one delete removed, every row exactly as stored.

Tables: ``meta`` (format, history, deleted_at, counts), ``entries`` (a summary
of each session for the list: its position in the batch, its id, title, times
and event count), and ``sessions`` and ``events`` holding the rows themselves
in columns without a declared type, so that every value keeps its SQLite type;
each row keeps its rowid, its session's position and the names of its columns
holding :class:`~dasshh_history.data.trash.RawText` (text that is not valid
UTF-8, kept as a BLOB and written back as text).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection

from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import DeletedSession, RawText, StoredValue

FORMAT = 1


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_batch(
    conn: sqlite3.Connection, deleted: Sequence[tuple[int, DeletedSession]], deleted_at: datetime, history: str
) -> None:
    """The batch's tables: ``meta``, ``entries`` (a summary per session) and the rows of ``sessions`` and
    ``events`` as stored, in columns without a declared type (so every value keeps its SQLite type),
    with their rowid, their session's position and the columns holding :class:`RawText` (kept as BLOBs)."""
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value)")
    conn.execute("CREATE TABLE entries (position INTEGER PRIMARY KEY, session_key, orphans INTEGER, title,"
                 " created_at, updated_at, event_count INTEGER)")
    events_total = sum(len(item.events) for _, item in deleted)
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("format", FORMAT), ("history", history), ("deleted_at", deleted_at.isoformat(sep=" ")),
        ("sessions", len(deleted)), ("events", events_total),
    ])
    conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (position, _plain(item.orphan_of if item.is_orphans else item.session.get("id")), int(item.is_orphans),
         item.title, _time_text(item.session.get("created_at")), _time_text(item.session.get("updated_at")),
         len(item.events))
        for position, item in deleted
    ])
    raw_orphans = [position for position, item in deleted if isinstance(item.orphan_of, RawText)]
    conn.execute("INSERT INTO meta VALUES ('raw_orphans', ?)", (json.dumps(raw_orphans),))
    for table in ("sessions", "events"):
        rows = [(position, row) for position, item in deleted
                for row in ([item.session] if table == "sessions" and not item.is_orphans else
                            item.events if table == "events" else [])]
        columns = next((list(row) for _, row in rows), None)
        if columns is None:
            conn.execute(f'CREATE TABLE {table} ("dh:position", "dh:raw")')
            continue
        stored = [name for name in columns if name != "rowid"]
        conn.execute(f'CREATE TABLE {table} ("dh:position", "dh:raw", "dh:rowid", '
                     + ", ".join(_q(name) for name in stored) + ")")
        marks = ", ".join("?" * (3 + len(stored)))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", (
            (position, _raw_columns(row), row["rowid"], *(_plain(row[name]) for name in stored))
            for position, row in rows
        ))


def _raw_columns(row: Any) -> str | None:
    raw = [name for name, value in row.items() if isinstance(value, RawText)]
    return json.dumps(raw) if raw else None


def _plain(value: StoredValue) -> Any:
    return value.data if isinstance(value, RawText) else value


def load(conn: sqlite3.Connection, positions: Sequence[int] | None) -> list[tuple[int, DeletedSession]]:
    wanted = None if positions is None else set(positions)
    entries = conn.execute("SELECT position, session_key, orphans FROM entries ORDER BY position").fetchall()
    raw_orphans = set(json.loads(meta(conn).get("raw_orphans") or "[]"))
    sessions = _rows(conn, "sessions")
    events = _rows(conn, "events")
    loaded = []
    for position, key, orphans in entries:
        if wanted is not None and position not in wanted:
            continue
        if orphans:
            orphan_of: StoredValue = RawText(key) if position in raw_orphans else key
            item = DeletedSession(MappingProxyType({}), tuple(events.get(position, ())), orphan_of=orphan_of)
        else:
            item = DeletedSession(sessions[position][0], tuple(events.get(position, ())))
        loaded.append((position, item))
    return loaded


def _rows(conn: sqlite3.Connection, table: str) -> dict[int, list[Any]]:
    cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")
    names = [d[0] for d in cursor.description]
    found: dict[int, list[Any]] = {}
    for values in cursor:
        record = dict(zip(names, values, strict=True))
        position = record.pop("dh:position")
        raw = set(json.loads(record.pop("dh:raw") or "[]"))
        row: dict[str, StoredValue] = {"rowid": record.pop("dh:rowid")}
        for name, value in record.items():
            row[name] = RawText(value) if name in raw else value
        found.setdefault(position, []).append(MappingProxyType(row))
    return found


def meta(conn: sqlite3.Connection) -> dict[str, Any]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def deleted_at(conn: sqlite3.Connection) -> datetime:
    return datetime.fromisoformat(meta(conn)["deleted_at"])


def read_keys(path: Path) -> tuple[dict[str, Any], list[tuple[Any, bool]]]:
    """A batch's meta and, in position order, each entry's session id (for orphans: the events' session_id)."""
    with closing(open_ro(path)) as conn:
        found = meta(conn)
        keys = [(key, bool(orphans)) for key, orphans in conn.execute("SELECT session_key, orphans FROM entries"
                                                                        " ORDER BY position")]
    return found, keys


def open_ro(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.text_factory = lambda data: data.decode("utf-8", "replace")
    return conn


def present(conn: Connection, key: Any, orphans: bool) -> bool:
    if orphans:
        return conn.exec_driver_sql("SELECT 1 FROM events WHERE session_id IS ? LIMIT 1", (key,)).first() is not None
    return conn.exec_driver_sql("SELECT 1 FROM sessions WHERE id IS ?", (key,)).first() is not None


def present_keys(client: DBClient, keys: list[tuple[Any, bool]]) -> set[int]:
    """The positions whose session (for orphans: events of that session id) is in the history."""
    with client.get_db() as db:
        conn = db.connection()
        return {position for position, (key, orphans) in enumerate(keys) if present(conn, key, orphans)}


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _time_text(value: StoredValue) -> str | None:
    return value if isinstance(value, str) else None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo is None else None
