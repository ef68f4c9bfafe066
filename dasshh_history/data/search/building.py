"""Who writes the index now and how far it got: the cache's build lock, the progress a build notes, the backlog.

One sync at a time writes the index, whichever process runs it (the app's
thread, its builder process, another instance, the ``search`` command):
:class:`BuildLock` is an advisory lock (``flock``) on a file beside the cache,
let go by the system when its holder ends, however it ends.  A sync notes in
the cache's ``meta``, in the transaction of each chunk it indexes, how far it
got and its process id (:func:`note_progress`); others read it there
(:func:`read_progress`) while the lock is held.  :func:`backlog` says how many
events the cache has yet to index, without creating or writing anything.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dasshh_history.data import private_files
from dasshh_history.data.search import schema
from dasshh_history.data.search.schema import SCHEMA_VERSION

try:
    import fcntl
except ImportError:  # Windows: no lock, syncs are only serialised within one process
    fcntl = None  # type: ignore[assignment]

#: Seconds between two tries of a lock that another process holds, while waiting for it.
LOCK_POLL = 0.1
#: Seconds a look at the cache waits for a writer at most (the cache connection's timeout, if shorter).
READ_TIMEOUT = 2.0


class BuildLock:
    """The write lock of one cache file across processes: a ``flock`` on ``<cache>.lock``.

    Not for threads sharing one object (the index serialises its own syncs
    first); two objects, in one process or two, exclude each other.
    """

    def __init__(self, cache: Path) -> None:
        self.path = cache.with_name(cache.name + ".lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, wait: bool, should_stop: Callable[[], bool] = lambda: False) -> bool:
        """Take the lock: at once if free; with ``wait``, once its holder lets go, unless ``should_stop``
        says so meanwhile.  Whether it is held now.  Where no lock can be made (no ``flock``, a
        directory that cannot be written) there is nothing to exclude and this says True."""
        if self._fd is not None:
            return True
        if fcntl is None:
            return True
        try:
            fd = private_files.create_file(self.path, os.O_RDWR)
        except OSError:
            return True  # the cache beside it cannot be written either: it is in memory, ours alone
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait or should_stop():
                    os.close(fd)
                    return False
                time.sleep(LOCK_POLL)
                continue
            except OSError:
                os.close(fd)
                return True  # a file system without locks: as above
            self._fd = fd
            return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor lets the lock go

    def busy(self) -> bool:
        """Whether anyone holds the lock now (another process, or another lock object in this one)."""
        if fcntl is None or self._fd is not None:
            return self._fd is not None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False  # no lock file: nobody ever built here
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)
        return False


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """How far a sync got: ``done`` of ``total`` events indexed, by process ``pid``."""

    pid: int
    done: int
    total: int


def note_progress(conn: sqlite3.Connection, done: int, total: int) -> None:
    """Note how far this process's sync got (inside one of its writes)."""
    value = json.dumps({"pid": os.getpid(), "done": done, "total": total})
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('build', ?)", (value,))


def read_progress(cache: Path) -> BuildProgress | None:
    """The progress last noted in the cache at ``cache``; None when there is none (or no cache)."""
    try:
        noted = json.loads(read_meta(cache, "build") or "null")
        return BuildProgress(int(noted["pid"]), int(noted["done"]), int(noted["total"]))
    except (ValueError, TypeError, KeyError):
        return None


def read_meta(cache: Path, key: str) -> str | None:
    """A value of the ``meta`` of the cache at ``cache``, read without opening the index (nor creating
    anything); None when there is none, no cache, or it cannot be read."""
    conn = _open_existing(cache)
    if conn is None:
        return None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None and isinstance(row[0], str) else None
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def backlog(cache: Path, db_path: Path) -> int:
    """Events of the history at ``db_path`` after the last one the cache at ``cache`` indexed: all of
    them when there is no cache of this version.  Reads both files, writes neither, creates nothing;
    raises the history's errors (sqlite3's)."""
    conn = _open_existing(cache)
    if conn is not None:
        try:
            if conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (SCHEMA_VERSION,):
                (last,) = conn.execute("SELECT coalesce(max(event_rowid), 0) FROM docs").fetchone()
                conn.execute("ATTACH DATABASE ? AS hist", (f"{db_path.resolve().as_uri()}?mode=ro",))
                return conn.execute("SELECT count(*) FROM hist.events WHERE rowid > ?", (last,)).fetchone()[0]
        except sqlite3.Error:
            pass  # a cache being made, or of no use: as if there were none
        finally:
            conn.close()
    history = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=_timeout())
    try:
        (count,) = history.execute("SELECT count(*) FROM events").fetchone()
        return count
    finally:
        history.close()


def _timeout() -> float:
    return min(READ_TIMEOUT, schema.BUSY_TIMEOUT_SECONDS)


def _open_existing(cache: Path) -> sqlite3.Connection | None:
    """A connection to the cache file if it exists (``mode=rw`` creates no file), for reading."""
    if not cache.is_file():
        return None
    try:
        return sqlite3.connect(f"{cache.resolve().as_uri()}?mode=rw", uri=True, timeout=_timeout())
    except sqlite3.Error:
        return None
