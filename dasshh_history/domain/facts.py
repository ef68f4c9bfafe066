"""What the search filters know of one stored event: the tools it calls, and whether it is a failed result.

Read exactly as the timeline reads the event (:func:`~dasshh_history.domain.parse.entries_from_event`,
then :func:`~dasshh_history.domain.failure.result_failure` on each result's value), so that
``is:failed`` finds the sessions whose timeline shows a failure and ``tool:`` those that show a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dasshh_history.domain.entries import ToolCall, ToolResult
from dasshh_history.domain.failure import result_failure
from dasshh_history.domain.parse import entries_from_event

#: The name the timeline gives a call without one.
_NO_NAME = "?"


@dataclass(frozen=True, slots=True)
class _Event:
    content: object
    id: str = ""
    invocation_id: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventFacts:
    """The tools an event calls (lower case, each once) and whether it holds a failed tool result."""

    tools: tuple[str, ...] = ()
    failed: bool = False


NO_FACTS = EventFacts()


def event_facts(content: object) -> EventFacts:
    """The facts of an event whose ``content`` is decoded as the timeline gets it (a dict, usually).

    Content that is not a message (not JSON, a bare string, null) has none.  Never raises.
    """
    if not isinstance(content, dict):
        return NO_FACTS
    role = content.get("role")
    if not (role == "tool" or (role == "assistant" and content.get("tool_calls") is not None)):
        return NO_FACTS  # no call, no result: nothing for the timeline to call a tool or a failure either
    tools: dict[str, None] = {}
    failed = False
    for entry in entries_from_event(_Event(content)):
        if isinstance(entry, ToolCall) and entry.name != _NO_NAME:
            tools[entry.name.lower()] = None
        elif isinstance(entry, ToolResult) and not failed:
            try:
                value, decoded = entry.value
                failed = result_failure(value, is_json=decoded) is not None
            except Exception:  # the timeline would show such a result as it is, not as a failure
                failed = False
    return EventFacts(tuple(tools), failed) if tools or failed else NO_FACTS
