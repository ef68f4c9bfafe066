"""Search from scripts: the sessions a query matches, each with its last activity and the text around its match.

No Textual here: the command line's ``search`` prints what :func:`search_history`
returns.  The index is brought up to date first (built on the first search of a
history); it lives in the search cache, never in dasshh's database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import chain, islice
from typing import Any

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.search import SearchIndex, SearchResult
from dasshh_history.domain.export import iso_utc
from dasshh_history.domain.query import SearchQuery
from dasshh_history.domain.text import cell_len, centre_on_match, format_timestamp, one_line, sanitize
from dasshh_history.domain.values import SessionSummary

#: Sessions read (and their snippets looked up) at a time.
BATCH = 200


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching session: its summary, its last activity (naive UTC), the text around its first match."""

    summary: SessionSummary
    last_active: datetime | None
    snippet: str


def script_query(text: str) -> SearchQuery:
    """A query given whole, from a script: its last word is a word, not a prefix being typed."""
    return SearchQuery.parse(text.rstrip() + " ")


def search_history(
    index: SearchIndex, reader: HistoryReader, query: SearchQuery, *, limit: int | None = None
) -> Iterator[Hit]:
    """The sessions ``query`` matches, newest first (every session for an empty query), at most ``limit``.

    Read in batches, so that the first lines come before the last are looked up.
    A session deleted after the search is left out.
    """
    if query:
        result = index.search(query)
    else:
        result = SearchResult(query, [summary.id for summary in reader.list_summaries(limit=limit)])
    ids = result.session_ids
    if limit is not None:
        ids = ids[:limit]
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        summaries = reader.list_summaries_by_ids(batch)
        present = [summary.id for summary in summaries]
        snippets = index.snippets(result, present)
        active = index.last_activity(present)
        for summary in summaries:
            last = active.get(summary.id, summary.updated_at)
            yield Hit(summary, last, snippets.get(summary.id, ""))


def hit_record(hit: Hit) -> dict[str, Any]:
    """A hit as JSON: the fields ``list --json`` gives, with ``last_active`` and ``snippet`` (times in UTC)."""
    s = hit.summary
    return {"id": s.id, "detail": s.detail, "created_at": iso_utc(s.created_at), "updated_at": iso_utc(s.updated_at),
            "last_active": iso_utc(hit.last_active), "event_count": s.event_count, "snippet": hit.snippet}


#: The title column's widest, in the table of hits; the match gets the rest of the line.
TITLE_WIDTH = 40
#: The narrowest the match column gets, whatever the terminal width.
MIN_MATCH_WIDTH = 30
_HEADER = ("ID", "LAST ACTIVE", "EVENTS", "TITLE", "MATCH")


def hit_lines(hits: Iterable[Hit], query: SearchQuery, width: int, tz: tzinfo | None = None) -> Iterator[str]:
    """A table, a line per hit: id, last activity (local time), events, title, and the text around the match,
    centred on it, cut to fit ``width``.  The columns are as wide as the first :data:`BATCH` hits need, so
    that lines are printed as the hits come."""
    pattern = query.pattern()
    hits = iter(hits)
    first = [_cells(hit, tz) for hit in islice(hits, BATCH)]
    widths = [max([len(_HEADER[i]), *(cell_len(row[i]) for row in first)]) for i in range(4)]
    widths[3] = min(widths[3], TITLE_WIDTH)
    match_width = max(MIN_MATCH_WIDTH, width - sum(widths) - 8)
    for row in chain([_HEADER], first, (_cells(hit, tz) for hit in hits)):
        sid, when, count, title, match = row
        cells = f"{sid:<{widths[0]}}  {when:<{widths[1]}}  {count:>{widths[2]}}  "
        title = one_line(title, widths[3])
        cells += title + " " * (widths[3] - cell_len(title)) + "  "
        yield (cells + (match if row is _HEADER else centre_on_match(match, pattern, match_width))).rstrip()


def _cells(hit: Hit, tz: tzinfo | None) -> tuple[str, str, str, str, str]:
    s = hit.summary
    return (" ".join(sanitize(str(s.id)).split()), format_timestamp(hit.last_active, tz), f"{s.event_count:,}",
            one_line(s.detail, TITLE_WIDTH), " ".join(sanitize(hit.snippet).split()))
