"""The session list's other orders: every session's id, sorted by SQLite in one read, kept until the history changes.

The default order (``updated_at``) is read a page at a time through the
browser's index on it.  The others sort on what no index holds (and none may
be added to dasshh's file): a session's message count or its events' dates
take a pass over the ``events (session_id)`` index and, for the dates, the
events' rows.  So each is read once, as the ids of every session in order,
and kept while ``PRAGMA data_version`` (on a read-only connection of its own,
as :class:`~dasshh_history.data.watch.ChangeWatcher` asks it) says that nobody
committed since; the list's pages are slices of it.  Only reads: no byte of
the file changes.
"""

from __future__ import annotations

import threading

from dasshh_history.data.client import DBClient
from dasshh_history.data.watch import ChangeWatcher
from dasshh_history.domain.order import ListOrder

__all__ = ["SessionOrders"]


def _day(column: str) -> str:
    """A stored datetime as SQLite's Julian day (milliseconds apart when they differ): NULL for anything SQLite
    cannot read as a date, or that is not text (a number would be read as a Julian day).  The same dates, and
    the same order, as the search cache's milliseconds (``ms_sql``), which ``after:``/``before:`` compare."""
    return f"julianday(CASE WHEN typeof({column}) = 'text' THEN {column} END)"


#: Every session's id, in each order (see :class:`ListOrder`); a NULL sorts last (DESC).  Equal values in insertion
#: order, but equal creation times the other way round: the sessions one dasshh run creates share one ``created_at``,
#: and the later inserted was created later.
ORDER_SQL = {
    ListOrder.ACTIVITY: f"""
        SELECT id FROM (
            SELECT s.id AS id, s.rowid AS r, {_day("s.updated_at")} AS updated,
                   (SELECT max({_day("e.created_at")}) FROM events AS e WHERE e.session_id = s.id) AS last_event
            FROM sessions AS s)
        ORDER BY max(coalesce(updated, last_event), coalesce(last_event, updated)) DESC, r
        """,
    ListOrder.CREATED: f"SELECT id FROM sessions ORDER BY {_day('created_at')} DESC, rowid DESC",
    ListOrder.SIZE: (
        "SELECT s.id FROM sessions AS s"
        " ORDER BY (SELECT count(*) FROM events AS e WHERE e.session_id = s.id) DESC, s.rowid"
    ),
}


class SessionOrders:
    """The ids of every session in one of the orders of :data:`ORDER_SQL`, each read once per state of the file.

    Safe to use from several threads (one read at a time).  A client without a
    file (an in-memory database) is read again at each call.
    """

    def __init__(self, client: DBClient) -> None:
        self.client = client
        self._watcher = ChangeWatcher(client)
        self._lock = threading.Lock()
        self._kept: dict[ListOrder, list[str]] = {}
        self._closed = False

    def ids(self, order: ListOrder) -> list[str]:
        """Every session's id in ``order`` (not the default one, which is read a page at a time).

        Raises the database's errors, as any read.
        """
        with self._lock:
            # Asked first: a commit after it and before the read is seen at the next call.
            if self._watcher.changed() or self.client.db_path is None or self._closed:
                self._kept.clear()
            ids = self._kept.get(order)
            if ids is None:
                with self.client.get_db() as db:
                    ids = [row[0] for row in db.connection().exec_driver_sql(ORDER_SQL[order])]
                if self._kept:  # the same ids as an order kept: its strings, not a copy of each (4 MB for 50,000)
                    known = {sid: sid for sid in next(iter(self._kept.values()))}
                    ids = [known.get(sid, sid) for sid in ids]
                if not self._closed:
                    self._kept[order] = ids
            return ids

    def close(self) -> None:
        """Close the connection that notices changes; later reads are not kept."""
        self._watcher.close()
        with self._lock:
            self._closed = True
            self._kept.clear()
