"""Keeps the search index: opens it on first use, syncs it, says a failing sync once, remembers it is behind.

No Textual here: the browser screen runs :meth:`IndexKeeper.sync` in a worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.schema import default_cache_path
from dasshh_history.errors import DB_ERRORS, describe_error


@dataclass(frozen=True)
class Synced:
    """What a sync did: whether the index changed, or that it failed and what to tell the user (once per failure)."""

    changed: bool
    failed: bool = False
    error: str | None = None


class IndexKeeper:
    """The search index of one history, opened lazily, kept in step by :meth:`sync` (any thread).

    ``tz`` and ``clock`` are the index's (see :class:`SearchIndex`): what dates typed in a search mean.
    """

    def __init__(
        self,
        client: DBClient,
        path: Path | None = None,
        *,
        tz: tzinfo | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.client = client
        self.path = path  # where the index lives (None: the user's cache directory)
        self.tz = tz
        self.clock = clock
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()
        #: The last sync failed: the index misses changes already seen, and the next check should sync.
        self.behind = False
        self._error: str | None = None  # what the failing syncs said

    @property
    def available(self) -> bool:
        """False for a history without a file (nothing to index, and nowhere to put the index beside it)."""
        return self.client.db_path is not None

    @property
    def is_open(self) -> bool:
        return self._index is not None

    def open(self) -> SearchIndex:
        """The index, opened on first use."""
        with self._lock:
            if self._index is None:
                self._index = SearchIndex(self.client, path=self.path, tz=self.tz, clock=self.clock)
            return self._index

    def sync(
        self, progress: Callable[[int, int], None] | None = None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> Synced:
        """Bring the index in step with the history.

        A failure (the cache locked by another instance, a full disk) is not
        raised: it marks the index :attr:`behind` and is returned to be said,
        unless the previous sync failed the same way.
        """
        try:
            changed = bool(self.open().sync(progress, should_stop=should_stop))
        except DB_ERRORS as exc:
            self.behind = True
            message = f"Could not index for search: {describe_error(exc)}"
            said, self._error = self._error, message
            return Synced(False, failed=True, error=None if message == said else message)
        self._error = None
        return Synced(changed)

    def retitled(self, session_id: str) -> None:
        """Tell the index that we renamed a session (keeping its ``updated_at``, which the sync goes by).

        Done at once when an index exists, so that the title is searchable as
        renamed in this run and the next; when none exists its first build
        reads every title anyway.  A failure marks the index behind.
        """
        if not self.available:
            return
        if not self.is_open and not (self.path or default_cache_path(self.client.db_path)).exists():
            return
        try:
            self.open().retitle(session_id)
        except DB_ERRORS:
            self.behind = True

    def warm(self, *, should_stop: Callable[[], bool]) -> None:
        """Look ahead for the first keys of a search; only a head start, so failures are left to the search."""
        try:
            self.open().warm(should_stop=should_stop)
        except DB_ERRORS:
            pass

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
