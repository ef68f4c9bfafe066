"""Recently deleted: the trash of this history, newest delete first; Enter restores the highlighted session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from dasshh_history.data.trash_store import TrashedSession
from dasshh_history.domain.text import (
    count_messages,
    format_timestamp,
    format_when,
    one_line,
)
from dasshh_history.services.actions import Actions, Outcome


class RecentlyDeletedScreen(ModalScreen[None]):
    """Lists the trashed sessions (title, when deleted, messages, last activity: local times) and restores them."""

    BINDINGS = [
        Binding("r", "restore", "Restore", tooltip="Put the highlighted session back, exactly as it was (or enter)"),
        Binding("escape,q,D", "close", "Close"),
    ]

    def __init__(
        self,
        actions: Actions,
        *,
        clock: Callable[[], datetime],
        tz: tzinfo | None,
        restored: Callable[[Outcome], object] = lambda outcome: None,
    ) -> None:
        super().__init__()
        self.actions = actions
        self.clock = clock
        self.tz = tz
        self._restored = restored
        self.entries: list[TrashedSession] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="trash-dialog", classes="dialog"):
            yield Label("Recently deleted", classes="dialog-title")
            yield DataTable(id="trash-table", cursor_type="row", zebra_stripes=False)
            yield Label("", id="trash-status")
            yield Label("enter restores the highlighted session · escape closes", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Deleted", "Title", "Messages", "Last active")
        self.reload()

    @work(thread=True, exclusive=True, group="trash-read", exit_on_error=False)
    def reload(self) -> None:
        try:
            entries = self.actions.trashed()
        except Exception as exc:  # noqa: BLE001 -- an unreadable trash is said, not a crash
            self.app.call_from_thread(self._show_error, f"Cannot read the trash: {exc}")
            return
        self.app.call_from_thread(self._show, entries)

    def _show_error(self, message: str) -> None:
        self.query_one("#trash-status", Label).update(Text(message))
        self.loaded = True

    def _show(self, entries: list[TrashedSession]) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        self.entries = entries
        now = self.clock()
        for entry in entries:
            title = "(events of a session already gone)" if entry.orphans else one_line(entry.title, 60) or "(untitled)"
            if entry.exists_again:
                title += " · in the history again"
            table.add_row(
                Text(format_timestamp(entry.deleted_at, self.tz)),
                Text(title),
                Text(f"{entry.event_count:,}", justify="right"),
                Text(format_when(entry.updated_at, now=now, tz=self.tz)),
            )
        if entries:
            table.move_cursor(row=min(keep, len(entries) - 1))
        messages = sum(entry.event_count for entry in entries)
        status = (f"{len(entries):,} session{'' if len(entries) == 1 else 's'} with {count_messages(messages)}"
                  f" · the trash keeps them {self.actions.trash_days} days"
                  if entries else "The trash is empty.")
        self.query_one("#trash-status", Label).update(Text(status))
        self.loaded = True

    @property
    def current(self) -> TrashedSession | None:
        row = self.query_one(DataTable).cursor_row
        return self.entries[row] if self.entries and 0 <= row < len(self.entries) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row (the table's own key)."""
        event.stop()
        self.action_restore()

    def action_restore(self) -> None:
        entry = self.current
        if entry is None:
            self.app.notify("Nothing to restore.", severity="warning", markup=False)
            return
        self._restore(entry)

    @work(thread=True, exclusive=True, group="trash-write", exit_on_error=False)
    def _restore(self, entry: TrashedSession) -> None:
        try:
            outcome = self.actions.restore_trashed(entry)
        except Exception as exc:  # noqa: BLE001 -- a failed write (locked, read-only) is said, nothing changed
            outcome = Outcome(f"Restore failed: {exc}", "error")
        self.app.call_from_thread(self._done, outcome)

    def _done(self, outcome: Outcome) -> None:
        self.app.notify(outcome.message, severity=outcome.severity, markup=False)  # type: ignore[arg-type]
        if outcome.severity != "error":
            self._restored(outcome)
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
