"""What the session list shows: every session or a search's results, a page at a time, and where the highlight goes.

No Textual here: the browser screen calls these from its workers and hands
the results to the session list.  Everything raises the database's errors;
the screen reports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.search import SearchResult
from dasshh_history.data.session import SessionService
from dasshh_history.domain.query import SearchQuery
from dasshh_history.domain.values import SessionSummary
from dasshh_history.services.index_keeper import IndexKeeper

#: Rows read per page of the list (the session list's page size).
PAGE_SIZE = 40

#: Reads ``limit`` rows of the list from ``offset``; raises the database's errors.
Source = Callable[[int, int], list[SessionSummary]]


@dataclass(frozen=True)
class ListRead:
    """What the list shows for one query: the first page read, where the highlight goes, where more rows come from."""

    query: SearchQuery
    result: SearchResult | None  # None: every session, not a search
    total: int
    pages: dict[int, list[SessionSummary]]
    index: int
    source: Source


class Listing:
    """Reads the session list for a query: all sessions newest first (the documented service), or a search's."""

    def __init__(self, service: SessionService, reader: HistoryReader, index: IndexKeeper) -> None:
        self.service = service
        self.reader = reader
        self.index = index

    def page(self, offset: int, limit: int) -> list[SessionSummary]:
        """Rows of the whole list: through :meth:`SessionService.list_sessions`, message counts in one query."""
        return self.reader.list_summaries(offset=offset, limit=limit)

    def search_source(self, result: SearchResult) -> Source:
        """Rows for a search: the matching sessions, each with the text around its first match."""

        def read(offset: int, limit: int) -> list[SessionSummary]:
            ids = result.session_ids[offset:offset + limit]
            summaries = {s.id: s for s in self.reader.list_summaries_by_ids(ids)}
            snippets = self.index.open().snippets(result, ids)
            # A session deleted since the search keeps its row, so that rows do not shift under the cursor.
            return [
                dataclasses.replace(summaries[sid], snippet=snippets.get(sid, ""))
                if sid in summaries
                else SessionSummary(sid, "(deleted)", None, None, 0, snippet="")
                for sid in ids
            ]

        return read

    def read(
        self,
        query: SearchQuery,
        *,
        highlight_id: str | None = None,
        prefer_recent: bool = False,
        keep_index: int = 0,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> ListRead | None:
        """What the list shows for ``query``, with the page under the highlight read.

        The highlight goes to ``highlight_id`` (the session dasshh would open,
        with ``prefer_recent``) when it is listed, else to ``keep_index``.
        None when ``cancelled``.
        """
        result: SearchResult | None = None
        if query:
            result = self.index.open().search(query, cancelled=cancelled)
            if cancelled():
                return None
            source = self.search_source(result)
            total = len(result.session_ids)
            at = result.session_ids.index(highlight_id) if highlight_id in result.session_ids else None
        else:
            source = self.page
            total = self.reader.count_sessions()
            if prefer_recent:
                recent = self.service.get_recent_session()
                highlight_id = recent.id if recent else None
            at = self.reader.rank(session_id=highlight_id) if highlight_id else None
        at = min(keep_index, total - 1) if at is None else at
        page = max(at, 0) // PAGE_SIZE
        return ListRead(query, result, total, {page: source(page * PAGE_SIZE, PAGE_SIZE)}, at, source)
