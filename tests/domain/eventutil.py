"""Stored-event stand-ins for the domain tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

T = datetime(2026, 3, 1, 12, 0, 0)  # naive UTC, as stored


@dataclass
class Row:
    content: Any
    id: str = "e"
    invocation_id: str | None = "inv"
    created_at: datetime | None = T


def call(call_id: str, name: str, arguments: Any) -> dict:
    return {"id": call_id, "type": "function", "index": 0, "function": {"name": name, "arguments": arguments}}
