"""Redacting secrets in dasshh's database: each one replaced by ``[REDACTED:kind]``, in place, for good.

One transaction (``BEGIN IMMEDIATE``, as every write of ours) rewrites the
``content`` of the events and the ``detail`` of the sessions that hold one,
every other column and row untouched (rowids, ids, dates: the order and what
dasshh reads stay).  Each value keeps its shape (see
:mod:`~dasshh_history.domain.stored_secrets`): JSON stays JSON of the same
structure, a BLOB stays a BLOB, bytes that are not UTF-8 stay as they were
(values are read and written as bytes).  The connection has SQLite's
``secure_delete`` on for the write, so the space the old values took is
zeroed, and a write-ahead log is checkpointed and truncated afterwards, so the
old pages do not survive there either.  The database is never ``VACUUM``\\ ed: it
may renumber rowids, which are dasshh's order.

Nothing is kept to undo it: that is the point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dasshh_history.data import private_files
from dasshh_history.data.client import DBClient
from dasshh_history.data.search.building import BuildLock
from dasshh_history.domain.stored_secrets import redact_content, redact_title


@dataclass(frozen=True, slots=True)
class Redacted:
    """What a redaction changed: how many secrets, in which events (rowids) and session titles (ids)."""

    secrets: int
    event_rowids: tuple[int, ...]
    session_ids: tuple[str, ...]
    #: Whether the write-ahead log could be checkpointed and truncated (False: a reader kept it; the old
    #: pages stay in the ``-wal`` file until SQLite's next checkpoint).  None: the database has no WAL.
    checkpointed: bool | None


def redact(client: DBClient, event_rowids: Iterable[int], session_ids: Iterable[str]) -> Redacted:
    """Redact the secrets in these events' ``content`` and these sessions' ``detail``, in one transaction.

    Rows are read again inside the transaction: what changed since the scan is
    what is redacted, and a row without a secret any more is left alone.
    """
    rowids = sorted(set(event_rowids))
    sessions = sorted(set(session_ids))
    changed_events: list[int] = []
    changed_sessions: list[str] = []
    total = 0
    client.check_file()
    pooled = client.engine.raw_connection()  # a connection of the pool: busy timeout and text factory set
    conn = pooled.driver_connection
    try:
        (before,) = conn.execute("PRAGMA secure_delete").fetchone()
        conn.execute("PRAGMA secure_delete = ON")
        try:
            conn.execute("BEGIN IMMEDIATE")
            client.check_file()  # again, now that no one else can write
            for rowid in rowids:
                row = conn.execute(
                    "SELECT typeof(content), CAST(content AS BLOB) FROM events WHERE rowid = ?", (rowid,)
                ).fetchone()
                if row is None or row[0] not in ("text", "blob"):
                    continue
                kind, raw = row
                new, count = redact_content(raw.decode("utf-8", "surrogateescape") if kind == "text" else raw)
                if not count:
                    continue
                if kind == "text":  # written back as the bytes of TEXT, whatever they are
                    conn.execute("UPDATE events SET content = CAST(? AS TEXT) WHERE rowid = ?",
                                 (new.encode("utf-8", "surrogateescape"), rowid))
                else:
                    conn.execute("UPDATE events SET content = ? WHERE rowid = ?", (new, rowid))
                changed_events.append(rowid)
                total += count
            for session_id in sessions:
                row = conn.execute(
                    "SELECT typeof(detail), CAST(detail AS BLOB) FROM sessions WHERE id = ?", (session_id,)
                ).fetchone()
                if row is None or row[0] not in ("text", "blob"):
                    continue
                kind, raw = row
                new, count = redact_title(raw.decode("utf-8", "surrogateescape") if kind == "text" else raw)
                if not count:
                    continue
                if kind == "text":
                    conn.execute("UPDATE sessions SET detail = CAST(? AS TEXT) WHERE id = ?",
                                 (new.encode("utf-8", "surrogateescape"), session_id))
                else:
                    conn.execute("UPDATE sessions SET detail = ? WHERE id = ?", (new, session_id))
                changed_sessions.append(session_id)
                total += count
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        checkpointed: bool | None = None
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
        if str(mode).lower() == "wal":
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            checkpointed = busy == 0
        conn.execute(f"PRAGMA secure_delete = {int(before)}")
    finally:
        pooled.close()  # back to the pool
    return Redacted(total, tuple(changed_events), tuple(changed_sessions), checkpointed)


def discard_cache(path: Path) -> None:
    """Overwrite the search cache ``path`` (and its ``-wal``, ``-journal``) with zeros and remove it, under its
    build lock: it holds the text of every event, the old one too (FTS5 keeps a deleted document's words in
    its segments until they are merged); the next search builds it again from the redacted history."""
    if str(path) == ":memory:":
        return
    lock = BuildLock(path)
    lock.acquire(wait=True)
    try:
        for suffix in ("", "-wal", "-journal", "-shm"):
            private_files.shred(Path(f"{path}{suffix}"))
    finally:
        lock.release()
