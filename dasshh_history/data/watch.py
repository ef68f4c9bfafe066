"""Noticing that the database changed, cheaply enough to ask every second.

``PRAGMA data_version`` answers a different number once any other connection
-- dasshh in another process, or this app's own engine -- has committed.  It
is per connection, so :class:`ChangeWatcher` keeps one read-only connection of
its own for it.  Between calls that connection holds no transaction and no
lock.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.exc import DBAPIError

from dasshh_history.data.client import DBClient

__all__ = ["ChangeWatcher"]

_QUERY = "PRAGMA data_version"
#: How long a check waits for a writer that is committing right now; past it the check says "no change yet".
CHECK_BUSY_TIMEOUT_SECONDS = 0.1


class ChangeWatcher:
    """Tells whether anything was committed to the database since it last looked.

    Safe to call from any thread (calls are serialized).  A client without a
    file (an in-memory database) never reports a change.
    """

    def __init__(self, client: DBClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._version: int | None = None
        self._closed = False

    def changed(self) -> bool:
        """True when another connection committed since the previous call.

        The first call only takes note of where the database stands and
        returns False, so make it before the first load.  While a writer is
        in the middle of committing, the answer is False and the change shows
        on the next call.

        Raises :class:`~dasshh_history.data.client.DatabaseUnavailableError`
        when the file was removed or replaced, and an ``SQLAlchemyError``
        (wrapping the ``sqlite3`` error) when it cannot be read.
        """
        if self.client.db_path is None:
            return False
        with self._lock:
            if self._closed:
                return False
            self.client.check_file()
            try:
                if self._conn is None:
                    self._conn = self._connect()
                # fetchall() runs the statement to its end, which ends the read it took.
                ((version,),) = self._conn.execute(_QUERY).fetchall()
            except sqlite3.OperationalError as exc:
                if (exc.sqlite_errorcode or 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    return False
                raise DBAPIError.instance(_QUERY, None, exc, sqlite3.Error) from exc
            except sqlite3.Error as exc:
                raise DBAPIError.instance(_QUERY, None, exc, sqlite3.Error) from exc
            previous, self._version = self._version, version
            return previous is not None and version != previous

    def close(self) -> None:
        """Close the connection; later calls to :meth:`changed` return False."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connect(self) -> sqlite3.Connection:
        uri = f"{self.client.db_path.resolve().as_uri()}?mode=ro"  # type: ignore[union-attr]
        return sqlite3.connect(
            uri, uri=True, timeout=CHECK_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
