"""Read-only queries the browser needs beyond the documented service.

Counts and previews come from SQL so that listing sessions never loads events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Row, func, literal_column, select, text

from dasshh_history.data.client import RECENT_KEY_SQL, DBClient
from dasshh_history.data.models import StorageEvent, StorageSession
from dasshh_history.data.session import EVENT_ORDER, SessionService
from dasshh_history.domain.values import SessionSummary

__all__ = ["HistoryReader", "SessionSummary"]


_ROWID = literal_column("events.rowid").label("rowid")

_SUMMARY_COLUMNS = (StorageSession.id, StorageSession.detail, StorageSession.created_at, StorageSession.updated_at)


# Where a session stands in the list order (SESSION_RECENT_FIRST): how many sessions come
# before it.  It compares stored values, as ORDER BY does, so a date that does not parse
# still has a place; each count is a range of the browser's index on RECENT_KEY_SQL (NULLs,
# the smallest values, come last).
_RANK = text(
    f"""
    SELECT (SELECT count(*) FROM sessions WHERE {RECENT_KEY_SQL} > t.u)
         + (SELECT count(*) FROM sessions WHERE {RECENT_KEY_SQL} = t.u AND rowid < t.r)
         + CASE WHEN t.u IS NULL
                THEN (SELECT count(*) FROM sessions WHERE {RECENT_KEY_SQL} IS NOT NULL)
                   + (SELECT count(*) FROM sessions WHERE {RECENT_KEY_SQL} IS NULL AND rowid < t.r)
                ELSE 0 END
    FROM (SELECT {RECENT_KEY_SQL} AS u, rowid AS r FROM sessions WHERE id = :id) AS t
    """
)

_SIGNATURE = text("SELECT count(*), max(rowid) FROM events WHERE session_id = :id")

# The tool calls of the events before a rowid, counted the way domain.parse counts them for the JSON
# dasshh writes: an assistant message's ``tool_calls`` list holds one call per item; any other value but
# null is one call.  ``instr`` skips the rows that cannot hold calls without parsing them.  Rows the
# parser reads otherwise (duplicate keys, NaN, nesting past its depth limit) may count otherwise.
_CALLS_BEFORE = text(
    """
    SELECT coalesce(sum(CASE json_type(content, '$.tool_calls')
                        WHEN 'array' THEN json_array_length(content, '$.tool_calls')
                        WHEN 'null' THEN 0
                        ELSE 1 END), 0)
    FROM events
    WHERE session_id = :id AND rowid < :before
      AND typeof(content) = 'text' AND instr(content, 'tool_calls') AND json_valid(content)
      AND json_extract(content, '$.role') = 'assistant' AND json_type(content, '$.tool_calls') IS NOT NULL
    """
)


class HistoryReader:
    """Session summaries for the list pane, newest first."""

    def __init__(self, db_client: DBClient) -> None:
        self.db_client = db_client

    def count_sessions(self) -> int:
        with self.db_client.get_db() as db:
            return db.scalar(select(func.count()).select_from(StorageSession)) or 0

    def event_counts(self, session_ids: Sequence[str]) -> dict[str, int]:
        """How many events each of these sessions has (one grouped query; sessions without events left out)."""
        if not session_ids:
            return {}
        table = StorageEvent.__table__
        stmt = (
            select(table.c.session_id, func.count())
            .where(table.c.session_id.in_(list(session_ids)))
            .group_by(table.c.session_id)
        )
        with self.db_client.get_db() as db:
            return {session_id: count for session_id, count in db.execute(stmt)}

    def list_summaries(self, *, offset: int = 0, limit: int | None = None) -> list[SessionSummary]:
        """A window of the session list, read through :meth:`SessionService.list_sessions`."""
        sessions = SessionService(self.db_client).list_sessions(offset=offset, limit=limit)
        counts = self.event_counts([session.id for session in sessions])
        return [SessionSummary(s.id, s.detail, s.created_at, s.updated_at, counts.get(s.id, 0)) for s in sessions]

    def list_summaries_by_ids(self, session_ids: Sequence[str]) -> list[SessionSummary]:
        """The summaries of these sessions, in the order given (missing ones left out)."""
        if not session_ids:
            return []
        with self.db_client.get_db() as db:
            rows = list(db.execute(select(*_SUMMARY_COLUMNS).where(StorageSession.id.in_(list(session_ids)))))
        counts = self.event_counts([row[0] for row in rows])
        found = {row[0]: SessionSummary(*row, counts.get(row[0], 0)) for row in rows}
        return [found[session_id] for session_id in session_ids if session_id in found]

    def ids_starting_with(self, prefix: str, *, limit: int) -> list[str]:
        """Up to ``limit`` session ids that start with ``prefix`` (the whole id included), in id order."""
        stmt = (
            select(StorageSession.id)
            .where(StorageSession.id >= prefix, StorageSession.id < prefix + "\U0010ffff")
            .order_by(StorageSession.id)
            .limit(limit)
        )
        with self.db_client.get_db() as db:
            return [session_id for session_id in db.scalars(stmt) if isinstance(session_id, str)]

    def iter_event_batches(self, *, session_id: str, first: int = 100, size: int = 1000) -> Iterator[Sequence[Row]]:
        """A session's events in the order of ``get_events``, in batches: ``first`` rows, then ``size`` at a time.

        Rows (with ``rowid``, ``id``, ``invocation_id``, ``created_at`` and
        ``content``, decoded as the models decode them) stream from one read,
        so the first batch arrives before the rest is read.  Close the
        iterator to stop early.
        """
        table = StorageEvent.__table__
        stmt = (
            select(_ROWID, table.c.id, table.c.invocation_id, table.c.created_at, table.c.content)
            .where(table.c.session_id == session_id)
            .order_by(*EVENT_ORDER)
        )
        with self.db_client.get_db() as db:
            # Through the Core connection: the ORM Session would read every row before the first batch.
            result = db.connection().execute(stmt)
            batch = result.fetchmany(first)
            while batch:
                yield batch
                batch = result.fetchmany(size)

    def read_tail(self, *, session_id: str, at_least: int) -> list[Row]:
        """A session's last events, from the start of an invocation: at least ``at_least`` of them (or all).

        Rows as :meth:`iter_event_batches` gives them, in the same order.  Read
        newest first and cut where ``invocation_id`` changes (as
        :class:`~dasshh_history.domain.parse.TimelineBuilder` groups events),
        so that they build the same invocations as the whole session's end.
        """
        table = StorageEvent.__table__
        stmt = (
            select(_ROWID, table.c.id, table.c.invocation_id, table.c.created_at, table.c.content)
            .where(table.c.session_id == session_id)
            .order_by(_ROWID.desc())
        )
        with self.db_client.get_db() as db:
            result = db.connection().execute(stmt)
            rows = list(result.fetchmany(max(1, at_least)))
            if len(rows) >= at_least:  # the earliest may not be the first of its invocation
                while (row := result.fetchone()) is not None and row.invocation_id == rows[-1].invocation_id:
                    rows.append(row)
            result.close()
        rows.reverse()
        return rows

    def count_tool_calls(self, *, session_id: str, before_rowid: int) -> int:
        """How many tool calls a session's events before ``before_rowid`` hold (see ``_CALLS_BEFORE``).

        It numbers the calls of a session's end (:meth:`read_tail`) before the
        rest is read; for data not written by dasshh it may be off, which the
        whole read corrects.
        """
        with self.db_client.get_db() as db:
            return int(db.scalar(_CALLS_BEFORE, {"id": session_id, "before": before_rowid}) or 0)

    def rank(self, *, session_id: str) -> int | None:
        """The index of a session in :meth:`list_summaries` order, or None if it does not exist."""
        with self.db_client.get_db() as db:
            return db.scalar(_RANK, {"id": session_id})

    def get_summary(self, *, session_id: str) -> SessionSummary | None:
        """One session's summary (as :meth:`list_summaries` gives it), or None if it does not exist."""
        found = self.list_summaries_by_ids([session_id])
        return found[0] if found else None

    def session_signature(self, *, session_id: str) -> tuple[int, int | None]:
        """(number of events, largest event rowid) of a session; ``(0, None)`` when it has none.

        Read from the ``session_id`` index alone, so it is cheap
        for any session size.  It changes when events are added or removed;
        events are never updated in place, so an equal signature means the
        same events (unless the newest one was deleted and its rowid reused).
        """
        with self.db_client.get_db() as db:
            count, last = db.execute(_SIGNATURE, {"id": session_id}).one()
            return int(count), last
