"""What the session list shows: every session or a search's results, in the chosen order, a page at a time, and where
the highlight goes.

No Textual here: the browser screen calls these from its workers and hands
the results to the session list.  Everything raises the database's errors;
the screen reports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.ordering import SessionOrders
from dasshh_history.data.search import SearchResult
from dasshh_history.data.session import SessionService
from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder
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
    order: ListOrder = DEFAULT_ORDER

    @property
    def title(self) -> str:
        """The list's title: what it lists, how many, in which order (``Sessions (1,234) · by size``)."""
        return list_title(self.total, searching=self.result is not None, order=self.order)


def list_title(total: int, *, searching: bool, order: ListOrder, sorting: bool = False) -> str:
    """The list's title; with ``sorting``, while the list is being read in ``order``."""
    what = f"{'Search' if searching else 'Sessions'} ({total:,})"
    return f"{what} · sorting {order.label}…" if sorting else f"{what} · {order.label}"


class Listing:
    """Reads the session list for a query and an order: all sessions (newest ``updated_at`` first through the
    documented service, other orders from :class:`SessionOrders`), or a search's."""

    def __init__(
        self, service: SessionService, reader: HistoryReader, index: IndexKeeper, orders: SessionOrders | None = None
    ) -> None:
        self.service = service
        self.reader = reader
        self.index = index
        self.orders = orders if orders is not None else SessionOrders(reader.db_client)

    def close(self) -> None:
        self.orders.close()

    def page(self, offset: int, limit: int) -> list[SessionSummary]:
        """Rows of the whole list: through :meth:`SessionService.list_sessions`, message counts in one query."""
        return self.reader.list_summaries(offset=offset, limit=limit)

    def ids_source(self, session_ids: list[str], result: SearchResult | None = None) -> Source:
        """Rows for a list of ids (a search's, with the text around each first match, or every session in an order)."""

        def read(offset: int, limit: int) -> list[SessionSummary]:
            ids = session_ids[offset:offset + limit]
            summaries = {s.id: s for s in self.reader.list_summaries_by_ids(ids)}
            snippets = self.index.open().snippets(result, ids) if result is not None else {}
            snippet = "" if result is not None else None
            # A session deleted since the ids were read keeps its row, so that rows do not shift under the cursor.
            return [
                dataclasses.replace(summaries[sid], snippet=snippets.get(sid, snippet))
                if sid in summaries
                else SessionSummary(sid, "(deleted)", None, None, 0, snippet=snippet)
                for sid in ids
            ]

        return read

    def search_source(self, result: SearchResult) -> Source:
        """Rows for a search: the matching sessions, each with the text around its first match."""
        return self.ids_source(result.session_ids, result)

    def in_order(self, result: SearchResult, order: ListOrder) -> SearchResult:
        """A search's result (in the default order) in ``order``: the same sessions, as many."""
        if order is DEFAULT_ORDER or len(result.session_ids) < 2:
            return result
        matched = set(result.session_ids)
        ids = [sid for sid in self.orders.ids(order) if sid in matched]
        if len(ids) < len(matched):  # added since the order was read: after the rest, in the default order
            listed = set(ids)
            ids += [sid for sid in result.session_ids if sid not in listed]
        return dataclasses.replace(result, session_ids=ids)

    def read(
        self,
        query: SearchQuery,
        *,
        highlight_id: str | None = None,
        prefer_recent: bool = False,
        keep_index: int = 0,
        order: ListOrder = DEFAULT_ORDER,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> ListRead | None:
        """What the list shows for ``query`` in ``order``, with the page under the highlight read.

        The highlight goes to ``highlight_id`` (the session dasshh would open,
        with ``prefer_recent``) when it is listed, else to ``keep_index``.
        None when ``cancelled``.
        """
        result: SearchResult | None = None
        if query:
            result = self.index.open().search(query, cancelled=cancelled)
            if cancelled():
                return None
            result = self.in_order(result, order)
            source = self.search_source(result)
            total = len(result.session_ids)
            at = _position(result.session_ids, highlight_id)
        else:
            if prefer_recent:
                recent = self.service.get_recent_session()
                highlight_id = recent.id if recent else None
            if order is DEFAULT_ORDER:
                source = self.page
                total = self.reader.count_sessions()
                at = self.reader.rank(session_id=highlight_id) if highlight_id else None
            else:
                if cancelled():  # overtaken already: no need to read the order (the first read of one takes a while)
                    return None
                ids = self.orders.ids(order)
                source = self.ids_source(ids)
                total = len(ids)
                at = _position(ids, highlight_id)
        at = min(keep_index, total - 1) if at is None else at
        page = max(at, 0) // PAGE_SIZE
        return ListRead(query, result, total, {page: source(page * PAGE_SIZE, PAGE_SIZE)}, at, source, order)


def _position(ids: list[str], session_id: str | None) -> int | None:
    """Where ``session_id`` is in ``ids``, or None."""
    try:
        return ids.index(session_id) if session_id is not None else None
    except ValueError:
        return None
