"""Modals that ask where an export goes: one session to a file (``e``), the listed sessions to a folder (``E``).

Each holds a path to edit (relative paths are in the current directory) and a
note under it saying where Enter writes, what went wrong, or how far the
export is.  Writing runs in a worker of the dialog; it dismisses with the
:class:`~dasshh_history.services.actions.Outcome` to show, or None when
cancelled.  An existing file is never replaced without a second Enter.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from dasshh_history.errors import REPORTED_ERRORS, describe_error
from dasshh_history.services.actions import Outcome
from dasshh_history.services.exporting import free_name

#: Seconds between two progress updates of the folder export.
PROGRESS_EVERY = 0.1


def shown_path(path: Path) -> str:
    """A path as the dialog shows it: under the home folder as ``~/...``."""
    try:
        return "~" + os.sep + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def oserror_line(error: OSError, path: Path) -> str:
    """An error writing ``path`` on one line: what, and where (a missing folder named as such)."""
    if isinstance(error, FileNotFoundError) and not path.parent.is_dir():
        return f"No such folder: {shown_path(path.parent)}"
    return f"{error.strerror or error}: {shown_path(path)}"


class ExportDialog(ModalScreen[Outcome | None]):
    """What both dialogs share: the path, the note, the worker that writes; escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, heading: str, subject: str, value: str, hint: str) -> None:
        super().__init__()
        self._heading = heading
        self._subject = subject
        self._value = value
        self._hint = hint
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label(self._heading, id="export-heading", classes="dialog-title")
            yield Static(Text(self._subject), id="export-subject", classes="dialog-session")
            yield Input(value=self._value, id="export-path", select_on_focus=False)
            yield Static("", id="export-note")
            yield Label(self._hint, id="export-hint", classes="dialog-hint")

    @property
    def path_input(self) -> Input:
        return self.query_one("#export-path", Input)

    @property
    def note(self) -> str:
        """What the note under the path says now."""
        return str(self.query_one("#export-note", Static).render())

    def say(self, text: str, kind: str = "") -> None:
        """Show ``text`` under the path (literally), as ``-error``, ``-ask`` or plain."""
        note = self.query_one("#export-note", Static)
        note.update(Content(text))
        note.set_classes(kind)

    def target(self) -> Path | None:
        """The path typed, absolute (``~`` expanded); None when blank."""
        value = self.path_input.value.strip()
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path.cwd() / path

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if not self._busy:
            self.changed()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._busy:
            return
        try:
            self.submit()
        except OSError as exc:  # the current directory is gone, say
            self.say(f"Cannot write there: {exc.strerror or exc}", "-error")

    def changed(self) -> None:
        """The path was edited: say where Enter writes."""

    def submit(self) -> None:
        raise NotImplementedError

    def start(self, work: Callable[[], Outcome]) -> None:
        """Write in a worker; its outcome dismisses the dialog, its error is said here."""
        self._busy = True
        self.run_worker(work, name="export", group="export", thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        event.stop()
        if event.state == WorkerState.SUCCESS:
            self.dismiss(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self._busy = False
            self.failed(event.worker.error)

    def failed(self, error: BaseException | None) -> None:
        """Say why the export failed, naming the path written (a bug is raised)."""
        if not isinstance(error, REPORTED_ERRORS):
            raise error  # type: ignore[misc]
        where = self.where()
        if isinstance(error, OSError) and where is not None:
            self.say(oserror_line(error, where), "-error")
        else:
            self.say(f"Could not export: {describe_error(error)}", "-error")

    def where(self) -> Path | None:
        """The path an error is about."""
        return self.target()

    def action_cancel(self) -> None:
        if self._busy:
            self.stop()
        else:
            self.dismiss(None)

    def stop(self) -> None:
        """Escape while writing: one file is finished (it takes a moment); a folder's export stops."""


class ExportFileScreen(ExportDialog):
    """``e``: one session as Markdown to the file typed; an existing file is replaced only after a second Enter."""

    def __init__(self, title: str, name: str, write: Callable[[Path, bool], Outcome]) -> None:
        """``name`` is offered (in the current directory) and used inside a folder typed; ``write(path, overwrite)``."""
        super().__init__("Export session as Markdown", title, name, "enter writes · escape cancels")
        self._name = name
        self._write = write
        self._confirmed: Path | None = None  # the existing file a second Enter replaces

    def file(self) -> Path | None:
        """Where Enter writes: the path typed, or the offered name inside the folder typed."""
        target = self.target()
        if target is not None and target.is_dir():
            return target / free_name(target, self._name)
        return target

    def changed(self) -> None:
        self._confirmed = None
        try:
            file = self.file()
        except OSError:
            file = None
        self.say(f"Writes {shown_path(file)}" if file is not None else "Type the file to write.")

    def submit(self) -> None:
        file = self.file()
        if file is None:
            self.say("Type the file to write.", "-error")
            return
        overwrite = file == self._confirmed
        if not overwrite and os.path.lexists(file):
            self.ask(file)
            return
        self.start(lambda: self._write(file, overwrite))

    def ask(self, file: Path) -> None:
        self._confirmed = file
        self.say(f"{shown_path(file)} exists. Enter again replaces it; edit the path to keep it.", "-ask")

    def where(self) -> Path | None:
        return self.file()

    def failed(self, error: BaseException | None) -> None:
        file = self.file()
        if isinstance(error, FileExistsError) and file is not None:
            self.ask(file)  # written meanwhile, by someone else
        else:
            super().failed(error)


#: ``export(folder, progress, stopped)``: every listed session into ``folder``.
ExportAll = Callable[[Path, Callable[[int, int], object], Callable[[], bool]], Outcome]


class ExportFolderScreen(ExportDialog):
    """``E``: every listed session as Markdown, a new file each, into the folder typed (made if missing), with progress."""

    HINT = "enter exports · escape cancels"

    def __init__(self, subject: str, count: int, name: str, export: ExportAll) -> None:
        heading = f"Export {count:,} session{'' if count == 1 else 's'} as Markdown"
        super().__init__(heading, subject, name, self.HINT)
        self._count = count
        self._export = export
        self._stop = threading.Event()
        self._shown_at = 0.0

    def changed(self) -> None:
        try:
            folder = self.target()
        except OSError:
            folder = None
        if folder is None:
            self.say("Type the folder to write to.")
        elif folder.is_dir():
            self.say(f"Into {shown_path(folder)}, which exists: files already there are kept, new ones numbered.")
        else:
            self.say(f"Into a new folder, {shown_path(folder)}")

    def submit(self) -> None:
        folder = self.target()
        if folder is None:
            self.say("Type the folder to write to.", "-error")
            return
        if os.path.lexists(folder) and not folder.is_dir():
            self.say(f"{shown_path(folder)} is a file, not a folder.", "-error")
            return
        self.say(f"Exporting… 0/{self._count:,}")
        self.query_one("#export-hint", Label).update("escape stops")
        self.start(lambda: self._export(folder, self._progress, self._stop.is_set))

    def _progress(self, done: int, total: int) -> None:
        """From the worker: say how far it is (at most every :data:`PROGRESS_EVERY` seconds, and the end)."""
        now = time.monotonic()
        if done < total and now - self._shown_at < PROGRESS_EVERY:
            return
        self._shown_at = now
        app = self.app
        try:
            app.call_from_thread(self._show_progress, done, total)
        except RuntimeError:
            pass  # the app is closing

    def _show_progress(self, done: int, total: int) -> None:
        if not self._stop.is_set():
            self.say(f"Exporting… {done:,}/{total:,}")

    def failed(self, error: BaseException | None) -> None:
        self.query_one("#export-hint", Label).update(self.HINT)
        super().failed(error)

    def stop(self) -> None:
        self._stop.set()
        self.say("Stopping…")
