"""What every timeline block shares: how it is asked to look, its frame, and the limits of what it draws.

Each block turns one domain entry into a Rich renderable.  Text from the
database is always wrapped in ``Text`` (never parsed as markup) after
``sanitize`` has removed terminal control sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text

from dasshh_history.domain.entries import Entry
from dasshh_history.widgets.block_theme import BlockTheme
from dasshh_history.widgets.readable_view import SHOWN_CHARS

#: Text larger than this is drawn without highlighting or Markdown.
HIGHLIGHT_LIMIT = 64_000
#: Cells a block's frame takes from the width: two borders and one space of padding each side.
FRAME = 4
#: The selected block's marker, before its title.
MARKER = "▶ "


@dataclass(frozen=True, slots=True)
class Look:
    """How a block is asked to be drawn."""

    width: int
    expanded: bool = False
    selected: bool = False
    raw: bool = False  # the stored form instead of the readable one
    compact: bool = False  # the conversation view: tool calls and results on one line each

    @property
    def usable(self) -> int:
        """Cells inside the frame."""
        return max(1, self.width - FRAME)


class Block:
    """One item of the timeline."""

    selectable = True
    kind = "block"
    #: Bumped when something drawn changes after the block was built (a call learning that it failed).
    revision = 0

    @property
    def search_text(self) -> str:
        """The text a search looks through to tell whether this block matches."""
        return ""

    @property
    def has_raw(self) -> bool:
        """Whether the block has a stored form that differs from what it shows."""
        return False

    @property
    def copy_text(self) -> str | None:
        """What ``y`` copies and ``v`` pages: the block's text, control sequences removed (None: it has none)."""
        return None

    def expandable(self, look: Look) -> bool:
        return False

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        raise NotImplementedError

    def estimate_height(self, look: Look) -> int:
        raise NotImplementedError


class EntryBlock(Block):
    def __init__(self, entry: Entry) -> None:
        self.entry = entry


def estimate_lines(text: str, width: int) -> int:
    usable = max(1, width - FRAME)
    return sum(max(1, ceil(len(line) / usable)) for line in text.split("\n"))


def title_text(icon: str, label: str, colour: str, look: Look, *extra: Text | tuple[str, str]) -> Text:
    """A block's title: the selection marker, an icon and a label in the kind's colour, then more parts."""
    title = Text.assemble((MARKER, f"bold {colour}") if look.selected else "", (f"{icon} {label}", f"bold {colour}"))
    for part in extra:
        title.append_text(part) if isinstance(part, Text) else title.append(*part)
    return title


def panel(
    body: RenderableType, title: Text, colour: str, theme: BlockTheme, look: Look, *, subtitle: Text | None = None
) -> Panel:
    """The frame of a block; the selected one is heavier, tinted with its colour and marked."""
    return Panel(
        body,
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="right",
        border_style=f"bold {colour}" if look.selected else colour,
        box=box.HEAVY if look.selected else box.ROUNDED,
        style=Style(bgcolor=theme.tint(colour)) if look.selected else "",
        padding=(0, 1),
    )


def compact_line(parts: list[tuple[str, str]], theme: BlockTheme, look: Look, colour: str) -> Text:
    """One line of the conversation view, cut to the width; the selected one tinted and marked."""
    text = Text.assemble((MARKER if look.selected else "  ", f"bold {colour}"), *parts, end="", no_wrap=True)
    text.truncate(max(1, look.width), overflow="ellipsis", pad=True)
    if look.selected:
        text.stylize(Style(bgcolor=theme.tint(colour)))
    return text


def bounded(text: str, lines: int | None = None) -> tuple[str, str]:
    """``text`` cut to what the timeline draws (``lines`` lines at most), and a note of what was left out."""
    notes = []
    if lines is not None and text.count("\n") >= lines:
        total = text.count("\n") + 1
        text = "\n".join(text.split("\n", lines)[:lines])
        notes.append(f"{total - lines:,} more lines")
    if len(text) > SHOWN_CHARS:
        notes.append(f"{len(text) - SHOWN_CHARS:,} more characters")
        text = text[:SHOWN_CHARS]
    return text, (" and ".join(notes) + " not drawn here · e exports the whole session" if notes else "")


def with_note(body: RenderableType, note: str, theme: BlockTheme) -> RenderableType:
    return Group(body, Text(f"… {note}", style=f"italic {theme.accent}")) if note else body


def code(text: str, lexer: str, theme: BlockTheme, *, background: str = "default") -> RenderableType:
    """Highlighted code (plain text when too large to highlight quickly), over ``background``."""
    if len(text) > HIGHLIGHT_LIMIT:
        return Text(text)
    return Syntax(text, lexer, theme=theme.code_theme, word_wrap=True, background_color=background)


def background(colour: str, theme: BlockTheme, look: Look) -> str:
    """The background inside a block: the tint of the selected one, else the timeline's."""
    return theme.tint(colour) if look.selected else theme.background
