"""The browser's ``s``: the session list's order, cycled, and kept for every later read of the list in this run."""

from __future__ import annotations

from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder
from dasshh_history.services.listing import list_title

#: Seconds a new order may take to read before the title says it is being read (most are read sooner).
SAY_SORTING_AFTER = 0.15


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
        self.remember(sort=self.list_order)  # kept for the next start
        sessions = self.session_list
        self.load_sessions(highlight_id=self._current_id(), keep_index=sessions.highlighted or 0)
        self.set_timer(SAY_SORTING_AFTER, self._say_sorting)

    def _say_sorting(self) -> None:
        """The first read of an order over a long history takes a moment: while it runs, the title says it is coming."""
        if self.list_order != self.listed_order:
            self.session_list.list_title = list_title(self.session_list.total, searching=bool(self.listed_query),
                                                        order=self.list_order, sorting=True)

    def _load_sessions_failed(self, error: BaseException) -> bool:
        """A read of the list that failed leaves it as it was, in its order; the error is said as any other."""
        if self.list_order != self.listed_order:
            self.list_order = self.listed_order
            self.session_list.list_title = list_title(self.session_list.total, searching=bool(self.listed_query),
                                                        order=self.listed_order)
        return False
