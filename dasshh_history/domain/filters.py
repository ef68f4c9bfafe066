"""Search filters: ``tool:NAME``, ``is:failed``, ``after:DATE``, ``before:DATE`` and ``in:title``.

Each filter is one ``key:value`` chunk of the query (``key:"quoted value"``
too); keys and values are read case-insensitively.  A chunk that is not a
known filter with a valid value is searched as words, never an error: a
query always parses.  While the last chunk is still being typed, a known key
whose value is not complete yet (``tool:``, ``is:fa``, ``after:2026-0``) is
left out, so that typing a filter does not search its letters meanwhile.

A session's date, for ``after:`` and ``before:``, is its last activity: the
latest of its ``updated_at`` and its events' ``created_at`` (stored as naive
UTC).  ``after:DATE`` keeps the sessions active at or after the start of that
local calendar day, ``before:DATE`` those whose last activity is before it
(so ``after:D before:E`` is the days from D up to, not including, E); a
session without any readable date passes neither.  ``7d``, ``2w``, ``3m``,
``1y`` are that many days, weeks, calendar months or years before now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

#: The filter keys: a chunk ``key:value`` with another key is searched as words.
KEYS = frozenset({"tool", "is", "after", "before", "in"})
#: The value of ``is:`` and of ``in:`` each filter knows.
IS_FAILED = "failed"
IN_TITLE = "title"

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE = re.compile(r"(\d{1,6})([dwmy])")
#: What a date still being typed may look like: digits (``2026``, ``7``), ``2026-0``, ``2026-03-1``.
_PARTIAL_DATE = re.compile(r"\d*|\d{4}-\d{0,2}|\d{4}-\d{2}-\d?")
#: A chunk that names a filter: letters, a colon, then the value.
_FILTER = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ToolFilter:
    """Sessions with a call of the tool ``name`` (lower case); any name starting with it while typed."""

    name: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class FailedFilter:
    """Sessions with a failed tool result (the timeline's rules, :mod:`~dasshh_history.domain.failure`)."""


@dataclass(frozen=True, slots=True)
class DateFilter:
    """Sessions last active at or after (``after``) or before (not ``after``) a moment.

    The moment is the start of the local calendar day ``day``, or, for a
    relative date, ``amount`` ``unit``\\ s (``d``, ``w``, ``m``, ``y``) before now.
    """

    after: bool
    day: date | None = None
    amount: int = 0
    unit: str = "d"

    def bound(self, now: datetime, tz: tzinfo | None = None) -> datetime:
        """The moment as naive UTC; ``now`` is naive UTC, ``tz`` the zone of calendar days (None: the system's).

        Never raises: a moment out of the range of dates is the first or last one there is.
        """
        try:
            if self.day is not None:
                return _to_utc(datetime.combine(self.day, time()), tz)
            if self.unit in "dw":
                return now - timedelta(days=self.amount * (7 if self.unit == "w" else 1))
            local = _to_local(now, tz)
            months = local.year * 12 + local.month - 1 - self.amount * (12 if self.unit == "y" else 1)
            year, month = divmod(months, 12)
            first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
            day = min(local.day, (first_of_next - timedelta(days=1)).day)
            return _to_utc(local.replace(year=year, month=month + 1, day=day), tz)
        except (OverflowError, ValueError, OSError):
            return datetime.min if self.day is None or self.day.year < 5000 else datetime.max


Filter = ToolFilter | FailedFilter | DateFilter
#: What a ``key:value`` chunk is: a filter, ``in:title``, INCOMPLETE (left out), or None (searched as words).
INCOMPLETE = "incomplete"


def read_filter(chunk: str, *, typing: bool, value: str | None = None) -> Filter | str | None:
    """What ``chunk`` (``key:value``, or ``key:`` with its quoted ``value`` given apart) asks.

    A filter; :data:`IN_TITLE` for ``in:title``; :data:`INCOMPLETE` for a
    known key whose value is still being typed (``typing``); None for words.
    """
    found = _FILTER.fullmatch(chunk)
    if found is None or found[1].lower() not in KEYS:
        return None
    key = found[1].lower()
    value = found[2] if value is None else value
    folded = value.strip().lower()
    if key == "tool":
        if not folded:
            return INCOMPLETE if typing else None
        return ToolFilter(folded, prefix=typing)
    if key in ("is", "in"):
        known = IS_FAILED if key == "is" else IN_TITLE
        if folded == known:
            return FailedFilter() if key == "is" else IN_TITLE
        return INCOMPLETE if typing and known.startswith(folded) else None
    after = key == "after"
    if _ISO_DAY.fullmatch(folded):
        try:
            return DateFilter(after, day=date.fromisoformat(folded))
        except ValueError:
            return None  # 2026-02-30: words
    if relative := _RELATIVE.fullmatch(folded):
        return DateFilter(after, amount=int(relative[1]), unit=relative[2])
    return INCOMPLETE if typing and _PARTIAL_DATE.fullmatch(folded) else None


def _to_utc(local: datetime, tz: tzinfo | None) -> datetime:
    """A naive local time (in ``tz``, None: the system's zone) as naive UTC."""
    aware = local.astimezone() if tz is None else local.replace(tzinfo=tz)
    return aware.astimezone(UTC).replace(tzinfo=None)


def _to_local(utc: datetime, tz: tzinfo | None) -> datetime:
    """A naive UTC time as naive local time (in ``tz``, None: the system's zone)."""
    return utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def epoch_ms(moment: datetime) -> int:
    """A naive UTC time as whole milliseconds since 1970, as the search index keeps dates."""
    return (moment - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
