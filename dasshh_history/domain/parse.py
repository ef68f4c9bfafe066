"""Stored event rows to timeline entries; never raises, whatever a row holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from dasshh_history.domain.entries import (
    AssistantReply,
    Entry,
    Invocation,
    RawEntry,
    ToolCall,
    ToolResult,
    UserMessage,
    pretty_json,
    safe_repr,
)
from dasshh_history.domain.jsondepth import TooDeepError, loads
from dasshh_history.domain.values import BrokenValue


class EventLike(Protocol):
    id: str
    invocation_id: str | None
    created_at: datetime | None
    content: Any


def _loads(text: str) -> tuple[bool, object | None]:
    """(True, value) for JSON within the nesting limit, (False, the error) otherwise."""
    try:
        return True, loads(text)
    except ValueError as exc:
        return False, exc


def _as_text(value: object) -> str:
    """Message content as text: strings as-is, multimodal part lists joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and "type" in part:
                parts.append(f"[{part['type']}]")
            else:
                parts.append(pretty_json(part))
        return "\n".join(parts)
    return pretty_json(value)


def _tool_call(call: object, common: dict) -> ToolCall:
    if not isinstance(call, dict):
        return ToolCall(**common, call_id=None, name="?", arguments_raw=pretty_json(call), arguments=None,
                        arguments_valid=False, problem="tool call is not an object")
    function = call.get("function")
    call_id = call.get("id") if isinstance(call.get("id"), str) else None
    if not isinstance(function, dict):
        return ToolCall(**common, call_id=call_id, name="?", arguments_raw=pretty_json(call), arguments=None,
                        arguments_valid=False, problem="tool call has no function")
    name = function.get("name")
    name = name if isinstance(name, str) and name else "?"
    arguments = function.get("arguments")
    if isinstance(arguments, dict | list):
        return ToolCall(**common, call_id=call_id, name=name, arguments_raw=pretty_json(arguments),
                        arguments=arguments, arguments_valid=True)
    if arguments is None or arguments == "":
        return ToolCall(**common, call_id=call_id, name=name, arguments_raw="", arguments=None,
                        arguments_valid=False, problem="empty arguments")
    raw = arguments if isinstance(arguments, str) else pretty_json(arguments)
    ok, parsed = _loads(raw)
    if ok:
        return ToolCall(**common, call_id=call_id, name=name, arguments_raw=raw, arguments=parsed, arguments_valid=True)
    too_deep = isinstance(parsed, TooDeepError)
    problem = f"arguments are {parsed}" if too_deep else "arguments are not valid JSON (cut off?)"
    return ToolCall(**common, call_id=call_id, name=name, arguments_raw=raw, arguments=None, arguments_valid=False,
                    problem=problem)


def _tool_result(content: dict, common: dict) -> ToolResult:
    call_id = content.get("tool_call_id") if isinstance(content.get("tool_call_id"), str) else None
    name = content.get("name") if isinstance(content.get("name"), str) else None
    body = content.get("content")
    if isinstance(body, str):
        ok, parsed = _loads(body)
        if ok and isinstance(parsed, dict | list):
            return ToolResult(**common, call_id=call_id, name=name, content_raw=body, is_json=True)
        return ToolResult(**common, call_id=call_id, name=name, content_raw=body, is_json=False)
    if isinstance(body, dict | list):
        raw = pretty_json(body)  # falls back to repr for values too deep to dump
        return ToolResult(**common, call_id=call_id, name=name, content_raw=raw, is_json=_loads(raw)[0])
    return ToolResult(**common, call_id=call_id, name=name, content_raw=_as_text(body), is_json=False)


def _entries(event: EventLike, common: dict) -> list[Entry]:
    content = event.content
    if isinstance(content, BrokenValue):
        return [RawEntry(**common, role=None, reason=f"undecodable row: {content.error}", raw=content.raw)]
    if not isinstance(content, dict):
        return [RawEntry(**common, role=None, reason=f"content is {type(content).__name__}, not a message",
                         raw=_as_text(content) if content is not None else "null")]
    role = content.get("role")
    if role == "user":
        return [UserMessage(**common, text=_as_text(content.get("content")))]
    if role == "assistant":
        entries: list[Entry] = []
        text = _as_text(content.get("content"))
        calls = content.get("tool_calls")
        if text.strip():
            entries.append(AssistantReply(**common, text=text))
        if isinstance(calls, list):
            entries.extend(_tool_call(call, common) for call in calls)
        elif calls is not None:
            entries.append(_tool_call(calls, common))
        if not entries:
            entries.append(AssistantReply(**common, text=""))
        return entries
    if role == "tool":
        return [_tool_result(content, common)]
    if role == "system":
        text = _as_text(content.get("content"))
        return [RawEntry(**common, role="system", reason="system message", raw=pretty_json(content), text=text)]
    label = role if isinstance(role, str) else None
    reason = "no role" if role is None else "unknown role"
    return [RawEntry(**common, role=label, reason=reason, raw=pretty_json(content))]


def entries_from_event(event: EventLike) -> list[Entry]:
    """The entries one event holds (an assistant message may hold a reply and calls)."""
    common = {
        "event_id": str(getattr(event, "id", "?")),
        "invocation_id": getattr(event, "invocation_id", None),
        "created_at": getattr(event, "created_at", None),
    }
    try:
        return _entries(event, common)
    except Exception as exc:  # one bad row never hides the others
        return [RawEntry(**common, role=None, reason=f"unreadable row ({type(exc).__name__})",
                         raw=safe_repr(getattr(event, "content", None))[:100_000])]


class TimelineBuilder:
    """Builds a session's invocations from its events, fed in batches.

    :meth:`add` returns the invocations a batch completed; the last one stays
    open (its next event may come in the next batch) until :meth:`finish`.
    Results are tied to calls across batches.
    """

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._index = 0
        self._open: tuple[str | None, list[Entry]] | None = None

    def add(self, events: Iterable[EventLike]) -> list[Invocation]:
        done: list[Invocation] = []
        for event in events:
            entries = entries_from_event(event)
            if self._open is None or self._open[0] != entries[0].invocation_id:
                if self._open is not None:
                    done.append(_invocation(*self._open))
                self._open = (entries[0].invocation_id, [])
            for entry in entries:
                if isinstance(entry, ToolCall) and entry.call_id:
                    self._calls[entry.call_id] = self._index
                elif isinstance(entry, ToolResult) and entry.call_id in self._calls:
                    entry = dataclasses.replace(entry, call_index=self._calls[entry.call_id])
                self._open[1].append(entry)
                self._index += 1
        return done

    def finish(self) -> list[Invocation]:
        """The invocation still open, if any."""
        done, self._open = ([_invocation(*self._open)] if self._open else []), None
        return done


def _invocation(invocation_id: str | None, entries: list[Entry]) -> Invocation:
    return Invocation(
        invocation_id=invocation_id,
        started_at=next((e.created_at for e in entries if e.created_at is not None), None),
        entries=tuple(entries),
    )


def build_timeline(events: Iterable[EventLike]) -> list[Invocation]:
    """Group consecutive events by invocation and tie each result to its call."""
    builder = TimelineBuilder()
    return builder.add(events) + builder.finish()
