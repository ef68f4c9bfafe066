"""Timeline blocks: how each kind of entry looks.

Each block turns one domain entry into a Rich renderable.  Text from the
database is always wrapped in ``Text`` (never parsed as markup) after
``sanitize`` has removed terminal control sequences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from functools import cached_property
from math import ceil

from rich import box
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text

from dasshh_history.domain.entries import (
    AssistantReply,
    Entry,
    Invocation,
    RawEntry,
    ToolCall,
    ToolResult,
    UserMessage,
)
from dasshh_history.domain.text import format_timestamp, sanitize

#: Lines of a tool result shown while it is collapsed.
PREVIEW_LINES = 8
#: Results and replies larger than this are shown without highlighting/Markdown.
HIGHLIGHT_LIMIT = 64_000
#: The most characters of one message drawn, and the most lines of an expanded result: drawing a
#: megabyte would stall the app.  Exports and copies hold everything.
SHOWN_CHARS = 100_000
EXPANDED_LINES = 2_000


@dataclass(frozen=True, slots=True)
class BlockTheme:
    """Colours taken from the app theme."""

    user: str
    assistant: str
    tool: str
    result: str
    raw: str
    error: str
    accent: str
    muted: str
    dark: bool

    @property
    def code_theme(self) -> str:
        return "monokai" if self.dark else "default"


def _estimate_lines(text: str, width: int) -> int:
    usable = max(1, width - 4)
    return sum(max(1, ceil(len(line) / usable)) for line in text.split("\n"))


def _panel(body: RenderableType, title: Text, colour: str, *, selected: bool, subtitle: Text | None = None) -> Panel:
    return Panel(
        body,
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="right",
        border_style=f"bold {colour}" if selected else colour,
        box=box.HEAVY if selected else box.ROUNDED,
        padding=(0, 1),
    )


def _bounded(text: str, lines: int | None = None) -> tuple[str, str]:
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


def _with_note(body: RenderableType, note: str, theme: BlockTheme) -> RenderableType:
    return Group(body, Text(f"… {note}", style=f"italic {theme.accent}")) if note else body


def _json_body(text: str, theme: BlockTheme) -> RenderableType:
    if len(text) > HIGHLIGHT_LIMIT:
        return Text(text)
    return Syntax(text, "json", theme=theme.code_theme, word_wrap=True, background_color="default")


class Block:
    """One item of the timeline."""

    selectable = True
    expandable = False
    kind = "block"

    @property
    def search_text(self) -> str:
        """The text a search looks through to tell whether this block matches."""
        return ""

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        raise NotImplementedError

    def estimate_height(self, width: int, expanded: bool) -> int:
        raise NotImplementedError


class HeaderBlock(Block):
    """The start of one invocation (a question and everything it caused)."""

    selectable = False
    kind = "header"

    def __init__(self, invocation: Invocation, tz: tzinfo | None) -> None:
        self.invocation = invocation
        count = len({entry.event_id for entry in invocation.entries})  # stored messages, as the list counts
        self.label = f" {format_timestamp(invocation.started_at, tz)} · {count} {'message' if count == 1 else 'messages'} "

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        return Padding(Rule(Text(self.label, style=theme.muted), style=theme.muted, align="left"), (1, 0, 0, 0))

    def estimate_height(self, width: int, expanded: bool) -> int:
        return 2


class EntryBlock(Block):
    def __init__(self, entry: Entry) -> None:
        self.entry = entry


class UserBlock(EntryBlock):
    kind = "user"
    entry: UserMessage

    @property
    def search_text(self) -> str:
        return self.entry.text

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        title = Text("● You", style=f"bold {theme.user}")
        text, note = _bounded(sanitize(self.entry.text))
        return _panel(_with_note(Text(text), note, theme), title, theme.user, selected=selected)

    def estimate_height(self, width: int, expanded: bool) -> int:
        text, note = _bounded(self.entry.text)
        return _estimate_lines(text, width) + 2 + bool(note)


class ReplyBlock(EntryBlock):
    kind = "assistant"
    entry: AssistantReply

    @property
    def search_text(self) -> str:
        return self.entry.text

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        text, note = _bounded(sanitize(self.entry.text))
        body: RenderableType
        if len(text) > HIGHLIGHT_LIMIT:
            body = Text(text)
        else:
            body = Markdown(text, code_theme=theme.code_theme, hyperlinks=False, inline_code_lexer="text")
        title = Text("✦ Assistant", style=f"bold {theme.assistant}")
        return _panel(_with_note(body, note, theme), title, theme.assistant, selected=selected)

    def estimate_height(self, width: int, expanded: bool) -> int:
        text, note = _bounded(self.entry.text)
        return _estimate_lines(text, width) + 4 + bool(note)


class ToolCallBlock(EntryBlock):
    kind = "tool_call"
    entry: ToolCall

    def __init__(self, entry: ToolCall, number: int) -> None:
        super().__init__(entry)
        self.number = number

    @cached_property
    def _drawn(self) -> tuple[str, str]:
        """The arguments as drawn, and a note of what is not."""
        return _bounded(sanitize(self.entry.pretty if self.entry.arguments_valid else self.entry.arguments_raw))

    def _text(self) -> str:
        return self._drawn[0]

    @property
    def search_text(self) -> str:
        return f"{self.entry.name}\n{self.entry.arguments_raw}"

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        entry = self.entry
        title = Text.assemble(
            ("⚙ Tool call ", f"bold {theme.tool}"),
            (f"#{self.number} ", theme.muted),
            (sanitize(entry.name), f"bold reverse {theme.tool}"),
        )
        subtitle = Text(sanitize(entry.call_id or "no call id"), style=theme.muted)
        if entry.arguments_valid:
            body: RenderableType = _json_body(self._text(), theme)
        else:
            marker = Text(f"⚠ {entry.problem or 'arguments are not valid JSON'} — shown raw", style=f"bold {theme.error}")
            raw = self._text()
            body = Group(marker, Text(raw, style=theme.muted)) if raw else marker
        body = _with_note(body, self._drawn[1], theme)
        return _panel(body, title, theme.tool, selected=selected, subtitle=subtitle)

    def estimate_height(self, width: int, expanded: bool) -> int:
        marker = 0 if self.entry.arguments_valid else 1
        return _estimate_lines(self._text(), width) + 2 + marker + bool(self._drawn[1])


class ToolResultBlock(EntryBlock):
    kind = "tool_result"
    entry: ToolResult

    def __init__(self, entry: ToolResult, call_number: int | None) -> None:
        super().__init__(entry)
        self.call_number = call_number
        self._shown_cache: dict[bool, tuple[str, str]] = {}

    # Pretty-printing a large result is left until the block is first drawn or asked about.
    @cached_property
    def _full(self) -> str:
        return sanitize(self.entry.pretty)

    @cached_property
    def _lines(self) -> list[str]:
        return self._full.split("\n")

    @property
    def search_text(self) -> str:
        return f"{self.entry.name or ''}\n{self.entry.content_raw}"

    @property
    def expandable(self) -> bool:  # type: ignore[override]
        return len(self._lines) > PREVIEW_LINES

    def _shown(self, expanded: bool) -> tuple[str, str]:
        """What is drawn, and a note of what is not (kept: a large result is measured and drawn often)."""
        expanded = expanded or not self.expandable
        if expanded not in self._shown_cache:
            if expanded:
                self._shown_cache[expanded] = _bounded(self._full, EXPANDED_LINES)
            else:
                self._shown_cache[expanded] = _bounded("\n".join(self._lines[:PREVIEW_LINES]))
        return self._shown_cache[expanded]

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        entry = self.entry
        name = sanitize(entry.name or "tool")
        if self.call_number is not None:
            link = Text(f"#{self.call_number} ", style=theme.muted)
        else:
            link = Text("(no matching call) ", style=f"italic {theme.error}")
        title = Text.assemble(("↳ Result of ", f"bold {theme.result}"), link, (name, f"bold {theme.result}"))
        subtitle = Text(sanitize(entry.call_id or "no call id"), style=theme.muted)
        shown, note = self._shown(expanded)
        body: RenderableType = _json_body(shown, theme) if entry.is_json and not note else Text(shown)
        body = _with_note(body, note, theme)
        if self.expandable:
            hidden = len(self._lines) - PREVIEW_LINES
            hint = (
                f"▲ collapse ({len(self._lines):,} lines, {len(self._full):,} chars) · enter"
                if expanded
                else f"▼ {hidden:,} more lines ({len(self._full):,} chars) · enter to expand"
            )
            body = Group(body, Text(hint, style=f"italic {theme.accent}"))
        return _panel(body, title, theme.result, selected=selected, subtitle=subtitle)

    def estimate_height(self, width: int, expanded: bool) -> int:
        if "_full" not in self.__dict__ and not expanded:  # a guess that needs no pretty-printing
            raw_lines = self.entry.content_raw.count("\n") + 1
            return min(raw_lines, PREVIEW_LINES) + 2 + (raw_lines > PREVIEW_LINES)
        shown, note = self._shown(expanded)
        return _estimate_lines(shown, width) + 2 + (1 if self.expandable else 0) + bool(note)


class RawBlock(EntryBlock):
    kind = "raw"
    entry: RawEntry

    @property
    def search_text(self) -> str:
        return f"{self.entry.role or ''}\n{self.entry.raw}"

    def render(self, theme: BlockTheme, *, expanded: bool, selected: bool) -> RenderableType:
        role = sanitize(self.entry.role) if self.entry.role else "unknown"
        reason = sanitize(self.entry.reason)
        short, _, detail = reason.partition(": ")
        title = Text.assemble(("◌ ", theme.raw), (f"{role}: {short}", f"italic {theme.raw}"))
        raw, note = _bounded(sanitize(self.entry.raw))
        body: RenderableType = _with_note(Text(raw, style=theme.raw), note, theme)
        if detail:  # a long reason reads better in the body than cut off in the title
            body = Group(Text(detail, style=f"italic {theme.error}"), body)
        return _panel(body, title, theme.raw, selected=selected)

    def estimate_height(self, width: int, expanded: bool) -> int:
        raw, note = _bounded(self.entry.raw)
        return _estimate_lines(raw, width) + 2 + (": " in self.entry.reason) + bool(note)


class BlockBuilder:
    """Turns invocations into blocks, batch after batch, numbering calls across batches.

    ``calls_before``: how many calls come before the first invocation given (a session's end built first).
    """

    def __init__(self, tz: tzinfo | None, *, calls_before: int = 0) -> None:
        self._tz = tz
        self._calls_before = calls_before
        self._call_numbers: dict[int, int] = {}
        self._flat_index = 0

    def add(self, invocations: list[Invocation]) -> list[Block]:
        blocks: list[Block] = []
        for invocation in invocations:
            blocks.append(HeaderBlock(invocation, self._tz))
            for entry in invocation.entries:
                blocks.append(self._block(entry))
                self._flat_index += 1
        return blocks

    def _block(self, entry: Entry) -> Block:
        if isinstance(entry, UserMessage):
            return UserBlock(entry)
        if isinstance(entry, AssistantReply):
            return ReplyBlock(entry)
        if isinstance(entry, ToolCall):
            number = self._call_numbers[self._flat_index] = self._calls_before + len(self._call_numbers) + 1
            return ToolCallBlock(entry, number)
        if isinstance(entry, ToolResult):
            number = self._call_numbers.get(entry.call_index) if entry.call_index is not None else None
            return ToolResultBlock(entry, number)
        return RawBlock(entry)


def build_blocks(invocations: list[Invocation], tz: tzinfo | None) -> list[Block]:
    """The timeline blocks of one session: a header per invocation, then its entries."""
    return BlockBuilder(tz).add(invocations)
