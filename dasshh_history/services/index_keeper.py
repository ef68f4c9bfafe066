"""Keeps the search index: opens it on first use, syncs it, says a failing sync once, remembers it is behind.

A keeper made with ``background`` (the app's) leaves a sync that has many
events to index (a first build) to a builder process (see
:mod:`~dasshh_history.services.index_build`), and waits out a sync that
another process runs, asking :meth:`IndexKeeper.poll` how it goes; small
syncs run where they are asked for.  No Textual here: the browser screen runs
:meth:`IndexKeeper.sync` and :meth:`IndexKeeper.poll` in workers.
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
from dasshh_history.data.search.building import BuildLock, backlog, read_progress
from dasshh_history.data.search.purge import mark_purge_due, purge_due
from dasshh_history.data.search.schema import default_cache_path
from dasshh_history.errors import DB_ERRORS, describe_error
from dasshh_history.services import index_build
from dasshh_history.services.index_build import EXIT_BUSY, BuildProcess

#: Events not indexed yet from which a sync is left to a builder process rather than run in the app.
BACKGROUND_AFTER = 5_000


@dataclass(frozen=True)
class Synced:
    """What a sync did: whether the index changed, or that it failed and what to tell the user (once per failure).

    ``background``: nothing was done here, a process of its own syncs (this app's builder, or another
    instance's sync); :meth:`IndexKeeper.poll` says how it goes.  ``notice``: to tell the user, once.
    """

    changed: bool
    failed: bool = False
    error: str | None = None
    background: bool = False
    notice: str | None = None


@dataclass(frozen=True)
class Building:
    """How a sync in another process goes: running (how far, once known), or over.

    ``notice``: the builder failed and the syncs run here from now on; to tell the user, once.
    """

    running: bool
    progress: tuple[int, int] | None = None
    notice: str | None = None


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
        background: bool = False,
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
        #: Whether large syncs go to a builder process, and other processes' syncs are not waited for here.
        self.background = background and index_build.SUPPORTED
        self._builder: BuildProcess | None = None  # ours, while it runs
        self._purger: BuildProcess | None = None  # ours, purging the cache after the trash expired
        self._elsewhere = False  # another process's sync writes the cache
        self._notice: str | None = None  # why our builder failed: the syncs run here from then on
        self._said = False  # and it was said
        self._background_lock = threading.Lock()

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
                self._follow_build()
            return self._index

    @property
    def cache_path(self) -> Path:
        """Where the index is, or will be, kept (``:memory:`` when its file could not be written)."""
        if self._index is not None:
            return self._index.path
        assert self.client.db_path is not None
        return self.path or default_cache_path(self.client.db_path)

    @property
    def building(self) -> bool:
        """Whether a sync runs in another process (ours or another instance's), as far as the last look saw."""
        return self._builder is not None or self._elsewhere

    @property
    def builder_pid(self) -> int | None:
        """The process id of this keeper's builder while it runs."""
        builder = self._builder
        return builder.pid if builder is not None else None

    def sync(
        self, progress: Callable[[int, int], None] | None = None, *, should_stop: Callable[[], bool] = lambda: False
    ) -> Synced:
        """Bring the index in step with the history.

        With :attr:`background`, a sync of :data:`BACKGROUND_AFTER` events or
        more is left to a builder process, and one that another process runs
        is not waited for: both return ``background``.  A failure (the cache
        locked by another instance, a full disk) is not raised: it marks the
        index :attr:`behind` and is returned to be said, unless the previous
        sync failed the same way.
        """
        if self.background and self.start_background():
            return Synced(False, background=True)
        try:
            result = self.open().sync(progress, should_stop=should_stop, wait=not self.background)
        except DB_ERRORS as exc:
            self.behind = True
            message = f"Could not index for search: {describe_error(exc)}"
            said, self._error = self._error, message
            return Synced(False, failed=True, error=None if message == said else message, notice=self._take_notice())
        self._error = None
        if result.busy:
            self._elsewhere = True
            return Synced(False, background=True)
        return Synced(bool(result), notice=self._take_notice())

    def start_background(self) -> bool:
        """Leave the sync to a builder process when :data:`BACKGROUND_AFTER` events or more are to be indexed;
        whether a sync runs in another process now (ours, started here or before, or another instance's).

        Reads the cache and the history (a few milliseconds): for a worker thread.  A builder that
        cannot start is said once (see :meth:`poll`), and the syncs run here from then on.
        """
        if not (self.available and self.background) or self._notice is not None:
            return False
        with self._background_lock:
            if self.building:
                return True
            cache = self.cache_path
            if str(cache) == ":memory:":
                return False  # no file that another process could write
            index = self._index
            if not (index is not None and index.writing) and BuildLock(cache).busy():  # not our own thread's
                self._elsewhere = True
                return True
            assert self.client.db_path is not None
            try:
                if backlog(cache, self.client.db_path) < BACKGROUND_AFTER:
                    return False
            except DB_ERRORS:
                return False  # the sync here will say what is wrong
            builder = BuildProcess(self.client.db_path, cache)
            try:
                builder.start()
            except (OSError, ValueError) as exc:
                self._fall_back(f"it could not start ({describe_error(exc) if isinstance(exc, OSError) else exc})")
                return False
            self._builder = builder
            return True

    def purge_after_expiry(self, expired: bool) -> bool:
        """Leave no copy of deleted text in the cache: after the trash expired (``expired``), or when a purge
        is still owed (one was stopped), purge it in a process of its own; whether one was started.

        The cache keeps the words of deleted sessions until it is rewritten
        (see :mod:`~dasshh_history.data.search.purge`), which costs about a
        build: not at every delete, but when their last copy, the trash, goes.
        Reads (and may write) the cache: for a worker thread.  No cache file, no purge.
        """
        if not (self.available and self.background) or self._purger is not None:
            return False
        cache = self.cache_path
        if str(cache) == ":memory:" or not cache.is_file():
            return False
        if expired:
            mark_purge_due(self.open())
        elif not purge_due(cache):  # read without opening the index: this runs at every start
            return False
        assert self.client.db_path is not None
        purger = BuildProcess(self.client.db_path, cache, purge=True)
        try:
            purger.start()
        except (OSError, ValueError):
            return False  # still owed: tried again at the next start
        self._purger = purger
        return True

    @property
    def purging(self) -> bool:
        """Whether our purge process runs."""
        purger = self._purger
        return purger is not None and purger.poll() is None

    def poll(self) -> Building | None:
        """How the sync in another process goes (None: there is none); reads the cache, for a worker thread.

        Once it is over, a sync here catches up with what it left (it never
        writes what changed after its last read).  Our builder failing (or
        killed) is said once, and the syncs run here from then on.
        """
        building = self._poll()
        self._follow_build()
        return building

    def _follow_build(self) -> None:
        """Tell the index whether another process builds it (its answers are then kept through the build's writes)."""
        index = self._index
        if index is not None:
            index.growing = self.building

    def _poll(self) -> Building | None:
        with self._background_lock:
            builder = self._builder
            if builder is not None:
                code = builder.poll()
                if code is None:
                    return Building(True, self._progress(builder.pid))
                self._builder = None
                if code not in (0, EXIT_BUSY):
                    self._fall_back(builder.reason())
                builder.close()
                if code != EXIT_BUSY:
                    return Building(False, notice=self._take_notice())
                self._elsewhere = True  # another instance builds: waited out as below
            if not self._elsewhere:
                return None
            if BuildLock(self.cache_path).busy():
                return Building(True, self._progress())
            self._elsewhere = False
            return Building(False)

    def _progress(self, pid: int | None = None) -> tuple[int, int] | None:
        """How far the running sync got, as it noted in the cache (from ``pid`` only, when given)."""
        noted = read_progress(self.cache_path)
        if noted is None or (pid is not None and noted.pid != pid):
            return None
        return noted.done, noted.total

    def _fall_back(self, reason: str) -> None:
        self._notice = f"Indexing for search in the background failed: {reason}; indexing in the app instead."
        self._said = False

    def _take_notice(self) -> str | None:
        """The builder's failure, the first time it is asked for."""
        if self._notice is None or self._said:
            return None
        self._said = True
        return self._notice

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
        """Look ahead for the first keys of a search; only a head start, so failures are left to the search.

        Also while another process builds: what is looked up is kept through its writes (see ``SearchIndex.growing``).
        """
        try:
            self.open().warm(should_stop=should_stop)
        except DB_ERRORS:
            pass

    def close(self) -> None:
        """Stop our builder (it is gone on return) and close the index."""
        with self._background_lock:
            builder, self._builder = self._builder, None
            purger, self._purger = self._purger, None
            self._elsewhere = False
        for process in (builder, purger):  # a purge stopped is still owed (see purge_after_expiry)
            if process is not None:
                process.stop()
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
