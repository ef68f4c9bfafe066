"""Readable lines (tool output, arguments, system prompts) drawn as Rich text, folded by drawn rows.

A block's width decides how many rows a line takes once wrapped, so what a
collapsed block shows is counted in rows at the current width: the first
:data:`PREVIEW_ROWS` rows, and a fold only when it hides at least
:data:`MIN_HIDDEN_ROWS` more (a fold that hides two rows is worse than none).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from math import ceil

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from dasshh_history.domain.readable import Line

_CONSOLE = Console(file=io.StringIO(), width=80)  # only for Text.wrap, which asks for one
#: Rows of a folded block shown.
PREVIEW_ROWS = 10
#: A block is folded only when folding hides at least this many rows.
MIN_HIDDEN_ROWS = 5
#: The most lines and characters of an unfolded block drawn: drawing a megabyte would stall the app.
EXPANDED_LINES = 2_000
SHOWN_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Fold:
    """What of a block's lines is drawn at one width: the lines, the rows left out, a note of what is not drawn."""

    lines: list[Line]
    hidden_rows: int
    total_rows: int
    note: str = ""

    @property
    def rows(self) -> int:
        return self.total_rows - self.hidden_rows


def rows_of(line: Line, usable: int) -> int:
    """Rows a line takes when wrapped at ``usable`` cells (as :func:`lines_text` wraps it, under its indentation)."""
    cells, usable = cell_len(line.plain), max(1, usable)
    indent = 2 * line.depth
    if cells <= usable or not indent or indent >= usable:
        return max(1, ceil(cells / usable))
    return 1 + ceil((cells - usable) / (usable - indent))


def fold(lines: list[Line], usable: int, *, expanded: bool) -> Fold:
    """The lines drawn at ``usable`` cells: all of them (up to the size limits), or the first rows when folded."""
    measured = lines[:EXPANDED_LINES]
    rows = [rows_of(line, usable) for line in measured]
    total = sum(rows) + (len(lines) - len(measured))
    foldable = total > PREVIEW_ROWS + MIN_HIDDEN_ROWS - 1
    if expanded or not foldable:
        shown, chars = [], 0
        for line in measured:
            if chars + len(line.text) > SHOWN_CHARS:
                shown.append(replace(line, text=line.text[: max(0, SHOWN_CHARS - chars)]))
                break
            shown.append(line)
            chars += len(line.text) + 1
        left = len(lines) - len(shown)
        note = f"{left:,} more lines not drawn here · e exports the whole session" if left > 0 else ""
        if not note and chars > SHOWN_CHARS:
            note = "the rest of the line is not drawn here · e exports the whole session"
        return Fold(shown, 0, total, note)
    shown, used = [], 0
    for line, line_rows in zip(measured, rows):
        if used + line_rows > PREVIEW_ROWS:
            room = PREVIEW_ROWS - used
            if room > 0:  # a long line: as much of it as fits the rows left
                shown.append(replace(line, text=line.text[: room * max(1, usable) - len(line.plain) + len(line.text)]))
                used = PREVIEW_ROWS
            break
        shown.append(line)
        used += line_rows
    return Fold(shown, total - used, total)


@dataclass(frozen=True, slots=True)
class LineStyles:
    """Styles of the parts of a readable line."""

    label: str
    string: str
    number: str
    quiet: str  # true/false/null and empty values
    text: str = ""


def lines_text(lines: list[Line], styles: LineStyles, usable: int | None = None) -> Text:
    """Readable lines as Rich text (literal: never parsed as markup).

    A line wider than ``usable`` cells is wrapped here, each row under the
    line's own indentation (a list item's under its text, right of the
    bullet), so that nesting stays visible in long output.
    """
    text = Text()
    for position, line in enumerate(lines):
        if position:
            text.append("\n")
        indent = 2 * line.depth
        if usable is None or not indent or indent >= usable or cell_len(line.plain) <= usable:
            _append(text, line, styles, indent)
            continue
        body = Text()
        _append(body, replace(line, bullet=0), styles, 0)
        for row, piece in enumerate(body.wrap(_CONSOLE, usable - indent, justify="left", overflow="fold")):
            if row:
                text.append("\n" + " " * indent)
            elif line.bullet:
                text.append(" " * (indent - 2 * line.bullet))
                text.append("- " * line.bullet, styles.quiet)
            else:
                text.append(" " * indent)
            text.append_text(piece)
    return text


def _append(text: Text, line: Line, styles: LineStyles, indent: int) -> None:
    if line.bullet:
        text.append(" " * max(0, indent - 2 * line.bullet))
        text.append("- " * line.bullet, styles.quiet)
    else:
        text.append(" " * indent)
    if line.label is not None:
        text.append(line.label, styles.label)
        text.append(":" if line.kind == "label" else ": ", styles.quiet)
    style = {"text": styles.text, "string": styles.string, "number": styles.number, "label": styles.label}
    text.append(line.text, style.get(line.kind, styles.quiet))
