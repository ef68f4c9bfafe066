"""Showing text in the user's pager (``$PAGER``, else ``less -R``), the app suspended meanwhile.

The text goes to a file only its owner can read (mode 0600, in a private
temporary folder), which is removed once the pager exits.  The caller passes
text with terminal control sequences already removed (a block's ``copy_text``,
the Markdown export): ``less -R`` would act on them.  :func:`run_pager` is the
one place the app hands the terminal over; the tests give the app a
``suspend`` that needs no terminal and ``PAGER`` a script.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from textual.app import App, SuspendNotSupported

#: The pager when ``PAGER`` is unset or empty.
DEFAULT_PAGER = ("less", "-R")


def pager_command(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """``$PAGER`` split as a shell would (``ValueError`` when it cannot be), ``less -R`` when unset or blank."""
    return shlex.split(environ.get("PAGER", "")) or list(DEFAULT_PAGER)


@contextmanager
def private_file(text: str, name: str) -> Iterator[Path]:
    """``text`` in a file readable by its owner only, in a folder of its own; both removed afterwards."""
    folder = tempfile.mkdtemp(prefix="dasshh-history-")  # mode 0700
    try:
        path = Path(folder) / name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _interrupt_left_to_the_pager() -> Iterator[None]:
    """Ctrl+C in the pager is sent to this process too (they share the terminal): dropped here, not ending the app.

    A handler rather than ``SIG_IGN``, which the pager would inherit: it starts with the default.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_pager(app: App, text: str, name: str = "dasshh-history.txt") -> str | None:
    """Show ``text`` in the pager with ``app`` suspended; None once shown, else why not (one line, for a toast).

    ``name`` is the file's name (shown by the pager).  A pager that is not
    found, cannot run or exits with an error, and a terminal the app cannot
    hand over (a test's, a web browser's), are said, never raised.
    """
    try:
        command = pager_command()
    except ValueError as exc:
        return f"Cannot open the pager: PAGER is not a command line ({exc})"
    shown = " ".join(command)
    try:
        with private_file(text, name) as path:
            with app.suspend(), _interrupt_left_to_the_pager():
                done = subprocess.run([*command, str(path)], check=False)
    except SuspendNotSupported:
        return "Cannot open the pager: this terminal cannot be handed over to another program"
    except FileNotFoundError:
        return f"Cannot open the pager: {command[0]} not found (set PAGER to the pager to use)"
    except OSError as exc:
        return f"Cannot open the pager ({shown}): {exc.strerror or exc}"
    if done.returncode != 0:
        return f"The pager ({shown}) exited with status {done.returncode}"
    return None
