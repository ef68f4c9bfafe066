"""Typed timeline entries: what one stored event means."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from dasshh_history.domain.jsondepth import MAX_JSON_DEPTH, dumped_nests_deeper_than, loads


def too_deep(value: object) -> str:
    """What is shown instead of a value nested deeper than :data:`MAX_JSON_DEPTH`."""
    return f"<{type(value).__name__} nested more than {MAX_JSON_DEPTH:,} levels deep>"


def pretty_json(value: object) -> str:
    """Indented JSON for display; falls back to ``repr`` for anything json cannot dump.

    A value nested deeper than :data:`MAX_JSON_DEPTH` (none read from storage is)
    is not shown, whatever the interpreter could print.
    """
    try:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    except RecursionError:
        return too_deep(value)
    except (ValueError, TypeError):
        return safe_repr(value)
    return too_deep(value) if dumped_nests_deeper_than(value, text) else text


def safe_repr(value: object) -> str:
    """``repr`` that survives values nested too deeply to print."""
    try:
        return repr(value)
    except (RecursionError, ValueError):
        return f"<{type(value).__name__} nested too deeply to show>"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Base:
    event_id: str
    invocation_id: str | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserMessage(_Base):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantReply(_Base):
    """Markdown source of an assistant's answer."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall(_Base):
    call_id: str | None
    name: str
    arguments_raw: str
    arguments: object | None
    arguments_valid: bool
    problem: str | None = None

    @property
    def pretty(self) -> str:
        return pretty_json(self.arguments) if self.arguments_valid else self.arguments_raw


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult(_Base):
    """A tool's answer; JSON is kept as text and parsed again only when shown."""

    call_id: str | None
    name: str | None
    content_raw: str
    is_json: bool
    #: Index (in the session's flat entry list) of the call this answers, if any.
    call_index: int | None = None

    @property
    def parsed(self) -> object | None:
        """The JSON value (None for plain text)."""
        return loads(self.content_raw) if self.is_json else None

    @property
    def pretty(self) -> str:
        return pretty_json(self.parsed) if self.is_json else self.content_raw

    @property
    def value(self) -> tuple[object, bool]:
        """What the result says, and whether it was decoded from JSON.

        An object or array as decoded; a JSON string (dasshh stores a string
        result as ``json.dumps(text)``), number, boolean or null decoded too;
        any other text as it is.
        """
        if self.is_json:
            return self.parsed, True
        text = self.content_raw
        head = text.lstrip()[:1]
        if head and (head in '"-tfn' or head.isdigit()):
            try:
                return loads(text), True
            except ValueError:
                pass
        return text, False

    @property
    def line_count(self) -> int:
        return self.pretty.count("\n") + 1


@dataclass(frozen=True, slots=True, kw_only=True)
class RawEntry(_Base):
    """A row shown as-is: a system message, an unknown role or undecodable content."""

    role: str | None
    reason: str
    raw: str
    #: The message's text, for a system message.
    text: str | None = None


Entry = UserMessage | AssistantReply | ToolCall | ToolResult | RawEntry


@dataclass(frozen=True, slots=True)
class Invocation:
    """One query: the question and every call, result and reply it caused."""

    invocation_id: str | None
    started_at: datetime | None
    entries: tuple[Entry, ...]
