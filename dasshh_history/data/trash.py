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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection

from dasshh_history.data.client import DBClient

__all__ = [
    "DeletedSession", "RawText", "RestoreConflictError", "RestoreError",
    "delete_orphans", "delete_session", "delete_sessions", "restore", "restore_many",
]

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
    #: For events whose session was already gone (orphans; ``session`` is empty): their stored ``session_id``.
    orphan_of: StoredValue = None

    @property
    def is_orphans(self) -> bool:
        return not self.session

    @property
    def session_id(self) -> str:
        if not self.session:
            value = self.orphan_of
            if isinstance(value, RawText | bytes):
                return (value.data if isinstance(value, RawText) else value).decode("utf-8", "replace")
            return "" if value is None else str(value)
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


def delete_sessions(
    client: DBClient,
    session_ids: Sequence[str],
    *,
    orphans: Sequence[StoredValue] = (),
    before_delete: Callable[[Connection, list[DeletedSession]], object] = lambda conn, deleted: None,
) -> list[DeletedSession]:
    """Delete sessions (and the events of gone sessions, ``orphans``: their ``session_id`` values) in one transaction.

    Under the write lock, every row is read as stored, ``before_delete`` is
    given the connection (inside the transaction) and the snapshots (the persistent trash writes them there, durably),
    and only when it returns are the rows deleted and the transaction committed.
    When it raises, nothing is deleted.  Ids with no session are skipped;
    the snapshots come in the sessions' stored order, orphans last.
    """
    with client.get_db() as db:
        conn = db.connection()
        client.begin_immediate(conn)
        deleted = _snapshot_sessions(conn, list(dict.fromkeys(session_ids)))
        for key in dict.fromkeys(orphans):
            if key is not None and conn.exec_driver_sql("SELECT 1 FROM sessions WHERE id IS ?", (_bind(key),)).first():
                continue  # its session exists (again): not orphans
            events = _snapshot(conn, "events", "session_id IS ?", (_bind(key),), order=("rowid",))
            if events:
                deleted.append(DeletedSession(session=MappingProxyType({}), events=tuple(events), orphan_of=key))
        if not deleted:
            db.rollback()
            return []
        before_delete(conn, deleted)
        expected_events = expected_sessions = 0
        removed_events = removed_sessions = 0
        for item in deleted:
            expected_events += len(item.events)
            expected_sessions += not item.is_orphans
        for rowids, table in _rowid_chunks(deleted):
            marks = ", ".join("?" * len(rowids))
            count = conn.exec_driver_sql(f"DELETE FROM {table} WHERE rowid IN ({marks})", tuple(rowids)).rowcount
            if table == "events":
                removed_events += count
            else:
                removed_sessions += count
        if (removed_events, removed_sessions) != (expected_events, expected_sessions):
            raise RuntimeError(  # cannot happen under the write lock; if it does, keep everything
                f"deleted {removed_sessions} session(s) and {removed_events} event(s), "
                f"expected {expected_sessions} and {expected_events}; nothing was deleted"
            )
        db.commit()
    return deleted


def delete_orphans(
    client: DBClient, *, before_delete: Callable[[Connection, list[DeletedSession]], object] = lambda c, d: None
) -> list[DeletedSession]:
    """Delete every event whose session is gone, as :func:`delete_sessions` does (one snapshot per gone session)."""
    return delete_sessions(client, [], orphans=orphan_keys(client), before_delete=before_delete)


def orphan_keys(client: DBClient) -> list[StoredValue]:
    """The ``session_id`` values of events whose session is gone (NULL included), in order of first event."""
    sql = ("SELECT session_id FROM events WHERE session_id IS NULL OR session_id NOT IN (SELECT id FROM sessions) "
           "GROUP BY session_id ORDER BY min(rowid)")
    with client.get_db() as db:
        conn = db.connection()
        codec = _CODECS.get(conn.exec_driver_sql("PRAGMA encoding").scalar_one(), "utf-8")
        raw = f"SELECT typeof(session_id), CASE WHEN typeof(session_id) = 'text' THEN CAST(session_id AS BLOB) " \
              f"ELSE session_id END FROM ({sql})"
        return [_text(value, codec) if kind == "text" else value for kind, value in conn.exec_driver_sql(raw)]


def stored_size(client: DBClient, session_ids: Sequence[str], orphans: Sequence[StoredValue]) -> tuple[int, int]:
    """How many orphan events the ``orphans`` keys hold, and the bytes of every value stored in these
    sessions' rows, their events and those orphan events (text and BLOBs by their length, numbers as written)."""
    orphan_events = size = 0
    with client.get_db() as db:
        conn = db.connection()
        for table, column, keys in (("sessions", "id", list(session_ids)), ("events", "session_id", list(session_ids))):
            width = " + ".join(f"coalesce(length(CAST({_quote(c)} AS BLOB)), 0)" for c in _columns(conn, table))
            for start in range(0, len(keys), _CHUNK):
                chunk = tuple(keys[start : start + _CHUNK])
                marks = ", ".join("?" * len(chunk))
                size += conn.exec_driver_sql(
                    f"SELECT coalesce(sum({width}), 0) FROM {table} WHERE {column} IN ({marks})", chunk).scalar_one()
        width = " + ".join(f"coalesce(length(CAST({_quote(c)} AS BLOB)), 0)" for c in _columns(conn, "events"))
        for key in orphans:
            count, total = conn.exec_driver_sql(
                f"SELECT count(*), coalesce(sum({width}), 0) FROM events WHERE session_id IS ?", (_bind(key),)).one()
            orphan_events, size = orphan_events + count, size + total
    return orphan_events, size


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
        _restore(conn, deleted)
        db.commit()


def restore_many(client: DBClient, deleted: Sequence[DeletedSession]) -> None:
    """Write several deleted sessions back in one transaction, as :func:`restore` does each: all of them or none."""
    with client.get_db() as db:
        conn = db.connection()
        client.begin_immediate(conn)
        if not _restore_all(conn, deleted):
            for item in deleted:
                _restore(conn, item)
        db.commit()


# -- internals ---------------------------------------------------------------------------


def _restore(conn: Connection, deleted: DeletedSession) -> None:
    if deleted.is_orphans:
        key = deleted.orphan_of
        if key is not None and conn.exec_driver_sql("SELECT 1 FROM sessions WHERE id IS ?", (_bind(key),)).first():
            raise RestoreConflictError(deleted.session_id)
    else:
        if conn.exec_driver_sql("SELECT 1 FROM sessions WHERE id = ?", (_bind(deleted.session["id"]),)).first():
            raise RestoreConflictError(deleted.session_id)
        _insert(conn, "sessions", [deleted.session])
    _insert(conn, "events", deleted.events)


def _restore_all(conn: Connection, deleted: Sequence[DeletedSession]) -> bool:
    """The common case of :func:`restore_many` in a few statements: no conflict, every rowid free, one set of
    columns per table; False (nothing written) when that is not so and each is restored by itself."""
    sessions = [item.session for item in deleted if not item.is_orphans]
    events = sorted((row for item in deleted for row in item.events), key=lambda row: row["rowid"])  # type: ignore[arg-type, return-value]
    for table, rows in (("sessions", sessions), ("events", events)):
        if rows and any(row.keys() != rows[0].keys() for row in rows):
            return False
        if not _rowids_free(conn, table, [row["rowid"] for row in rows]):  # type: ignore[misc]
            return False
    ids = [_bind(row["id"]) for row in sessions]
    for start in range(0, len(ids), _CHUNK):
        chunk = tuple(ids[start : start + _CHUNK])
        found = conn.exec_driver_sql(f"SELECT id FROM sessions WHERE id IN ({', '.join('?' * len(chunk))}) LIMIT 1",
                                     chunk).first()
        if found:
            raise RestoreConflictError(str(found[0]))
    if any(item.is_orphans for item in deleted):
        return False  # their own checks, one by one
    _insert(conn, "sessions", sessions)
    _insert(conn, "events", events)
    return True


def _bind(value: StoredValue) -> Any:
    return value.data if isinstance(value, RawText) else value


def _snapshot_sessions(conn: Connection, session_ids: list[str]) -> list[DeletedSession]:
    """The sessions with these ids and their events, as stored, in the sessions' stored order."""
    sessions: list[Mapping[str, StoredValue]] = []
    events: dict[Any, list[Mapping[str, StoredValue]]] = {}
    for start in range(0, len(session_ids), _CHUNK):
        chunk = tuple(session_ids[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        sessions.extend(_snapshot(conn, "sessions", f"id IN ({marks})", chunk, order=("rowid",)))
    # The events, by the stored session_id of each found session (text, compared as the single delete does).
    found = [row["id"] for row in sessions]
    for start in range(0, len(found), _CHUNK):
        chunk = tuple(_bind(value) for value in found[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        for row in _snapshot(conn, "events", f"session_id IN ({marks})", chunk, order=("rowid",)):
            events.setdefault(_key(row["session_id"]), []).append(row)
    sessions.sort(key=lambda row: row["rowid"])  # type: ignore[arg-type, return-value]
    return [DeletedSession(session=row, events=tuple(events.get(_key(row["id"]), ()))) for row in sessions]


def _key(value: StoredValue) -> Any:
    return ("raw", value.data) if isinstance(value, RawText) else value


def _rowid_chunks(deleted: Sequence[DeletedSession]) -> Iterator[tuple[list[int], str]]:
    session_rowids = [item.session["rowid"] for item in deleted if not item.is_orphans]
    event_rowids = [event["rowid"] for item in deleted for event in item.events]
    for table, rowids in (("events", event_rowids), ("sessions", session_rowids)):
        for start in range(0, len(rowids), _CHUNK):
            yield rowids[start : start + _CHUNK], table  # type: ignore[misc]


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
