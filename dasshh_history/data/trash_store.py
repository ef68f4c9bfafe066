"""The trash that survives restarts: every delete is written here, durably, before it happens.

One SQLite file per delete (a *batch*: one session, or many) in
``$XDG_DATA_HOME/dasshh-history/trash/`` (default ``~/.local/share``).  A batch
file holds every deleted row exactly as it was stored (every column, its
rowid, BLOBs, text that is not valid UTF-8: :class:`~dasshh_history.data.trash.RawText`),
and a summary of each session for the list of recently deleted ones.

A delete runs in this order (:meth:`TrashStore.delete`), under the history's
write lock from the first read to the commit, so that what is written to the
trash is exactly what is deleted:

1. the rows are read (``BEGIN IMMEDIATE``);
2. they are written to ``NAME.tmp`` (created 0600), which is fsynced, renamed to
   ``NAME.pending.sqlite``, and the folder fsynced: the batch is safely on disk;
3. the rows are deleted and the transaction committed;
4. the file is renamed to ``NAME.sqlite``: committed.

A kill at any point leaves: a ``.tmp`` (never referenced: removed), a pending
batch whose sessions all still exist (the delete never committed: it is not
shown, and removed at the next delete, under the lock), or a batch whose
sessions are gone (shown; a pending one is renamed when first read).  A failed
write (locked, read-only, disk full) raises before anything is deleted; the
file of a delete that failed after step 2 is removed, or, failing that, left
pending with its sessions present, which reads as not deleted.

Restoring writes the rows back in one transaction, then rewrites the batch file
without them (a new file renamed over the old) or unlinks it when empty; a
session of the trash whose id is in the history again (a restore cut short
between the two steps, or the id back) is listed as such, ``u`` passes it by,
and restoring it is a conflict, reported.  Removing trash (expiry, restore) unlinks or
replaces whole files, so no copy of a removed row stays in our files.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from dasshh_history.data import trash, trash_file
from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import DeletedSession, RestoreError, StoredValue

__all__ = ["TRASH_DAYS", "TrashBatch", "TrashStore", "TrashedSession", "default_trash_dir"]

#: Trash older than this many days is removed when the app starts.
TRASH_DAYS = 30
_PENDING = ".pending.sqlite"
_DONE = ".sqlite"
_TMP = ".tmp"
_STAMP = "%Y%m%dT%H%M%S%fZ"
#: A leftover ``.tmp`` this old is no one's write in progress.
_TMP_AGE = timedelta(hours=1)
_CHUNK = 500

#: Test hook: ``DASSHH_HISTORY_TRASH_KILL=STEP`` makes the process SIGKILL itself at that step of a delete
#: (``writing``: the batch file half written; ``written``: after the batch file is safe, before the delete;
#: ``deleted``: after the commit, before the rename).
KILL_ENV = "DASSHH_HISTORY_TRASH_KILL"


def default_trash_dir() -> Path:
    """``$XDG_DATA_HOME/dasshh-history/trash`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dasshh-history" / "trash"


@dataclass(frozen=True, slots=True)
class TrashedSession:
    """One session (or the orphan events of a gone one) in a batch of the trash."""

    batch: str
    deleted_at: datetime  # naive UTC
    session_id: str
    title: str | None
    created_at: datetime | None
    updated_at: datetime | None
    event_count: int
    orphans: bool
    position: int
    #: The history holds a session with this id again (or, for orphans, events of it): restoring it is a conflict.
    exists_again: bool = False


@dataclass(frozen=True, slots=True)
class TrashBatch:
    """What one delete removed: its sessions in stored order."""

    name: str
    deleted_at: datetime
    sessions: tuple[TrashedSession, ...]

    @property
    def event_count(self) -> int:
        return sum(s.event_count for s in self.sessions)


class TrashStore:
    """The trash folder, seen from one history (batches of other histories are left alone, but expire too)."""

    def __init__(self, directory: Path, history: Path | str | None, *, clock: Callable[[], datetime] | None = None):
        self.directory = directory
        self.history = str(Path(history).resolve()) if history is not None else ":memory:"
        #: In the file names, so that the batches of other histories are passed by without opening them.
        self._key = hashlib.sha256(self.history.encode()).hexdigest()[:8]
        self._clock = clock or _utcnow

    # -- delete ---------------------------------------------------------------------

    def delete(
        self, client: DBClient, session_ids: Sequence[str], *, orphans: Sequence[StoredValue] = ()
    ) -> tuple[TrashBatch | None, list[DeletedSession]]:
        """Delete sessions (and orphan events) in one transaction, after writing them durably to a new batch."""
        written: list[Path] = []

        def save(conn: Connection, deleted: list[DeletedSession]) -> None:
            self._drop_dead_pending(conn)
            written.append(self._write_new(deleted))
            _maybe_kill("written")

        try:
            deleted = trash.delete_sessions(client, session_ids, orphans=orphans, before_delete=save)
        except BaseException:
            for path in written:  # a delete that did not commit: its batch must not read as deleted
                self._forget_if_not_deleted(client, path)
            raise
        if not written:
            return None, deleted
        _maybe_kill("deleted")
        pending = written[0]
        final = pending.with_name(pending.name[: -len(_PENDING)] + _DONE)
        with suppress(OSError):  # left pending, it is found deleted (its sessions gone) when read
            os.replace(pending, final)
        name = final.name[: -len(_DONE)]
        return self._read_batch(final if final.exists() else pending, name), deleted

    def _write_new(self, deleted: list[DeletedSession]) -> Path:
        self._ensure_dir()
        now = self._clock()
        # Sorted by name, batches are in the order of their deletes (the wall clock's nanoseconds break ties
        # of an injected clock).
        name = f"{now.strftime(_STAMP)}-{time.time_ns():020d}-{self._key}-{secrets.token_hex(3)}"
        tmp = self.directory / (name + _TMP)
        self._write_file(tmp, list(enumerate(deleted)), now)
        pending = self.directory / (name + _PENDING)
        os.replace(tmp, pending)
        _fsync_dir(self.directory)
        return pending

    def _write_file(self, tmp: Path, deleted: Sequence[tuple[int, DeletedSession]], deleted_at: datetime) -> None:
        """A complete batch file at ``tmp`` (0600), fsynced; removed again when anything fails."""
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask (SQLite gives its journals the file's mode)
        finally:
            os.close(fd)
        try:
            with closing(sqlite3.connect(tmp, isolation_level=None)) as conn:
                conn.execute("PRAGMA journal_mode = OFF")  # the file is nobody's until renamed
                conn.execute("PRAGMA synchronous = OFF")  # fsynced once, below
                conn.execute("BEGIN")
                trash_file.write_batch(conn, deleted, deleted_at, self.history)
                _maybe_kill("writing")
                conn.execute("COMMIT")
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except sqlite3.Error as exc:  # disk full, I/O error: said as the file error it is
            with suppress(OSError):
                tmp.unlink()
            raise OSError(errno.EIO, f"cannot write the trash: {exc}", str(tmp)) from exc
        except BaseException:
            with suppress(OSError):
                tmp.unlink()
            raise

    def _forget_if_not_deleted(self, client: DBClient, path: Path) -> None:
        """After a failed delete: its batch goes when every session of it is still in the history (the
        delete did not commit, and cannot any more).  When that cannot be told (an error raised after the
        commit, a history that cannot be read), it stays pending: read as not deleted while its sessions exist."""
        try:
            _, keys = trash_file.read_keys(path)
            if len(trash_file.present_keys(client, keys)) == len(keys):
                path.unlink()
        except Exception:  # noqa: BLE001, S110 -- kept pending: safe either way
            pass

    def _drop_dead_pending(self, conn: Connection) -> None:
        """Under the history's write lock: pending batches of this history whose sessions all exist never committed."""
        for path in self._files(_PENDING):
            if not self._mine(path):
                continue
            try:
                meta, keys = trash_file.read_keys(path)
            except sqlite3.Error:
                continue
            if meta.get("history") != self.history:
                continue
            if keys and all(trash_file.present(conn, key, orphans) for key, orphans in keys):
                with suppress(OSError):
                    path.unlink()

    # -- read -----------------------------------------------------------------------

    def batches(self, client: DBClient | None = None) -> list[TrashBatch]:
        """This history's batches, newest first.  With ``client`` a pending batch is settled (whose sessions
        all exist never committed: left out), and each session says whether its id is in the history again."""
        found: list[TrashBatch] = []
        for path in sorted(self._files(_DONE, _PENDING), key=lambda p: p.name, reverse=True):
            if not self._mine(path):
                continue
            try:
                meta, keys = trash_file.read_keys(path)
            except sqlite3.Error:
                continue  # not a batch file (or a damaged one): left alone
            if meta.get("history") != self.history:
                continue
            pending = path.name.endswith(_PENDING)
            present: set[int] = set()
            if client is not None:
                present = trash_file.present_keys(client, keys)
                if pending:
                    if keys and len(present) == len(keys):
                        continue  # its delete never committed
                    path = self._settle(path)
            elif pending:
                continue
            batch = self._read_batch(path, _batch_name(path), present)
            if batch.sessions:
                found.append(batch)
        return found

    def sessions(self, client: DBClient | None = None) -> list[TrashedSession]:
        """Every trashed session of this history, newest delete first (in stored order within one delete)."""
        return [session for batch in self.batches(client) for session in batch.sessions]

    def has_any(self) -> bool:
        """Whether the folder holds any batch (of any history): cheap, no file is opened."""
        return any(True for _ in self._files(_DONE, _PENDING))

    def size(self) -> tuple[int, int]:
        """The number of batch files in the folder (every history's) and their size in bytes."""
        count = total = 0
        for path in self._files(_DONE, _PENDING):
            with suppress(OSError):
                total += path.stat().st_size
                count += 1
        return count, total

    def load(self, batch: str, positions: Sequence[int] | None = None) -> list[DeletedSession]:
        """The stored rows of a batch's sessions (every one, or those at ``positions``), in stored order."""
        path = self._path_of(batch)
        with closing(trash_file.open_ro(path)) as conn:
            return [item for _, item in trash_file.load(conn, positions)]

    # -- restore ----------------------------------------------------------------------

    def restore(self, client: DBClient, batch: str, positions: Sequence[int] | None = None) -> list[DeletedSession]:
        """Write sessions of a batch back into the history in one transaction (all of them or none), then
        remove them from the trash.  Raises :class:`~dasshh_history.data.trash.RestoreConflictError` when one
        exists again, :class:`FileNotFoundError` when the batch is gone (restored or expired meanwhile)."""
        path = self._path_of(batch)
        if path.name.endswith(_PENDING):
            path = self._settle(path)
        try:
            with closing(trash_file.open_ro(path)) as conn:
                deleted_at = trash_file.deleted_at(conn)
                everything = trash_file.load(conn, None)
        except (sqlite3.Error, KeyError, ValueError) as exc:
            raise RestoreError(f"cannot read the trash file {path.name}: {exc}") from exc
        chosen = None if positions is None else set(positions)
        wanted = [item for position, item in everything if chosen is None or position in chosen]
        if chosen is not None and len(wanted) != len(chosen):
            raise FileNotFoundError("that session is no longer in the trash (restored meanwhile)")
        trash.restore_many(client, wanted)
        rest = [(position, item) for position, item in everything if chosen is not None and position not in chosen]
        if not rest:
            path.unlink(missing_ok=True)
        else:  # a new file without them, renamed over the old: no copy of the restored rows is left
            self._replace_file(path, rest, deleted_at)
        return wanted

    def rewrite(self, batch: str, change: Callable[[DeletedSession], DeletedSession | None]) -> bool:
        """Rewrite a batch file with each session's rows as ``change`` returns them (None: unchanged): a new
        file renamed over the old (no copy of the old rows is left in our files), as a partial restore does.
        Whether anything changed.  For a redaction (README, "Privacy")."""
        path = self._path_of(batch)
        with closing(trash_file.open_ro(path)) as conn:
            deleted_at = trash_file.deleted_at(conn)
            everything = trash_file.load(conn, None)
        changed = [(position, change(item)) for position, item in everything]
        if all(new is None for _, new in changed):
            return False
        rows = [(position, new if new is not None else item) for (position, item), (_, new) in zip(everything, changed)]
        self._replace_file(path, rows, deleted_at)
        return True

    def _replace_file(self, path: Path, rows: Sequence[tuple[int, DeletedSession]], deleted_at: datetime) -> None:
        """Write ``rows`` to a new batch file and rename it over ``path`` (its folder synced)."""
        tmp = self.directory / (path.name + _TMP)
        tmp.unlink(missing_ok=True)
        self._write_file(tmp, rows, deleted_at)
        os.replace(tmp, path)
        _fsync_dir(self.directory)

    # -- expiry -----------------------------------------------------------------------

    def expire(self, days: int) -> int:
        """Remove batches (of every history) deleted more than ``days`` days ago, and stale ``.tmp`` files;
        the number of batch files removed.  Whole files are unlinked: no copy of their rows stays."""
        now = self._clock()
        cutoff = now - timedelta(days=days)
        removed = 0
        for path in self._files(_DONE, _PENDING, _TMP):
            stamp = _stamp_of(path)
            if path.name.endswith(_TMP):
                if stamp is None or stamp < now - _TMP_AGE:
                    with suppress(OSError):
                        path.unlink()
                continue
            if stamp is not None and stamp < cutoff:
                with suppress(OSError):
                    path.unlink()
                    removed += 1
                    Path(str(path) + "-journal").unlink(missing_ok=True)
        return removed

    # -- internals --------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        """The folder and ``dasshh-history`` above it, 0700 whatever the umask (or a mode they were given)."""
        parent = self.directory.parent
        if not parent.exists():
            parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, exist_ok=True)
            _fsync_dir(parent)  # the folder itself survives a crash, with the first batch in it
        for folder in (parent, self.directory):  # both ours (dasshh-history/ and its trash/)
            if folder.stat().st_mode & 0o777 != 0o700:
                os.chmod(folder, 0o700)

    def _files(self, *suffixes: str) -> Iterator[Path]:
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.name.endswith(suffixes) and entry.is_file(follow_symlinks=False):
                yield Path(entry.path)

    def _mine(self, path: Path) -> bool:
        return f"-{self._key}-" in path.name

    def _path_of(self, batch: str) -> Path:
        if "/" in batch or batch.startswith("."):
            raise FileNotFoundError(batch)
        for suffix in (_DONE, _PENDING):
            path = self.directory / (batch + suffix)
            if path.exists():
                return path
        raise FileNotFoundError(f"no batch {batch!r} in the trash (restored or expired)")

    def _settle(self, pending: Path) -> Path:
        """A pending batch found deleted: renamed as committed (another reader may have done it already)."""
        final = pending.with_name(pending.name[: -len(_PENDING)] + _DONE)
        with suppress(OSError):
            os.replace(pending, final)
        return final if final.exists() else pending

    def _read_batch(self, path: Path, name: str, present: set[int] = frozenset()) -> TrashBatch:  # type: ignore[assignment]
        with closing(trash_file.open_ro(path)) as conn:
            deleted_at = trash_file.deleted_at(conn)
            rows = conn.execute(
                "SELECT position, session_key, orphans, title, created_at, updated_at, event_count"
                " FROM entries ORDER BY position"
            ).fetchall()
        sessions = tuple(
            TrashedSession(
                batch=name, deleted_at=deleted_at, session_id=trash_file.as_text(key), title=title,
                created_at=trash_file.parse_time(created), updated_at=trash_file.parse_time(updated), event_count=count,
                orphans=bool(orphans), position=position, exists_again=position in present,
            )
            for position, key, orphans, title, created, updated, count in rows
        )
        return TrashBatch(name, deleted_at, sessions)


def _batch_name(path: Path) -> str:
    for suffix in (_PENDING, _DONE):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def _stamp_of(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name.split("-", 1)[0], _STAMP)
    except ValueError:
        return None


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _utcnow() -> datetime:
    from dasshh_history.data.models import utcnow

    return utcnow()


def _maybe_kill(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
