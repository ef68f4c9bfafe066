"""Deleting a session so that it can be put back exactly as it was.

:func:`delete_session` takes a raw snapshot of the session row and of every
event row (every column as stored, with its rowid) and deletes them in the
same transaction; :func:`restore` writes that snapshot back.  Both run in one
``BEGIN IMMEDIATE`` transaction: the write lock is taken before the first read,
so dasshh, writing from another process, can neither slip an event in between
the snapshot and the delete nor see half of either change.

Values are read without any type processing, so nothing is decoded or
re-encoded: integers, reals, BLOBs and NULLs come back as they are, and text
comes back as ``str`` -- or, when it is not valid in the database's encoding,
as :class:`RawText` holding its exact bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection

from dasshh_history.data.client import DBClient

__all__ = ["DeletedSession", "RawText", "RestoreConflictError", "RestoreError", "delete_session", "restore"]

#: Rowids looked up per statement when checking that they are free (well below SQLite's variable limit).
_CHUNK = 500
_CODECS = {"UTF-8": "utf-8", "UTF-16le": "utf-16-le", "UTF-16be": "utf-16-be"}


@dataclass(frozen=True, slots=True)
class RawText:
    """A stored TEXT value that is not valid in the database's encoding, kept as its exact bytes."""

    data: bytes


#: What one column of a snapshot holds.
StoredValue = None | int | float | str | bytes | RawText


class RestoreError(Exception):
    """A deleted session cannot be written back; nothing was changed."""


class RestoreConflictError(RestoreError):
    """A session with the deleted session's id exists again; nothing was changed."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"a session with id {session_id!r} exists again; it was not restored")


@dataclass(frozen=True)
class DeletedSession:
    """What :func:`delete_session` removed: the rows exactly as they were stored.

    ``session`` maps every column of the ``sessions`` row (and ``"rowid"``) to
    its stored value; ``events`` holds the event rows the same way, in stored
    order (insertion order: rowid).
    """

    session: Mapping[str, StoredValue]
    events: tuple[Mapping[str, StoredValue], ...]

    @property
    def session_id(self) -> str:
        return self.session["id"]  # type: ignore[return-value]  # found by a text comparison, so text

    @property
    def title(self) -> str | None:
        """The session's ``detail`` as text (undecodable bytes replaced), or None."""
        detail = self.session.get("detail")
        if detail is None or isinstance(detail, str):
            return detail
        if isinstance(detail, RawText):
            return detail.data.decode("utf-8", "replace")
        if isinstance(detail, bytes):
            return detail.decode("utf-8", "replace")
        return str(detail)

    @property
    def event_count(self) -> int:
        return len(self.events)


def delete_session(client: DBClient, *, session_id: str) -> DeletedSession | None:
    """Delete a session and its events in one transaction and return what was deleted.

    Returns None, deleting nothing, when no session has that id.  Raises
    :class:`~dasshh_history.data.client.DatabaseUnavailableError` when the file
    was removed or replaced, and an ``SQLAlchemyError`` when the database
    cannot be written (read-only, locked for longer than the busy timeout);
    in every error case nothing is changed.
    """
    with client.get_db() as db:
        conn = db.connection()
        client.begin_immediate(conn)
        session_rows = _snapshot(conn, "sessions", "id = ?", (session_id,), order=("rowid",))
        if not session_rows:
            db.rollback()
            return None
        events = _snapshot(conn, "events", "session_id = ?", (session_id,), order=("rowid",))
        deleted_events = conn.exec_driver_sql("DELETE FROM events WHERE session_id = ?", (session_id,)).rowcount
        deleted_sessions = conn.exec_driver_sql("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
        if (deleted_events, deleted_sessions) != (len(events), len(session_rows)):
            # Cannot happen under the write lock; if it does, keep everything.
            raise RuntimeError(
                f"deleted {deleted_sessions} session(s) and {deleted_events} event(s), "
                f"expected {len(session_rows)} and {len(events)}; nothing was deleted"
            )
        db.commit()
    return DeletedSession(session=session_rows[0], events=tuple(events))


def restore(client: DBClient, deleted: DeletedSession) -> None:
    """Write a deleted session and its events back, in one transaction.

    Every column gets its stored value back with the same SQLite type.  The
    original rowids are used when all of a table's are still free, so the
    database is as it was before the delete; otherwise SQLite assigns new ones
    and the events are inserted in their stored order, which keeps their
    order (insertion order is the only order dasshh's rows have).

    Raises :class:`RestoreConflictError` when a session with that id exists
    again, :class:`RestoreError` when a column of the snapshot is gone from the
    table, and ``SQLAlchemyError`` / ``DatabaseUnavailableError`` as
    :func:`delete_session` does; in every error case nothing is changed.
    """
    with client.get_db() as db:
        conn = db.connection()
        client.begin_immediate(conn)
        if conn.exec_driver_sql("SELECT 1 FROM sessions WHERE id = ?", (deleted.session["id"],)).first():
            raise RestoreConflictError(deleted.session_id)
        _insert(conn, "sessions", [deleted.session])
        _insert(conn, "events", deleted.events)
        db.commit()


# -- internals ---------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(conn: Connection, table: str) -> list[str]:
    """The table's insertable columns (generated and hidden columns are not listed)."""
    return [row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({_quote(table)})")]


def _snapshot(
    conn: Connection, table: str, where: str, params: tuple[Any, ...], *, order: Sequence[str]
) -> list[Mapping[str, StoredValue]]:
    """Rows of ``table`` as stored: text is read as its bytes so that no value can fail to decode."""
    columns = _columns(conn, table)
    codec = _CODECS.get(conn.exec_driver_sql("PRAGMA encoding").scalar_one(), "utf-8")
    selected = ", ".join(
        f"typeof({c}), CASE WHEN typeof({c}) = 'text' THEN CAST({c} AS BLOB) ELSE {c} END"
        for c in (f"{_quote(table)}.{_quote(name)}" for name in columns)
    )
    qualified_order = ", ".join(f"{_quote(table)}.{_quote(name)}" for name in order)
    sql = f"SELECT {_quote(table)}.rowid, {selected} FROM {_quote(table)} WHERE {where} ORDER BY {qualified_order}"
    snapshot: list[Mapping[str, StoredValue]] = []
    for raw in conn.exec_driver_sql(sql, params):
        row: dict[str, StoredValue] = {"rowid": raw[0]}
        for index, name in enumerate(columns):
            kind, value = raw[1 + 2 * index], raw[2 + 2 * index]
            row[name] = _text(value, codec) if kind == "text" else value
        snapshot.append(MappingProxyType(row))
    return snapshot


def _text(data: bytes, codec: str) -> str | RawText:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return RawText(data)


def _insert(conn: Connection, table: str, rows: Sequence[Mapping[str, StoredValue]]) -> None:
    """Insert snapshot rows in order, with their own rowids if all of them are free."""
    if not rows:
        return
    present = set(_columns(conn, table))
    columns = [name for name in rows[0] if name != "rowid"]
    missing = [name for name in columns if name not in present]
    if missing:
        raise RestoreError(f"table {table} no longer has column(s) {', '.join(missing)}; nothing was restored")
    keep_rowids = _rowids_free(conn, table, [row["rowid"] for row in rows])  # type: ignore[misc]
    targets = (["rowid"] if keep_rowids else []) + columns
    names = ", ".join(_quote(name) for name in targets)
    for placeholders, batch in _batches(rows, targets):
        conn.exec_driver_sql(f"INSERT INTO {_quote(table)} ({names}) VALUES ({placeholders})", batch)


def _rowids_free(conn: Connection, table: str, rowids: list[int]) -> bool:
    for start in range(0, len(rowids), _CHUNK):
        chunk = rowids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT 1 FROM {_quote(table)} WHERE rowid IN ({marks}) LIMIT 1"
        if conn.exec_driver_sql(sql, tuple(chunk)).first():
            return False
    return True


def _batches(
    rows: Iterable[Mapping[str, StoredValue]], targets: Sequence[str]
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive rows sharing one VALUES clause; :class:`RawText` is bound as bytes and cast back to text."""
    current: str | None = None
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[name] for name in targets]
        placeholders = ", ".join("CAST(? AS TEXT)" if isinstance(v, RawText) else "?" for v in values)
        if placeholders != current and batch:
            yield current, batch  # type: ignore[misc]
            batch = []
        current = placeholders
        batch.append(tuple(v.data if isinstance(v, RawText) else v for v in values))
    if batch:
        yield current, batch  # type: ignore[misc]
