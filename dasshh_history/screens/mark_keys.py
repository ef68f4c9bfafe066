"""The browser's marks: ``space`` and ``*`` mark sessions, Escape clears them, ``d`` and ``e`` act on them all.

The marks are the session list's (by id, so they survive a live refresh and
another order); here are the keys that need the screen: ``*`` (every
session of the list, a search's results included, even the rows not read
yet), the bulk delete and export, and dropping the marks of sessions that
were deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import work

from dasshh_history.domain.text import to_local
from dasshh_history.domain.values import SessionSummary
from dasshh_history.screens.confirm_delete import ConfirmDeleteManyScreen
from dasshh_history.screens.export_dialog import ExportFolderScreen
from dasshh_history.services.actions import Outcome
from dasshh_history.services.marking import (
    every_session_id,
    existing_ids,
    marked_summaries,
)
from dasshh_history.widgets.session_list import SessionList

#: Marks from which ``d`` says that it reads them first (about a second for 20,000: their message counts).
SAY_READING_FROM = 10_000


class MarkKeys:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: Escape, ``*``, and ``d``, ``e`` with marks."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":
            # Marks first; but with only the timeline shown (a narrow terminal), Escape goes back to the list.
            return self.session_list.mark_count > 0 and not self.has_class("-timeline-pane", "-one-pane")
        return super().check_action(action, parameters)  # type: ignore[misc]

    def action_clear_marks(self) -> None:
        count = self.session_list.mark_count
        self.session_list.clear_marks()
        self.say(f"Marks cleared ({count:,}).", timeout=2)

    def on_session_list_marks_changed(self, message: SessionList.MarksChanged) -> None:
        self.refresh_bindings()  # Escape's "Clear marks" shows while there are marks

    def on_session_list_mark_all_requested(self, message: SessionList.MarkAllRequested) -> None:
        if self.listed_ids is not None:
            self._mark_all_done(list(self.listed_ids))
        else:
            self._read_every_id()

    @work(thread=True, exclusive=True, group="marks", name="mark_all", description="Could not mark the sessions",
          exit_on_error=False)
    def _read_every_id(self) -> list[str]:
        return every_session_id(self.reader)

    def _mark_all_done(self, ids: list[str]) -> None:
        sessions = self.session_list
        sessions.mark(ids)
        self.prune_marks()  # a search's results may hold sessions deleted since it ran
        self.say(f"Marked {len(ids):,} session{'' if len(ids) == 1 else 's'}"
                 f" · {sessions.mark_count:,} marked · escape clears", timeout=3)

    # -- a mark never outlives its session ------------------------------------------------

    def prune_marks(self) -> None:
        """After the list was read again: drop the marks of sessions that are gone (a worker; nothing without marks)."""
        if self.session_list.mark_count:
            self._prune_marks(self.session_list.marked_ids)

    @work(thread=True, exclusive=True, group="marks-prune", name="prune_marks",
          description="Could not read sessions", exit_on_error=False)
    def _prune_marks(self, ids: list[str]) -> list[str]:
        present = existing_ids(self.reader, ids)
        return [session_id for session_id in ids if session_id not in present]

    def _prune_marks_done(self, gone: list[str]) -> None:
        if gone:
            self.session_list.unmark(gone)

    # -- d and e with marks -------------------------------------------------------------

    def action_delete(self) -> None:
        if not self.session_list.mark_count:
            super().action_delete()  # type: ignore[misc]
            return
        count = self.session_list.mark_count
        if count >= SAY_READING_FROM:
            self.say(f"Reading the {count:,} marked sessions…", timeout=3)
        self._read_marked(self.session_list.marked_ids)

    @work(thread=True, exclusive=True, group="marks", name="read_marked", description="Could not read sessions",
          exit_on_error=False)
    def _read_marked(self, ids: list[str]) -> list[SessionSummary]:
        return marked_summaries(self.reader, ids)

    def _read_marked_done(self, summaries: list[SessionSummary]) -> None:
        if not summaries:
            self.session_list.clear_marks()
            self.say("The marked sessions no longer exist.", severity="warning")
            return
        gone = set(self.session_list.marked_ids) - {s.id for s in summaries}
        if gone:
            self.session_list.unmark(gone)
        index = self.session_list.highlighted or 0
        messages = sum(summary.event_count for summary in summaries)
        self.app.push_screen(
            ConfirmDeleteManyScreen(len(summaries), messages),
            lambda yes: bool(yes) and self._act("Delete failed", self.actions.delete_many, summaries, index),
        )

    def action_export(self) -> None:
        if not self.session_list.mark_count:
            super().action_export()  # type: ignore[misc]
            return
        ids = self.session_list.marked_ids
        name = self._free_here(f"dasshh-export-{to_local(self.clock(), self.tz):%Y-%m-%d}")
        if name is None:
            return
        count = len(ids)
        subject = f"The {count:,} marked session{'' if count == 1 else 's'}"

        def export(folder: Path, progress: Callable[[int, int], object], stopped: Callable[[], bool]) -> Outcome:
            return self.actions.export_sessions(ids, folder, progress=progress, cancelled=stopped)

        self.app.push_screen(ExportFolderScreen(subject, count, name, export), self._exported)
