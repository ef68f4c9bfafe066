"""Modals to confirm deleting a session, or every marked session at once."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from dasshh_history.domain.text import count_messages


class ConfirmDeleteScreen(ModalScreen[bool]):
    """Names the session and what goes with it; dismisses with ``True`` to delete."""

    BINDINGS = [
        Binding("y", "confirm", "Delete"),
        Binding("n,escape", "cancel", "Keep"),
    ]

    def __init__(self, title: str, event_count: int) -> None:
        super().__init__()
        self._title = title
        self._count = event_count

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog danger"):
            yield from self.body()
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete", variant="error", id="delete")
                yield Button("Keep", id="keep")
            yield Label(self.hint(), classes="dialog-hint")

    def body(self) -> ComposeResult:
        yield Label("Delete session?", classes="dialog-title")
        yield Static(Text(self._title), id="delete-title", classes="dialog-session")
        yield Label(f"This deletes the session and its {count_messages(self._count)}.", id="delete-count")
        yield Label("In the trash: u brings it back, even after a restart.", id="delete-undo")

    def hint(self) -> str:
        return "y deletes · n or escape keeps it"

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "delete")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ConfirmDeleteManyScreen(ConfirmDeleteScreen):
    """``d`` with marks: one question for every marked session, naming how many sessions and messages go."""

    def __init__(self, session_count: int, event_count: int) -> None:
        super().__init__("", event_count)
        self._sessions = session_count

    def body(self) -> ComposeResult:
        sessions = f"{self._sessions:,} session{'' if self._sessions == 1 else 's'}"
        yield Label(f"Delete {sessions}?", classes="dialog-title")
        yield Static(Text(f"{sessions} · {count_messages(self._count)}"), id="delete-title", classes="dialog-session")
        yield Label("This deletes every marked session and its messages.", id="delete-count")
        yield Label("In the trash: u brings all back, even after a restart.", id="delete-undo")

    def hint(self) -> str:
        return "y deletes them all · n or escape keeps them"
