"""Timeline blocks: how each kind of entry looks, and the builder that turns a session's invocations into blocks.

Tool calls and results live in :mod:`dasshh_history.widgets.tool_blocks`;
what every block shares in :mod:`dasshh_history.widgets.block_base`.
"""

from __future__ import annotations

from datetime import date, tzinfo

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
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
from dasshh_history.domain.failure import reply_failure
from dasshh_history.domain.readable import Line, text_lines
from dasshh_history.domain.text import count_messages, sanitize, to_local
from dasshh_history.widgets.block_base import (
    HIGHLIGHT_LIMIT,
    Block,
    EntryBlock,
    Look,
    bounded,
    estimate_lines,
    panel,
    title_text,
    with_note,
)
from dasshh_history.widgets.block_theme import BlockTheme
from dasshh_history.widgets.markdown_view import reply_markdown
from dasshh_history.widgets.tool_blocks import FoldingBlock, ToolCallBlock, ToolResultBlock

__all__ = ["Block", "BlockBuilder", "BlockTheme", "Look", "ToolCallBlock", "ToolResultBlock", "build_blocks"]


class HeaderBlock(Block):
    """The start of one turn: a question and everything it caused."""

    selectable = False
    kind = "header"

    def __init__(self, invocation: Invocation, number: int, tz: tzinfo | None, *, previous_day: date | None) -> None:
        self.invocation = invocation
        self.number = number
        count = len({entry.event_id for entry in invocation.entries})  # stored messages, as the list counts
        started = invocation.started_at
        local = to_local(started, tz) if started is not None else None
        self.day = local.date() if local is not None else previous_day
        if local is None:
            when = "unknown time"
        elif self.day == previous_day:
            when = local.strftime("%H:%M")  # the date is in an earlier header
        else:
            when = local.strftime("%Y-%m-%d %H:%M")
        self.label = f" Turn {number} · {when} · {count_messages(count)} "

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        return Padding(Rule(Text(self.label, style=theme.muted), style=theme.muted, align="left"), (1, 0, 0, 0))

    def estimate_height(self, look: Look) -> int:
        return 2


class UserBlock(EntryBlock):
    kind = "user"
    entry: UserMessage

    @property
    def search_text(self) -> str:
        return self.entry.text

    @property
    def copy_text(self) -> str:
        return sanitize(self.entry.text)

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        title = title_text("●", "You", theme.user, look)
        text, note = bounded(sanitize(self.entry.text))
        return panel(with_note(Text(text), note, theme), title, theme.user, theme, look)

    def estimate_height(self, look: Look) -> int:
        text, note = bounded(self.entry.text)
        return estimate_lines(text, look.width) + 2 + bool(note)


class ReplyBlock(EntryBlock):
    kind = "assistant"
    entry: AssistantReply

    @property
    def search_text(self) -> str:
        return self.entry.text

    @property
    def has_raw(self) -> bool:
        return bool(self.entry.text)

    @property
    def copy_text(self) -> str:
        return sanitize(self.entry.text)  # the Markdown source

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        text, note = bounded(sanitize(self.entry.text))
        failure = reply_failure(self.entry.text)
        colour = theme.error if failure else theme.assistant
        body: RenderableType
        if look.raw or len(text) > HIGHLIGHT_LIMIT:
            body = Text(text)
        else:
            body = reply_markdown(text, code_theme=theme.code_theme, heading=theme.accent)
        title = title_text("✦", "Assistant", colour, look, *([(f" · {failure}", f"bold {theme.error}")] if failure else []),
                           *([(" · Markdown source", theme.muted)] if look.raw else []))
        return panel(with_note(body, note, theme), title, colour, theme, look)

    def estimate_height(self, look: Look) -> int:
        text, note = bounded(self.entry.text)
        return estimate_lines(text, look.width) + 2 + bool(note)


class SystemBlock(FoldingBlock):
    """The system prompt: its text, folded like a long result."""

    kind = "system"
    entry: RawEntry

    @property
    def search_text(self) -> str:
        return self.entry.text or ""

    @property
    def copy_text(self) -> str:
        return sanitize(self.entry.text or "")

    @property
    def has_raw(self) -> bool:
        return True

    def readable(self) -> list[Line]:
        lines = self.__dict__.get("_lines")
        if lines is None:
            lines = self.__dict__["_lines"] = text_lines(self.entry.text or "")
        return lines

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        title = title_text("◆", "System", theme.system, look, *([(" · stored", theme.muted)] if look.raw else []))
        if look.raw:
            body = self.raw_body(self.entry.raw, True, theme, theme.system, look)
        else:
            body = self.folded_body(theme, look, theme.system)
        return panel(body, title, theme.system, theme, look)

    def estimate_height(self, look: Look) -> int:
        shown = self.fold(look)
        return shown.rows + 2 + bool(shown.hidden_rows or look.expanded and self.expandable(look)) + bool(shown.note)


class RawBlock(EntryBlock):
    """A row shown as stored: an unknown role, or content that is not a message."""

    kind = "raw"
    entry: RawEntry

    @property
    def search_text(self) -> str:
        return f"{self.entry.role or ''}\n{self.entry.raw}"

    @property
    def copy_text(self) -> str:
        return sanitize(self.entry.raw)

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        role = sanitize(self.entry.role) if self.entry.role else "unknown"
        reason = sanitize(self.entry.reason)
        short, _, detail = reason.partition(": ")
        title = title_text("◌", f"{role}: {short}", theme.raw, look)
        raw, note = bounded(sanitize(self.entry.raw))
        body: RenderableType = with_note(Text(raw, style=theme.raw), note, theme)
        if detail:  # a long reason reads better in the body than cut off in the title
            body = Group(Text(detail, style=f"italic {theme.error}"), body)
        return panel(body, title, theme.raw, theme, look)

    def estimate_height(self, look: Look) -> int:
        raw, note = bounded(self.entry.raw)
        return estimate_lines(raw, look.width) + 2 + (": " in self.entry.reason) + bool(note)


class BlockBuilder:
    """Turns invocations into blocks, batch after batch, numbering turns and calls and linking results across batches.

    ``calls_before``: how many calls come before the first invocation given (a session's end built first).
    """

    def __init__(self, tz: tzinfo | None, *, calls_before: int = 0) -> None:
        self._tz = tz
        self._calls_before = calls_before
        self._calls: dict[int, ToolCallBlock] = {}
        self._flat_index = 0
        self._turns = 0
        self._day: date | None = None

    def add(self, invocations: list[Invocation]) -> list[Block]:
        blocks: list[Block] = []
        for invocation in invocations:
            self._turns += 1
            header = HeaderBlock(invocation, self._turns, self._tz, previous_day=self._day)
            self._day = header.day
            blocks.append(header)
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
            call = self._calls[self._flat_index] = ToolCallBlock(entry, self._calls_before + len(self._calls) + 1)
            return call
        if isinstance(entry, ToolResult):
            call = self._calls.get(entry.call_index) if entry.call_index is not None else None
            result = ToolResultBlock(entry, call.number if call is not None else None)
            if call is not None and call.result is None:
                call.link(result)
            return result
        if entry.role == "system" and entry.text is not None:
            return SystemBlock(entry)
        return RawBlock(entry)


def build_blocks(invocations: list[Invocation], tz: tzinfo | None) -> list[Block]:
    """The timeline blocks of one session: a header per turn, then its entries."""
    return BlockBuilder(tz).add(invocations)
