"""``R``: make a session the one dasshh opens at its next start, and say whether dasshh can be started here.

No Textual here: the browser runs :func:`resume` in a worker; when
:attr:`ResumeOutcome.launch` is set the app exits and the command line
starts ``dasshh`` in the same terminal (see ``cli.run_app``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from dasshh_history.data import client as client_module
from dasshh_history.data.client import DBClient
from dasshh_history.data.resume import make_recent
from dasshh_history.domain.text import format_timestamp, one_line
from dasshh_history.domain.values import SessionSummary

#: What is run to continue the session.
DASSHH = "dasshh"


@dataclass(frozen=True)
class ResumeOutcome:
    """What ``R`` did: a message, and the dasshh to start (its path) now, if any."""

    message: str
    launch: str | None = None


def dasshh_reads(history: Path | None) -> bool:
    """Whether ``history`` is the file dasshh opens (its default; it has no option for another)."""
    if history is None:
        return False
    try:
        return history.expanduser().resolve() == client_module.DEFAULT_DB_PATH.resolve()
    except OSError:
        return False


def resume(
    client: DBClient,
    summary: SessionSummary,
    *,
    history: Path | None,
    tz: tzinfo | None,
    now: datetime | None = None,
    which: str | None = None,
) -> ResumeOutcome:
    """Set the session's last update so that dasshh opens it; raises what :func:`make_recent` raises.

    ``which`` is where ``dasshh`` is (default: looked up on ``PATH``).  It is
    started only when ``history`` is the file dasshh reads.
    """
    resumed = make_recent(client, session_id=summary.id, now=now)
    title = f"“{one_line(summary.detail, 60)}”"
    if resumed.changed:
        done = (f"{title} is now the session dasshh opens: its last update was set to"
                f" {format_timestamp(_as_datetime(resumed.after), tz)} (R is the only action that changes it).")
    else:
        done = f"{title} already is the session dasshh opens; nothing was changed."
    if not dasshh_reads(history):
        return ResumeOutcome(f"{done} dasshh reads {client_module.DEFAULT_DB_PATH}, not this file.")
    found = which if which is not None else shutil.which(DASSHH)
    if found is None:
        return ResumeOutcome(f"{done} Run dasshh to continue it (it is not on PATH here).")
    return ResumeOutcome(done, launch=found)


def _as_datetime(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def run_dasshh(path: str) -> tuple[int, str | None]:
    """Run dasshh in this terminal and wait for it: its exit status, or (1, why it could not start).

    Run as a child rather than exec'd, so that the app's files are closed
    (and a demo's temporary folder removed) when it returns.
    """
    try:
        return subprocess.run([path], check=False).returncode, None
    except OSError as exc:
        return 1, f"cannot start {path}: {exc.strerror or exc}"
