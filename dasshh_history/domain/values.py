"""Plain values shared by every layer: a stored value that is not JSON, and one row of the session list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BrokenValue:
    """A stored ``content`` value that could not be decoded as JSON."""

    raw: str
    error: str


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the session list."""

    id: str
    detail: str | None
    created_at: datetime | None
    updated_at: datetime | None
    event_count: int
    #: Text around the first search match, when the list shows search results.
    snippet: str | None = None
