"""The stats of one history: kept up to date in a cache file of their own, and read as the figures to show.

One :class:`StatsKeeper` per history, with a connection of its own to its
stats file, which lies beside the search cache (see
:func:`~dasshh_history.data.search.schema.stats_cache_path`): working them out
never waits for the search index's build; safe to use from several threads,
one call at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.data.search.schema import STATS_FILE_VERSION, default_cache_path, open_cache, stats_cache_path
from dasshh_history.data.search.stats import Progress, StatsSync, has_stats, sync_stats
from dasshh_history.data.search.stats_read import read_stats
from dasshh_history.domain.stats import Stats, StatsRows, build_stats


def file_size(path: Path | None) -> int | None:
    """Bytes a SQLite file takes on disk, its write-ahead log included; None when there is no file."""
    if path is None or str(path) == ":memory:":
        return None
    total = None
    for part in (path, path.with_name(path.name + "-wal")):
        try:
            total = (total or 0) + part.stat().st_size
        except OSError:
            continue
    return total


class StatsKeeper:
    """Works out a history's stats in a file beside its search cache (``path``; None: the user's cache
    directory's)."""

    def __init__(self, client: DBClient, path: Path | None = None, *, tz: tzinfo | None = None) -> None:
        self.client = client
        self.tz = tz
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._cache: Path | None = None  # the stats file
        self._search: Path | None = None  # the search cache, whose size the figures give
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether there is a history file to work out stats of."""
        return self.client.db_path is not None

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self.client.db_path is not None
            self._search = self.path or default_cache_path(self.client.db_path)
            self._conn, self._cache = open_cache(stats_cache_path(self._search), self.client.db_path,
                                                 version=STATS_FILE_VERSION)
        return self._conn

    @property
    def cache_path(self) -> Path | None:
        return self._cache

    def kept_figures(self, session_ids: Sequence[str] | None = None, *, query: str | None = None) -> Stats | None:
        """The figures worked out before (perhaps behind the history), read at once; None if they never were."""
        with self._lock:
            conn = self._open()
            if not has_stats(conn):
                return None
            rows: StatsRows = read_stats(conn, session_ids, tz=self.tz)
        return self._built(rows, query)

    def sync(self, progress: Progress | None = None, *, should_stop: Callable[[], bool] = lambda: False) -> StatsSync:
        """Bring the stats in step with the history: seconds the first time (``progress`` told), then cheap."""
        self.client.check_file()
        with self._lock:
            return sync_stats(self._open(), progress, should_stop)

    def figures(self, session_ids: Sequence[str] | None = None, *, query: str | None = None) -> Stats:
        """The figures of every session, or of ``session_ids`` (the results of the search ``query``)."""
        with self._lock:
            rows: StatsRows = read_stats(self._open(), session_ids, tz=self.tz)
        return self._built(rows, query)

    def _built(self, rows: StatsRows, query: str | None) -> Stats:
        return build_stats(rows, db_bytes=file_size(self.client.db_path), cache_bytes=file_size(self._search),
                           query=query)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def stats_for_script(
    client: DBClient,
    cache: Path | None,
    query: str,
    *,
    index_progress: Progress | None = None,
    stats_progress: Progress | None = None,
    warn: Callable[[str], None] = lambda message: None,
) -> Stats:
    """The figures the ``stats`` command prints: of the sessions ``query`` matches (the search index brought
    up to date first; a failure to is ``warn``-ed and what is indexed is searched), or of every session."""
    from dasshh_history.services.index_keeper import IndexKeeper
    from dasshh_history.services.searching import script_query

    session_ids = None
    if query:
        keeper = IndexKeeper(client, cache)
        try:
            synced = keeper.sync(index_progress)
            if synced.failed:
                warn(synced.error or "could not bring the search index up to date")
            session_ids = keeper.open().search(script_query(query)).session_ids
        finally:
            keeper.close()
    stats = StatsKeeper(client, cache)
    try:
        stats.sync(stats_progress)
        return stats.figures(session_ids, query=query or None)
    finally:
        stats.close()
