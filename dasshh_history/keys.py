"""The key reference shown by the help screen, built from the bindings themselves."""

from __future__ import annotations

from textual.binding import Binding

from dasshh_history.screens.help import HelpSection

KEY_NAMES = {
    "down": "↓",
    "up": "↑",
    "question_mark": "?",
    "slash": "/",
    "escape": "esc",
    "delete": "del",
    "pagedown": "pgdn",
    "pageup": "pgup",
    "shift+tab": "shift+tab",
    "ctrl+p": "ctrl+p",
}


def key_label(keys: str) -> str:
    return " ".join(KEY_NAMES.get(key, key) for key in keys.split(","))


def binding_rows(bindings: list) -> list[tuple[str, str]]:
    return [(key_label(b.key), b.description) for b in bindings if isinstance(b, Binding) and b.description]


def help_sections() -> list[HelpSection]:
    from dasshh_history.app import HistoryApp
    from dasshh_history.widgets.session_list import SessionList
    from dasshh_history.widgets.timeline import Timeline

    return [
        ("Anywhere", [*binding_rows(HistoryApp.BINDINGS), ("ctrl+p", "Command palette")]),
        ("Session list", binding_rows(SessionList.BINDINGS)),
        ("Timeline", binding_rows(Timeline.BINDINGS)),
    ]
