"""Tool calls and their results: shown as what they say, failures unmistakable, one line each in the conversation view.

A call shows its shell command as highlighted shell code and its other
arguments as a readable tree; a result shows its text or tree (see
:mod:`dasshh_history.domain.readable`) folded by drawn rows, titled with a
one-line summary, and in the failure colour when it failed
(:mod:`dasshh_history.domain.failure`).  The stored JSON is the raw view.
"""

from __future__ import annotations

from functools import cached_property

from rich.cells import cell_len, set_cell_size
from rich.console import Group, RenderableType
from rich.text import Text

from dasshh_history.domain.entries import ToolCall, ToolResult
from dasshh_history.domain.failure import result_failure
from dasshh_history.domain.readable import (
    SHELL_KEYS,
    Line,
    call_preview,
    first_line,
    plain_text,
    readable_lines,
    shell_command,
    summary,
    text_lines,
)
from dasshh_history.domain.text import sanitize
from dasshh_history.widgets.block_base import (
    EntryBlock,
    Look,
    background,
    bounded,
    code,
    compact_line,
    estimate_lines,
    panel,
    title_text,
    with_note,
)
from dasshh_history.widgets.block_theme import BlockTheme
from dasshh_history.widgets.readable_view import (
    EXPANDED_LINES,
    PREVIEW_ROWS,
    Fold,
    LineStyles,
    fold,
    lines_text,
)


def _styles(theme: BlockTheme, label: str) -> LineStyles:
    return LineStyles(label=f"bold {label}", string="", number=theme.accent, quiet=f"italic {theme.muted}")


class FoldingBlock(EntryBlock):
    """A block whose readable lines fold by drawn rows."""

    _folds: dict[tuple[int, bool], Fold]

    def readable(self) -> list[Line]:
        raise NotImplementedError

    def fold(self, look: Look) -> Fold:
        folds = self.__dict__.setdefault("_folds", {})
        key = (look.usable, look.expanded)
        if key not in folds:
            folds[key] = fold(self.readable(), look.usable, expanded=look.expanded)
        return folds[key]

    def expandable(self, look: Look) -> bool:
        if look.compact or look.raw:
            return False
        return self.fold(Look(look.width, expanded=False)).hidden_rows > 0

    def folded_body(self, theme: BlockTheme, look: Look, label: str) -> RenderableType:
        shown = self.fold(look)
        body: RenderableType = with_note(lines_text(shown.lines, _styles(theme, label), look.usable), shown.note, theme)
        if shown.hidden_rows:
            hint = f"▼ {shown.hidden_rows:,} more lines · enter to expand"
        elif look.expanded and self.expandable(look):
            hint = f"▲ {shown.total_rows:,} lines · enter to collapse"
        else:
            return body
        return Group(body, Text(hint, style=f"italic {theme.accent}"))

    def raw_body(self, raw: str, is_json: bool, theme: BlockTheme, colour: str, look: Look) -> RenderableType:
        text, note = bounded(sanitize(raw), EXPANDED_LINES)
        body = code(text, "json", theme, background=background(colour, theme, look)) if is_json and not note else Text(text)
        return with_note(body, note, theme)


class ToolCallBlock(FoldingBlock):
    kind = "tool_call"
    entry: ToolCall

    def __init__(self, entry: ToolCall, number: int) -> None:
        super().__init__(entry)
        self.number = number
        self.result: ToolResultBlock | None = None

    def link(self, result: ToolResultBlock) -> None:
        """The result answering this call: its outcome shows in the call's title."""
        self.result = result
        self.revision += 1

    @property
    def search_text(self) -> str:
        return f"{self.entry.name}\n{self.entry.arguments_raw}"

    @property
    def has_raw(self) -> bool:
        return self.entry.arguments_valid

    @property
    def copy_text(self) -> str:
        """The tool's name, then its shell command as is and its other arguments in readable form (or as stored)."""
        if not self.entry.arguments_valid:
            parts = [self.entry.arguments_raw]
        else:
            lines = self.readable()
            arguments = plain_text(lines) if lines and lines != [Line(0, None, "(empty)", "empty")] else ""
            parts = [self.command or "", arguments]
        return "\n".join(sanitize(part) for part in [self.entry.name, *parts] if part)

    @cached_property
    def command(self) -> str | None:
        return shell_command(self.entry.arguments) if self.entry.arguments_valid else None

    def readable(self) -> list[Line]:
        return self._arguments

    @cached_property
    def _arguments(self) -> list[Line]:
        """The arguments in readable form, the shell command (drawn as code on its own) left out."""
        arguments = self.entry.arguments
        if self.command is not None and isinstance(arguments, dict):
            key = next(k for k in SHELL_KEYS if isinstance(arguments.get(k), str))
            arguments = {k: v for k, v in arguments.items() if k != key}
            if not arguments:
                return []
        return readable_lines(arguments)

    def _status(self, theme: BlockTheme) -> tuple[str, str] | None:
        if self.result is None:
            return None
        failure = self.result.failure
        return (f" ✗ {failure}", f"bold {theme.error}") if failure else (" ✓", theme.assistant)

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        entry = self.entry
        if look.compact:
            return self._compact(theme, look)
        status = self._status(theme)
        title = title_text(
            "⚙", "Tool call", theme.tool, look,
            (f" #{self.number} ", theme.muted), (sanitize(entry.name), f"bold reverse {theme.tool}"),
            *([status] if status else []), *([(" · stored", theme.muted)] if look.raw else []),
        )
        subtitle = Text(sanitize(entry.call_id or "no call id"), style=theme.muted)
        if look.raw and entry.arguments_valid:
            body = self.raw_body(entry.arguments_raw, True, theme, theme.tool, look)
        elif not entry.arguments_valid:
            marker = Text(f"⚠ {entry.problem or 'arguments are not valid JSON'} — shown raw", style=f"bold {theme.error}")
            raw, note = bounded(sanitize(entry.arguments_raw))
            body = with_note(Group(marker, Text(raw, style=theme.muted)) if raw else marker, note, theme)
        else:
            parts: list[RenderableType] = []
            if self.command is not None:
                parts.append(code(sanitize(self.command), "bash", theme, background=background(theme.tool, theme, look)))
            if self.readable():
                parts.append(self.folded_body(theme, look, theme.tool))
            body = Group(*parts) if parts else Text("(no arguments)", style=f"italic {theme.muted}")
        return panel(body, title, theme.tool, theme, look, subtitle=subtitle)

    def _compact(self, theme: BlockTheme, look: Look) -> Text:
        preview = call_preview(self.entry.arguments) if self.entry.arguments_valid else (self.entry.problem or "")
        name = sanitize(self.entry.name)
        outcome = []
        if self.result is not None:
            failure = self.result.failure
            text = f"  → ✗ {failure}" if failure else f"  → {self.result.summary}"
            outcome.append((text, f"bold {theme.error}" if failure else theme.muted))
        # The outcome always shows: the command gives way when the line is too long.
        room = look.width - 4 - cell_len(name) - sum(cell_len(text) for text, _ in outcome)
        if cell_len("  " + preview) > room:
            preview = set_cell_size(preview, max(0, room - 3)) + "…"
        parts = [("⚙ ", theme.tool), (name, f"bold {theme.tool}"), ("  " + preview, ""), *outcome]
        return compact_line(parts, theme, look, theme.error if self._failed else theme.tool)

    @property
    def _failed(self) -> bool:
        return self.result is not None and self.result.failure is not None

    def estimate_height(self, look: Look) -> int:
        if look.compact:
            return 1
        if look.raw or not self.entry.arguments_valid:
            return estimate_lines(bounded(self.entry.arguments_raw, EXPANDED_LINES)[0], look.width) + 3
        command = estimate_lines(self.command, look.width) if self.command is not None else 0
        arguments = self.entry.arguments_raw.count("\n") + 1 if self.readable() else 0
        return command + min(arguments, PREVIEW_ROWS + 1) + 2


class ToolResultBlock(FoldingBlock):
    kind = "tool_result"
    entry: ToolResult

    def __init__(self, entry: ToolResult, call_number: int | None) -> None:
        super().__init__(entry)
        self.call_number = call_number

    # Decoding a large result is left until the block is first drawn or asked about.
    @cached_property
    def _value(self) -> tuple[object, bool]:
        return self.entry.value

    @cached_property
    def failure(self) -> str | None:
        """Why the call failed (``failed · exit 1``, ``error``…), or None."""
        value, decoded = self._value
        return result_failure(value, is_json=decoded)

    @cached_property
    def summary(self) -> str:
        value, decoded = self._value
        return summary(value if decoded else str(value))

    @cached_property
    def _lines(self) -> list[Line]:
        value, decoded = self._value
        return readable_lines(value) if decoded else text_lines(str(value))

    def readable(self) -> list[Line]:
        return self._lines

    @property
    def search_text(self) -> str:
        return f"{self.entry.name or ''}\n{self.entry.content_raw}"

    @property
    def copy_text(self) -> str:
        return plain_text(self._lines)

    @property
    def has_raw(self) -> bool:
        return True

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        entry = self.entry
        colour = theme.error if self.failure else theme.result
        name = sanitize(entry.name or "tool")
        if look.compact:
            return self._compact(theme, look, colour, name)
        link = (f"#{self.call_number} ", theme.muted) if self.call_number is not None else ("(no matching call) ", f"italic {theme.error}")
        outcome = (f" · {self.failure}", f"bold {theme.error}") if self.failure else (f" · {self.summary}", theme.muted)
        icon, label = ("✗", "Result of ") if self.failure else ("↳", "Result of ")
        title = title_text(icon, label, colour, look, link, (name, f"bold {colour}"), outcome,
                           *([(" · stored", theme.muted)] if look.raw else []))
        subtitle = Text(sanitize(entry.call_id or "no call id"), style=theme.muted)
        if look.raw:
            body = self.raw_body(entry.content_raw, entry.is_json, theme, colour, look)
        else:
            body = self.folded_body(theme, look, colour)
        return panel(body, title, colour, theme, look, subtitle=subtitle)

    def _compact(self, theme: BlockTheme, look: Look, colour: str, name: str) -> Text:
        value, decoded = self._value
        line = first_line(value if decoded else str(value))
        lead = [("↳ ", colour)] if self.call_number is not None else [("↳ ", colour), (f"{name} · {self.summary}  ", colour)]
        failure = [(f"✗ {self.failure}  ", f"bold {theme.error}")] if self.failure else []
        return compact_line([("  ", ""), *lead, *failure, (line, theme.muted)], theme, look, colour)

    def estimate_height(self, look: Look) -> int:
        if look.compact:
            return 1
        if look.raw:
            return estimate_lines(bounded(self.entry.content_raw, EXPANDED_LINES)[0], look.width) + 2
        if "_lines" not in self.__dict__ and not look.expanded:  # a guess that needs no decoding
            raw_lines = self.entry.content_raw.count("\n") + 1
            return min(raw_lines, PREVIEW_ROWS) + 3
        shown = self.fold(look)
        hint = 1 if shown.hidden_rows or (look.expanded and self.expandable(look)) else 0
        return shown.rows + 2 + hint + bool(shown.note)
