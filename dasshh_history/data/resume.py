"""Making one session the one dasshh opens at its next start: the only write that changes ``updated_at``.

dasshh opens ``ORDER BY updated_at DESC LIMIT 1`` with no tie-break, comparing
the stored values as SQLite does (text by its bytes).  So the session's
``updated_at`` is set strictly greater than every other session's, in the
format dasshh (SQLAlchemy's ``DATETIME`` on SQLite) writes:
``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC.  It is the current time, or just
after the latest ``updated_at`` when that is later (a clock behind dasshh's).
Read and written in one ``BEGIN IMMEDIATE`` transaction, so that no write by
dasshh can come in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dasshh_history.data.client import DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.data.session import SessionNotFoundError

__all__ = ["DASSHH_FORMAT", "ResumeError", "Resumed", "make_recent", "stored_text"]

#: How SQLAlchemy's ``DATETIME`` stores a datetime in SQLite (and so how dasshh's rows read).
DASSHH_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
#: dasshh's own query for the session it opens (``SessionService.get_recent_session``).
RECENT_SQL = "SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 1"
#: The latest ``updated_at`` of the other sessions, compared as dasshh's ``ORDER BY`` compares.
LATEST_OTHER_SQL = (
    "SELECT updated_at, typeof(updated_at) FROM sessions WHERE id != ? AND updated_at IS NOT NULL"
    " ORDER BY updated_at DESC LIMIT 1"
)


class ResumeError(Exception):
    """The session cannot be made the one dasshh opens: another's ``updated_at`` sorts above any date. Nothing changed."""


@dataclass(frozen=True)
class Resumed:
    """What :func:`make_recent` did: ``before`` and ``after`` are stored values (``changed`` False: none written)."""

    session_id: str
    before: object
    after: object
    changed: bool


def stored_text(value: datetime) -> str:
    """``value`` as dasshh stores a datetime."""
    return value.strftime(DASSHH_FORMAT)


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def make_recent(client: DBClient, *, session_id: str, now: datetime | None = None) -> Resumed:
    """Set the session's ``updated_at`` so that dasshh's ``get_recent_session`` returns it; every other cell stays.

    Nothing is written when it already is the one dasshh opens.  Raises
    :class:`SessionNotFoundError` for an unknown id, :class:`ResumeError`
    when another session's stored value sorts after any date (a BLOB, or text
    such as ``"9999"`` or ``"2026-01-01T..."`` later than now in text order),
    and the database's errors; in each case nothing is changed.
    """
    with client.get_db() as db:
        conn = db.connection()
        client.begin_immediate(conn)
        row = conn.exec_driver_sql("SELECT updated_at FROM sessions WHERE id = ?", (session_id,)).first()
        if row is None:
            db.rollback()
            raise SessionNotFoundError(session_id)
        before = row[0]
        if conn.exec_driver_sql(RECENT_SQL).scalar() == session_id:
            db.rollback()
            return Resumed(session_id, before, before, False)
        latest = conn.exec_driver_sql(LATEST_OTHER_SQL, (session_id,)).first()
        when = utcnow() if now is None else now
        if latest is not None and latest[1] == "text":
            parsed = _parse(latest[0])
            if parsed is not None and parsed.tzinfo is None and parsed >= when:
                when = parsed + timedelta(microseconds=1)
        after = stored_text(when)
        if latest is not None and (latest[1] == "blob" or (latest[1] == "text" and after <= latest[0])):
            db.rollback()
            raise ResumeError(f"another session's last update, stored as {latest[0]!r}, sorts after any date:"
                              " dasshh will open that one")
        conn.exec_driver_sql("UPDATE sessions SET updated_at = ? WHERE id = ?", (after, session_id))
        db.commit()
    return Resumed(session_id, before, after, True)
