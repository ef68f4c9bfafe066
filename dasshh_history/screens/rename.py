"""Modal to rename a session."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class RenameScreen(ModalScreen[str | None]):
    """Asks for a new title; dismisses with it, or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current_title: str) -> None:
        super().__init__()
        self._current = current_title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Rename session", classes="dialog-title")
            yield Input(value=self._current, placeholder="New title", id="title-input", select_on_focus=True)
            yield Label("", id="rename-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")
            yield Label("enter saves · escape cancels", classes="dialog-hint")

    def _submit(self) -> None:
        title = self.query_one(Input).value
        if not title.strip():
            self.query_one("#rename-error", Label).update("A title cannot be empty.")
            self.query_one(Input).focus()
            return
        # An unchanged title writes nothing (and does not bump the session's updated_at).
        self.dismiss(None if title.strip() == self._current.strip() else title.strip())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
