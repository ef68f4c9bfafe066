"""The orders the session list can be sorted in, cycled with ``s``; the first is the default.

Every order puts the larger value first and, among equal ones, the first
inserted session (smallest rowid) first, so that the list is the same at each
read; but of equal creation times the last inserted first, as it was created
later (the sessions one dasshh run creates share one ``created_at``).  The
default compares the stored ``updated_at`` as dasshh's own ``ORDER BY`` does;
the others compare dates as dates, to the millisecond, and list last a
session without one that reads as a date.
"""

from __future__ import annotations

from enum import Enum


class ListOrder(Enum):
    """One order of the session list; its value is what the list's title says (``Sessions (12) · by size``)."""

    #: ``updated_at``, newest first: dasshh's own order (the first listed is the session it opens at its start).
    UPDATED = "by last update"
    #: The latest of ``updated_at`` and the session's events' ``created_at``: what ``after:``/``before:`` compare.
    ACTIVITY = "by last activity"
    #: ``created_at``, newest first (of equal times, the last inserted first).
    CREATED = "by creation"
    #: The number of messages (events), most first.
    SIZE = "by size"

    @property
    def label(self) -> str:
        return self.value

    def next(self) -> ListOrder:
        """The order ``s`` goes to from this one (after the last, the first again)."""
        orders = list(ListOrder)
        return orders[(orders.index(self) + 1) % len(orders)]


#: The order the list opens in.
DEFAULT_ORDER = ListOrder.UPDATED
