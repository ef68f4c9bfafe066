"""The browser's ``s``: the session list's order, cycled, and kept for every later read of the list in this run."""

from __future__ import annotations

from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder
from dasshh_history.services.listing import list_title


class SortKeys:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: what ``s`` does.

    The list is read again in the next order (a search's results too), the
    highlight staying on its session; live refresh, searches and actions read
    it in that order until ``s`` is pressed again.
    """

    #: The order the list is read in (the last one asked for).
    list_order: ListOrder = DEFAULT_ORDER
    #: The order the list shows (the last read that came back).
    listed_order: ListOrder = DEFAULT_ORDER

    def action_sort(self) -> None:
        self.list_order = self.list_order.next()
        sessions = self.session_list
        # The first read of an order over a long history takes a moment: the title says it is coming.
        sessions.border_title = list_title(sessions.total, searching=bool(self.listed_query), order=self.list_order,
                                           sorting=True)
        self.load_sessions(highlight_id=self._current_id(), keep_index=sessions.highlighted or 0)

    def _load_sessions_failed(self, error: BaseException) -> bool:
        """A read of the list that failed leaves it as it was, in its order; the error is said as any other."""
        if self.list_order != self.listed_order:
            self.list_order = self.listed_order
            self.session_list.border_title = list_title(self.session_list.total, searching=bool(self.listed_query),
                                                        order=self.listed_order)
        return False
