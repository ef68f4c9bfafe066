"""What the timeline shows instead of a session: no history yet, no search match."""

from __future__ import annotations

from pathlib import Path

from rich.align import Align
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from dasshh_history.data.client import DEFAULT_DB_PATH
from dasshh_history.domain.text import one_line


def empty_state(path: Path | None = None) -> RenderableType:
    """There is no session at all (``path``: where the history is read, named when not dasshh's default)."""
    where = "~/.dasshh/db/dasshh.db" if path is None or path == DEFAULT_DB_PATH else str(path)
    text = Text.assemble(
        ("No history yet.", "bold"),
        "\n\ndasshh saves every conversation you have with it to\n",
        (where, "bold"),
        ";\nthey will be listed here.\n\nTo look around with sample data, run:\n",
        ("dasshh-history --demo", "bold"),
    )
    return Padding(Group(*(Align.center(line) if line.plain else Text() for line in text.split("\n"))), (4, 2, 0, 2))


def no_match(text: str) -> RenderableType:
    """No session matches the search ``text``."""
    message = Text.assemble("No session matches ", (f"“{one_line(text, 80)}”", "bold"), ".\n\nEsc clears the search.")
    return Padding(Align.center(message), (4, 2, 0, 2))


def no_events() -> RenderableType:
    return Text("This session has no events yet.", justify="center")
