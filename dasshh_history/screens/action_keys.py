"""The browser's keys that change or hand out sessions: rename, delete, undo, export (one, or every listed one), copy."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from dasshh_history.domain.text import one_line, to_local
from dasshh_history.domain.values import SessionSummary
from dasshh_history.screens.confirm_delete import ConfirmDeleteScreen
from dasshh_history.screens.export_dialog import ExportFileScreen, ExportFolderScreen
from dasshh_history.screens.recently_deleted import RecentlyDeletedScreen
from dasshh_history.screens.rename import RenameScreen
from dasshh_history.services.actions import Outcome
from dasshh_history.services.exporting import free_name


class ActionKeys:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: each action runs in a worker, its outcome is shown."""

    def _current_or_warn(self, what: str) -> SessionSummary | None:
        """The highlighted session, or None after saying there is none to ``what``."""
        summary = self.session_list.current
        if summary is None:
            self.say(f"No session to {what}.", severity="warning")
        return summary

    def action_rename(self) -> None:
        summary = self._current_or_warn("rename")
        if summary is not None:
            self.app.push_screen(
                RenameScreen(one_line(summary.detail) if summary.detail else ""),
                lambda title: title is not None and self._act("Rename failed", self.actions.rename, summary, title),
            )

    def action_delete(self) -> None:
        summary = self._current_or_warn("delete")
        if summary is not None:
            index = self.session_list.highlighted or 0
            self.app.push_screen(
                ConfirmDeleteScreen(one_line(summary.detail, 300), summary.event_count),
                lambda yes: bool(yes) and self._act("Delete failed", self.actions.delete, summary, index),
            )

    def action_undo(self) -> None:
        if not self.actions.can_undo:
            self.say(self.actions.nothing_to_undo, severity="warning")
        else:
            self._act("Undo failed", self.actions.undo)

    def action_recently_deleted(self) -> None:
        """The trash: every deleted session, newest first; each can be restored."""
        self.app.push_screen(RecentlyDeletedScreen(self.actions, clock=self.clock, tz=self.tz,
                                                   restored=self._trash_restored))

    def _trash_restored(self, outcome: Outcome) -> None:
        if outcome.reload:
            self.load_sessions(highlight_id=outcome.highlight_id, keep_index=outcome.keep_index or 0)

    def action_export(self) -> None:
        """Ask where to write the highlighted session, offering the name ``e`` always chose, here."""
        summary = self._current_or_warn("export")
        name = self._free_here(self.actions.export_name(summary)) if summary is not None else None
        if summary is not None and name is not None:
            write = partial(self._export_file, summary)
            self.app.push_screen(ExportFileScreen(one_line(summary.detail, 300), name, write), self._exported)

    def _export_file(self, summary: SessionSummary, path: Path, overwrite: bool) -> Outcome:
        return self.actions.export_file(summary, path, overwrite=overwrite)

    def action_export_all(self) -> None:
        """Ask for a folder to write every listed session to (a search's results while searching)."""
        total = self.session_list.total
        if not total:
            self.say("No sessions to export.", severity="warning")
            return
        name = self._free_here(f"dasshh-export-{to_local(self.clock(), self.tz):%Y-%m-%d}")
        if name is None:
            return
        ids = self.listed_ids
        query = self.listed_query.text.strip()
        subject = "Every session" if ids is None else f"The sessions matching “{one_line(query, 120)}”"

        def export(folder: Path, progress: Callable[[int, int], object], stopped: Callable[[], bool]) -> Outcome:
            return self.actions.export_sessions(ids, folder, progress=progress, cancelled=stopped)

        self.app.push_screen(ExportFolderScreen(subject, total, name, export), self._exported)

    def _free_here(self, name: str) -> str | None:
        """``name``, numbered when taken in the current directory; None after saying why there is none."""
        try:
            return free_name(Path.cwd(), name)
        except OSError as exc:
            self.say(f"Cannot export here: {exc.strerror or exc}", severity="error")
            return None

    def _exported(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self.say(outcome.message, severity=outcome.severity)

    def action_copy(self) -> None:
        summary = self._current_or_warn("copy")
        if summary is not None:
            self._act("Copy failed", self.actions.copy, summary)

    def _act(self, failed: str, action: Callable[..., Outcome], *args: object) -> bool:
        """Run an action in a worker (writes one at a time); its outcome comes to :meth:`_act_done`."""
        self.run_worker(lambda: action(*args), name="act", group="write", description=failed, thread=True,
                        exit_on_error=False)
        return True

    def _act_done(self, outcome: Outcome) -> None:
        if outcome.clipboard is not None:
            self.app.copy_to_clipboard(outcome.clipboard)
        self.say(outcome.message, severity=outcome.severity)
        if outcome.reload:
            keep = (self.session_list.highlighted or 0) if outcome.keep_index is None else outcome.keep_index
            self.load_sessions(highlight_id=outcome.highlight_id, keep_index=keep, keep_scroll=outcome.keep_scroll)
