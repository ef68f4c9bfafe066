"""What ``prune`` takes away: sessions older than a date, empty ones, those a search matches, orphan events.

No Textual here.  The criteria on sessions are ANDed (``--before 90d --empty``:
empty sessions not active for 90 days); ``--before`` and ``--match`` are one
search (``before:DATE`` is the search's own filter: a session's last activity,
local days), run on the search index as ``dasshh-history search`` runs it.
Orphan events (whose session is gone) are only ever taken with ``orphans``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import StoredValue, orphan_keys, stored_size
from dasshh_history.domain.filters import DateFilter, read_filter
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services.index_keeper import IndexKeeper
from dasshh_history.services.searching import script_query, search_history


class PruneError(ValueError):
    """The criteria cannot be used (a date that is not one); the message says why."""


@dataclass(frozen=True)
class Selection:
    """The sessions (newest first) and orphan groups a prune takes, with their size as stored."""

    sessions: list[SessionSummary]
    orphans: list[StoredValue] = field(default_factory=list)
    orphan_events: int = 0
    messages: int = 0
    bytes: int = 0

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.sessions]

    def __bool__(self) -> bool:
        return bool(self.sessions or self.orphan_events)


def date_filter(text: str, *, after: bool) -> DateFilter:
    """``2026-03-14``, ``90d``, ``2w``, ``3m``, ``1y`` as the search's ``before:``/``after:`` filter reads them."""
    found = read_filter(f"{'after' if after else 'before'}:{text.strip()}", typing=False)
    if not isinstance(found, DateFilter):
        raise PruneError(f"not a date: {text!r} (give 2026-03-14, or 90d, 2w, 3m, 1y before now)")
    return found


def select(
    client: DBClient,
    keeper: IndexKeeper | None,
    *,
    before: str | None = None,
    empty: bool = False,
    match: str | None = None,
    orphans: bool = False,
) -> Selection:
    """The sessions passing every criterion given (none given: none), and with ``orphans`` the orphan events."""
    reader = HistoryReader(client)
    sessions: list[SessionSummary] = []
    if before is not None or match is not None:
        if before is not None:
            date_filter(before, after=False)
        assert keeper is not None, "a search needs the index"
        text = " ".join(part for part in (match, f"before:{before.strip()}" if before is not None else None) if part)
        sessions = [hit.summary for hit in search_history(keeper.open(), reader, script_query(text))]
        if empty:
            sessions = [s for s in sessions if s.event_count == 0]
    elif empty:
        sessions = [s for s in reader.list_summaries() if s.event_count == 0]
    keys = orphan_keys(client) if orphans else []
    counted = measure(client, [s.id for s in sessions], keys)
    return Selection(sessions, keys, counted[0], sum(s.event_count for s in sessions), counted[1])


def measure(client: DBClient, session_ids: Sequence[str], orphans: Sequence[StoredValue]) -> tuple[int, int]:
    """The orphan events and the bytes of every stored value of these sessions and their events (and orphans)."""
    return stored_size(client, session_ids, orphans)
