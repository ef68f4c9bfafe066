"""What the keys that change or hand out sessions do: rename, delete, undo, export, copy -- each an outcome to show.

No Textual here: the browser screen runs these in its workers and shows the
:class:`Outcome`.  The database's errors (and a restore that cannot be done, a
file that cannot be written) are raised; the screen reports them.
"""

from __future__ import annotations

import errno
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.data.rename import rename_session
from dasshh_history.data.session import SessionNotFoundError, SessionService
from dasshh_history.data.trash import DeletedSession, RestoreConflictError
from dasshh_history.data.trash_store import (
    TRASH_DAYS,
    TrashBatch,
    TrashedSession,
    TrashStore,
    default_trash_dir,
)
from dasshh_history.domain.export import export_filename
from dasshh_history.domain.text import count_messages, one_line
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services import exporting
from dasshh_history.services.index_keeper import IndexKeeper

GONE = "That session no longer exists."
ALL_GONE = "Those sessions no longer exist."
NEVER_DELETED = "Nothing to undo: the trash holds no deleted session."
ALL_RESTORED = "Nothing left to undo: every deleted session is back."
NOT_IN_TRASH = "That session is no longer in the trash (restored or expired)."


@dataclass(frozen=True)
class Outcome:
    """What an action did: a message, and what the list should do now."""

    message: str
    severity: str = "information"
    #: Read the list again, highlighting ``highlight_id`` if listed, else staying at ``keep_index``
    #: (None: where the highlight is); with ``keep_scroll`` the highlighted row stays where it is on screen.
    reload: bool = False
    highlight_id: str | None = None
    keep_index: int | None = None
    keep_scroll: bool = False
    #: Text to put on the clipboard.
    clipboard: str | None = None


class Actions:
    """Rename, delete, undo, export and copy; deletes go through the persistent trash, which ``u`` reads."""

    def __init__(
        self,
        client: DBClient,
        *,
        tz: tzinfo | None = None,
        index: IndexKeeper | None = None,
        trash_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.tz = tz
        self.index = index  # told of renames, which the search index cannot see by itself
        if trash_dir is None and client.db_path is None:  # a history in memory: its trash goes with the run
            self._trash_tmp = tempfile.TemporaryDirectory(prefix="dasshh-history-trash-")
            trash_dir = Path(self._trash_tmp.name)
        self.trash = TrashStore(trash_dir or default_trash_dir(), client.db_path, clock=clock)
        self.trash_days = TRASH_DAYS  # what the trash keeps, as the last expiry was told
        self._restored = False  # a delete was undone (so "nothing to undo" means every one is back)
        self._lock = threading.Lock()

    def rename(self, summary: SessionSummary, title: str) -> Outcome:
        """The title only: the session keeps its place in the list (and dasshh's choice of session stays)."""
        try:
            rename_session(self.client, session_id=summary.id, detail=title)
        except SessionNotFoundError:
            return Outcome(GONE, "warning", reload=True, highlight_id=summary.id, keep_scroll=True)
        if self.index is not None:
            self.index.retitled(summary.id)
        return Outcome(f"Renamed to “{one_line(title, 60)}”", reload=True, highlight_id=summary.id, keep_scroll=True)

    def delete(self, summary: SessionSummary, index: int) -> Outcome:
        """Delete a session through the trash (written first, durably); the highlight stays at ``index``."""
        _, deleted = self.trash.delete(self.client, [summary.id])
        if not deleted:
            return Outcome(GONE, "warning", reload=True, keep_index=index)
        return Outcome(f"Deleted “{one_line(summary.detail, 60)}” · press u to undo", reload=True, keep_index=index)

    def delete_many(self, summaries: Sequence[SessionSummary], index: int) -> Outcome:
        """Delete sessions as one batch (one transaction, one trash file, one ``u``); the highlight stays at ``index``."""
        _, deleted = self.trash.delete(self.client, [summary.id for summary in summaries])
        if not deleted:
            return Outcome(ALL_GONE if len(summaries) > 1 else GONE, "warning", reload=True, keep_index=index)
        gone = len(summaries) - len(deleted)
        meanwhile = f" ({_sessions(gone)} already gone)" if gone > 0 else ""
        return Outcome(f"Deleted {_what(deleted)}{meanwhile} · press u to undo", reload=True, keep_index=index)

    @property
    def can_undo(self) -> bool:
        """Whether ``u`` may have something to do (cheap: any file in the trash, no file opened)."""
        return self.trash.has_any()

    @property
    def nothing_to_undo(self) -> str:
        """Why ``u`` has nothing to do: the trash is empty, or every delete was undone."""
        return ALL_RESTORED if self._restored else NEVER_DELETED

    def undo(self) -> Outcome:
        """Write the last deleted batch back (in this run or an earlier one), exactly as it was stored."""
        for batch in self.trash.batches(self.client):
            if any(not s.exists_again for s in batch.sessions):
                return self._restore_batch(batch)
        return Outcome(self.nothing_to_undo, "warning")

    def trashed(self) -> list[TrashedSession]:
        """The trash of this history, newest delete first."""
        return self.trash.sessions(self.client)

    def restore_trashed(self, entry: TrashedSession) -> Outcome:
        """Write one trashed session back, byte for byte; a session with its id is a warning, not a change."""
        try:
            restored = self.trash.restore(self.client, entry.batch, [entry.position])
        except RestoreConflictError:
            return Outcome(f"Not restored: a session with the id {entry.session_id} exists again.", "warning")
        except FileNotFoundError:
            return Outcome(NOT_IN_TRASH, "warning", reload=True)
        with self._lock:
            self._restored = True
        return Outcome(f"Restored {_what(restored)}", reload=True, highlight_id=entry.session_id, keep_index=0)

    def expire_trash(self, days: int) -> int:
        """Remove trash older than ``days`` days (every history's); the number of deletes removed."""
        self.trash_days = days
        return self.trash.expire(days)

    def _restore_batch(self, batch: TrashBatch) -> Outcome:
        try:
            positions = [s.position for s in batch.sessions if not s.exists_again]  # the others: back already
            restored = self.trash.restore(self.client, batch.name, positions)
        except RestoreConflictError as exc:
            return Outcome(f"Not restored: a session with the id {exc.session_id} exists again.", "warning")
        except FileNotFoundError:
            return Outcome(NOT_IN_TRASH, "warning", reload=True)
        with self._lock:
            self._restored = True
        first = next((item.session_id for item in restored if not item.is_orphans), None)
        return Outcome(f"Restored {_what(restored)}", reload=True, highlight_id=first, keep_index=0)

    def export(self, summary: SessionSummary, directory: Path) -> Outcome:
        """Write the session as Markdown to a new file in ``directory``."""
        path = exporting.export_to_directory(self.client, summary.id, directory, tz=self.tz)
        return Outcome(GONE, "warning") if path is None else Outcome(f"Exported to {path}")

    def export_name(self, summary: SessionSummary) -> str:
        """The file name ``e`` offers: the session's date and title (numbered by the caller when taken)."""
        return export_filename(summary.created_at, summary.detail, self.tz)

    def export_file(self, summary: SessionSummary, path: Path, *, overwrite: bool = False) -> Outcome:
        """Write the session as Markdown to ``path``; ``FileExistsError`` when it exists, unless ``overwrite``."""
        written = exporting.export_to_file(self.client, summary.id, path, overwrite=overwrite, tz=self.tz)
        if written is None:
            return Outcome(GONE, "warning")
        return Outcome(f"Exported to {written}" + (" (replacing the file that was there)" if overwrite else ""))

    def export_sessions(
        self,
        session_ids: Sequence[str] | None,
        directory: Path,
        *,
        progress: Callable[[int, int], object] = lambda done, total: None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Outcome:
        """Write each session (every one with None, in the list's order) as Markdown to a new file in ``directory``.

        The folder is made if missing (its parent must exist); files never
        overwrite others (taken names are numbered).  ``progress(done, total)``
        follows each session.  The folder's errors are raised before anything
        is written; one met on the way ends the export with what was done said.
        """
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "Not a folder", str(directory))
        directory.mkdir(exist_ok=True)
        ids = list(session_ids) if session_ids is not None else [s.id for s in SessionService(self.client).list_sessions()]
        total, written, gone = len(ids), 0, 0
        progress(0, total)
        for done, session_id in enumerate(ids, 1):
            if cancelled():
                return Outcome(f"Export stopped: {_sessions(written)} of {total:,} written to {directory}", "warning")
            try:
                path = exporting.export_to_directory(self.client, session_id, directory, tz=self.tz)
            except OSError as exc:
                return Outcome(f"Export failed after {_sessions(written)} of {total:,} written to {directory}:"
                               f" {exc.strerror or exc}", "error")
            written, gone = written + (path is not None), gone + (path is None)
            progress(done, total)
        deleted = f" ({_sessions(gone)} deleted meanwhile)" if gone else ""
        return Outcome(f"Exported {_sessions(written)} to {directory}{deleted}")

    def session_markdown(self, summary: SessionSummary) -> str | None:
        """The session as the export writes it (for the pager), or None when it no longer exists."""
        return exporting.export_session(self.client, summary.id, "md", tz=self.tz)

    def copy(self, summary: SessionSummary) -> Outcome:
        """The session as Markdown, for the clipboard.

        The app can only send it to the terminal (OSC 52), which may ignore it
        without a word, so the message says where it went rather than that it arrived.
        """
        text = exporting.export_session(self.client, summary.id, "md", tz=self.tz)
        if text is None:
            return Outcome(GONE, "warning")
        lines = text.count("\n") + 1
        return Outcome(
            f"Sent to the terminal's clipboard (OSC 52): “{one_line(summary.detail, 60)}”"
            f" as Markdown ({lines:,} lines). Nothing to paste? The terminal must allow OSC 52"
            " (in tmux: set -g set-clipboard on).",
            clipboard=text,
        )


def _sessions(count: int) -> str:
    return f"{count:,} session{'' if count == 1 else 's'}"


def _what(deleted: Sequence[DeletedSession]) -> str:
    """“title” with 3 messages, or 12 sessions with 345 messages (orphan events counted as messages)."""
    messages = count_messages(sum(item.event_count for item in deleted))
    sessions = [item for item in deleted if not item.is_orphans]
    if len(deleted) == 1 and sessions:
        return f"“{one_line(sessions[0].title, 60)}” with {messages}"
    orphans = len(deleted) - len(sessions)
    extra = f" (and the events of {_sessions(orphans)} already gone)" if orphans and sessions else ""
    if not sessions:
        return f"{messages} of {_sessions(orphans)} already gone"
    return f"{_sessions(len(sessions))}{extra} with {messages}"
