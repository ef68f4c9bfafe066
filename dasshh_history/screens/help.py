"""Help screen: every key, grouped by where it works, read from the bindings themselves; and the search syntax."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from dasshh_history.widgets.session_list import SessionList
from dasshh_history.widgets.timeline import Timeline

#: (section, [(keys, description)])
HelpSection = tuple[str, list[tuple[str, str]]]

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
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "space": "space",
    "asterisk": "*",
}


def key_label(keys: str) -> str:
    return " ".join(KEY_NAMES.get(key, key) for key in keys.split(","))


def binding_rows(bindings: Iterable[object]) -> list[tuple[str, str]]:
    """Each binding's keys and what it does: its tooltip when it has one (the footer has its short description)."""
    return [(key_label(b.key), b.tooltip or b.description) for b in bindings if isinstance(b, Binding) and b.description]


#: What can be typed in the search box (README's "Search and live refresh" says more).
SEARCH_SYNTAX: HelpSection = (
    "Search syntax",
    [
        ('words "a phrase"', "in any message or the title, all of them; the last typed is a prefix"),
        ("tool:NAME", "sessions that call the tool NAME (tool:run_shell_command)"),
        ("is:failed", "sessions with a failed tool result"),
        ("after:DATE", "last active on or after DATE: a local day (2026-03-14), or 7d 2w 3m 1y ago"),
        ("before:DATE", "last active before DATE"),
        ("in:title", "the words in the title only"),
    ],
)


def help_sections(anywhere: Iterable[object], timeline: Iterable[object] = ()) -> list[HelpSection]:
    """The keys of the app (``anywhere``: its bindings), then those of the session list and the timeline
    (the timeline's own, then ``timeline``: the app's that act on it), then the search syntax."""
    return [
        ("Anywhere", [*binding_rows(anywhere), ("ctrl+p", "Command palette")]),
        ("Session list", binding_rows(SessionList.BINDINGS)),
        ("Timeline", binding_rows([*Timeline.BINDINGS, *timeline])),
        SEARCH_SYNTAX,
    ]


def keys_table(sections: Iterable[HelpSection]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column()
    for title, rows in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for keys, description in rows:
            table.add_row(Text(keys), Text(description))
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys, scrolled with the keys that move in the list and the timeline; escape, q or ? closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close"),
        Binding("down,j", "scroll('down')", "Scroll down", show=False),
        Binding("up,k", "scroll('up')", "Scroll up", show=False),
        Binding("home,g", "scroll('home')", "Top", show=False),
        Binding("end,G", "scroll('end')", "Bottom", show=False),
        Binding("pagedown,space", "scroll('page_down')", "Page down", show=False),
        Binding("pageup,b", "scroll('page_up')", "Page up", show=False),
    ]

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Label("dasshh-history · keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(keys_table(self.sections), id="help-keys")
            yield Label("escape closes", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, how: str) -> None:
        """Scroll the keys (the arrows, Home, End and the pages also work when the keys' pane has focus)."""
        keys = self.query_one(VerticalScroll)
        {
            "down": keys.scroll_down,
            "up": keys.scroll_up,
            "home": keys.scroll_home,
            "end": keys.scroll_end,
            "page_down": keys.scroll_page_down,
            "page_up": keys.scroll_page_up,
        }[how]()
