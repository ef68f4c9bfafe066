"""What the keys that change or hand out sessions do: rename, delete, undo, export, copy -- each an outcome to show.

No Textual here: the browser screen runs these in its workers and shows the
:class:`Outcome`.  The database's errors (and a restore that cannot be done, a
file that cannot be written) are raised; the screen reports them.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from dasshh_history.data import trash
from dasshh_history.data.client import DBClient
from dasshh_history.data.rename import rename_session
from dasshh_history.data.session import SessionNotFoundError, SessionService
from dasshh_history.data.trash import DeletedSession
from dasshh_history.domain.export import export_filename
from dasshh_history.domain.text import count_messages, one_line
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services import exporting
from dasshh_history.services.index_keeper import IndexKeeper

GONE = "That session no longer exists."
NEVER_DELETED = "Nothing to undo: no session was deleted in this run."
ALL_RESTORED = "Nothing left to undo: every session deleted in this run is back."


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
    """Rename, delete, undo, export and copy; remembers this run's deletes for undo (from any thread)."""

    def __init__(self, client: DBClient, *, tz: tzinfo | None = None, index: IndexKeeper | None = None) -> None:
        self.client = client
        self.tz = tz
        self.index = index  # told of renames, which the search index cannot see by itself
        self._deleted: list[DeletedSession] = []  # the last one last: u undoes it
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
        """Delete a session, keeping what it held for undo; the highlight stays at ``index``."""
        deleted = trash.delete_session(self.client, session_id=summary.id)
        if deleted is None:
            return Outcome(GONE, "warning", reload=True, keep_index=index)
        with self._lock:
            self._deleted.append(deleted)
        return Outcome(f"Deleted “{one_line(summary.detail, 60)}” · press u to undo", reload=True, keep_index=index)

    @property
    def can_undo(self) -> bool:
        return bool(self._deleted)

    @property
    def nothing_to_undo(self) -> str:
        """Why ``u`` has nothing to do: nothing was deleted in this run, or every delete was undone."""
        return ALL_RESTORED if self._restored else NEVER_DELETED

    def undo(self) -> Outcome:
        """Write the last deleted session back, exactly as it was stored, and highlight it."""
        with self._lock:
            if not self._deleted:
                return Outcome(self.nothing_to_undo, "warning")
            deleted = self._deleted[-1]
        trash.restore(self.client, deleted)
        with self._lock:
            if self._deleted and self._deleted[-1] is deleted:
                self._deleted.pop()
            self._restored = True
        return Outcome(
            f"Restored “{one_line(deleted.title, 60)}” with {count_messages(deleted.event_count)}",
            reload=True,
            highlight_id=deleted.session_id,
            keep_index=0,
        )

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


# temporary: replaced by the trash branch ---------------------------------------------------------------------
# ``delete_many`` deletes each session through the single delete (one transaction each); ``u`` then restores
# the whole batch.  The trash branch's version (one transaction, written to the trash first) replaces this block.


@dataclass(frozen=True)
class _DeletedBatch:
    sessions: tuple[DeletedSession, ...]


def _delete_many(self: Actions, summaries: Sequence[SessionSummary], index: int) -> Outcome:
    """Delete every session of ``summaries`` (gone ones skipped); ``u`` brings them all back."""
    deleted: list[DeletedSession] = []
    try:
        for summary in summaries:
            one = trash.delete_session(self.client, session_id=summary.id)
            if one is not None:
                deleted.append(one)
    finally:
        if deleted:
            with self._lock:
                self._deleted.append(_DeletedBatch(tuple(deleted)))  # type: ignore[arg-type]
    if not deleted:
        return Outcome("The marked sessions no longer exist.", "warning", reload=True, keep_index=index)
    messages = sum(one.event_count for one in deleted)
    return Outcome(f"Deleted {_sessions(len(deleted))} and {count_messages(messages)} · press u to undo",
                   reload=True, keep_index=index)


_undo_one = Actions.undo


def _undo(self: Actions) -> Outcome:
    with self._lock:
        last = self._deleted[-1] if self._deleted else None
    if not isinstance(last, _DeletedBatch):
        return _undo_one(self)
    for one in reversed(last.sessions):
        trash.restore(self.client, one)
    with self._lock:
        if self._deleted and self._deleted[-1] is last:
            self._deleted.pop()
        self._restored = True
    messages = sum(one.event_count for one in last.sessions)
    return Outcome(f"Restored {_sessions(len(last.sessions))} with {count_messages(messages)}", reload=True,
                   highlight_id=last.sessions[0].session_id, keep_index=0)


Actions.delete_many = _delete_many  # type: ignore[attr-defined]
Actions.undo = _undo  # type: ignore[method-assign]
