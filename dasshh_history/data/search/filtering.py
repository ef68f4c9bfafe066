"""The sessions each filter of a query keeps, read from what the sync noted in the cache (never the history).

``tool:`` reads ``calls``, ``is:failed`` the failed flag of ``docs``,
``after:``/``before:`` each session's last activity in ``activity``, and the
words of an ``in:title`` search ``title_words``.  Each answer is a byte map of
session rowids (see :mod:`~dasshh_history.data.search.marks`), read by SQLite in
one step, so filtering costs no Python loop over the sessions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

from dasshh_history.data.search.marks import either, numbered, read_marks
from dasshh_history.data.search.schema import SEQ_BITS, SEQ_MASK
from dasshh_history.domain.filters import (
    DateFilter,
    FailedFilter,
    Filter,
    ToolFilter,
    epoch_ms,
)
from dasshh_history.domain.query import SearchQuery, Term

#: Past every character a tool name can hold: ``name < prefix || this`` ends a prefix's range.
_LAST_CHAR = "char(1114111)"
#: The most tool names a ``tool:`` prefix stands for (the rest are left out).
MAX_NAMES = 1000
#: The key of ``is:failed`` among the answers kept; a tool's is ``tool:`` and its name.
FAILED_KEY = "is:failed"
_SPAN = f"BETWEEN (c.session << {SEQ_BITS}) + 1 AND (c.session << {SEQ_BITS}) | {SEQ_MASK}"


def facet_sql(key: str) -> tuple[str, object]:
    """A query of the sessions a filter matches (``tool:NAME`` or ``is:failed``), and its parameter."""
    if key == FAILED_KEY:
        return f"SELECT doc >> {SEQ_BITS} AS session FROM docs WHERE failed AND doc > ?1", 0
    return f"SELECT doc >> {SEQ_BITS} AS session FROM calls WHERE name = ?1", key.removeprefix("tool:")


def _changed_sql(key: str) -> tuple[str, object]:
    """The same among the sessions changed since the broad answers were worked out (``changed``)."""
    if key == FAILED_KEY:
        return (f"SELECT d.doc >> {SEQ_BITS} AS session FROM changed c JOIN docs d ON d.doc {_SPAN}"
                " WHERE d.failed AND d.doc > ?1", 0)
    return (f"SELECT k.doc >> {SEQ_BITS} AS session FROM changed c JOIN calls k ON k.doc {_SPAN}"
            " WHERE k.name = ?1", key.removeprefix("tool:"))


def broad_facets(conn: sqlite3.Connection, least: int) -> list[str]:
    """The filters with at least ``least`` rows (calls of a tool, failed results): their answers are kept."""
    tools = conn.execute("SELECT 'tool:' || name FROM calls GROUP BY name HAVING count(*) >= ?", (least,)).fetchall()
    (failed,) = conn.execute("SELECT count(*) >= ? FROM docs WHERE failed", (least,)).fetchone()
    return [key for (key,) in tools] + ([FAILED_KEY] if failed else [])


class Filtering:
    """The part of :class:`~dasshh_history.data.search.index.SearchIndex` that reads the filters.

    A mixin: the state is the index's (the caller holds its lock), and so is the term cache.
    """

    _conn: sqlite3.Connection
    _term_sessions: dict[str, bytes]
    _order_top: int
    tz: tzinfo | None
    clock: Callable[[], datetime]
    _broad_marks: Callable[[str, tuple[str, object] | None], bytes | None]
    _keep: Callable[[str, bytes], None]

    def _kept(self, key: str, read: Callable[[], bytes]) -> bytes:
        """An answer kept between keystrokes under ``key`` (the term cache's rules), else read and kept."""
        found = self._term_sessions.get(key)
        if found is None:
            found = read()
            self._keep(key, found)
        return found

    def _filter_marks(self, item: Filter, now: datetime) -> bytes:
        """The sessions ``item`` keeps; ``now`` (naive UTC) is what relative dates count back from."""
        conn, top = self._conn, self._order_top
        if isinstance(item, ToolFilter):
            if not item.prefix:
                return self._facet_marks(f"tool:{item.name}")
            return self._kept(f"tool:{item.name}*", lambda: self._tool_prefix_marks(item.name))
        if isinstance(item, FailedFilter):
            return self._facet_marks(FAILED_KEY)
        assert isinstance(item, DateFilter)
        bound = epoch_ms(item.bound(now, self.tz))
        compare = ">=" if item.after else "<"
        return read_marks(conn, f"SELECT session FROM activity WHERE last {compare} ?1", bound, top)

    def _facet_marks(self, key: str) -> bytes:
        """The sessions of one tool's calls or of the failed results: kept among the broad answers when
        there are many (patched with the sessions changed since), else read; kept between keystrokes."""

        def read() -> bytes:
            kept = self._broad_marks(key, _changed_sql(key))
            return kept if kept is not None else read_marks(self._conn, *facet_sql(key), self._order_top)

        return self._kept(key, read)

    def _tool_prefix_marks(self, prefix: str) -> bytes:
        """The sessions calling any tool whose name starts with ``prefix``: each name's answer, combined.

        The names are found one index seek each, so the calls of a tool are read once as its name is typed.
        """
        marks = b""
        name, after = prefix, ">="
        for _ in range(MAX_NAMES):
            (name,) = self._conn.execute(
                f"SELECT min(name) FROM calls WHERE name {after} ?1 AND name < ?2 || {_LAST_CHAR}", numbered(name, prefix)
            ).fetchone()
            if name is None:
                break
            marks, after = either(marks, self._facet_marks(f"tool:{name}")), ">"
        return marks

    def _title_marks(self, term: Term) -> bytes:
        """The sessions whose title matches ``term``."""
        expression = term.fts()
        found = "SELECT rowid AS session FROM title_words WHERE title_words MATCH ?1"
        return self._kept("title:" + expression, lambda: read_marks(self._conn, found, expression, self._order_top))

    def _first_filtered_doc(self, query: SearchQuery, base: int) -> int | None:
        """For a search without words: the first event of the session at ``base`` that a filter is about
        (its first failed result with ``is:failed``, else its first call of a ``tool:`` tool)."""
        low, high = base + 1, base | SEQ_MASK
        if any(isinstance(item, FailedFilter) for item in query.filters):
            row = self._conn.execute(
                "SELECT min(doc) FROM docs WHERE doc BETWEEN ? AND ? AND failed", (low, high)
            ).fetchone()
            return row[0]
        firsts: list[int] = []
        for tool in query.tools:
            # ``+name``: the session's few rows by ``doc``, not every call of the tool by ``name``.
            where = "+name >= ?3 AND +name < ?3 || " + _LAST_CHAR if tool.prefix else "+name = ?3"
            (first,) = self._conn.execute(
                f"SELECT min(doc) FROM calls WHERE doc BETWEEN ?1 AND ?2 AND {where}", numbered(low, high, tool.name)
            ).fetchone()
            if first is not None:
                firsts.append(first)
        return min(firsts, default=None)

    def _activity(self, session_ids: list[str]) -> dict[str, datetime | None]:
        """Each session's last activity (naive UTC; None when it has no readable date): what ``after:`` and
        ``before:`` compare.  Sessions not indexed yet are left out."""
        found: dict[str, datetime | None] = {}
        for start in range(0, len(session_ids), 500):
            chunk = session_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for session_id, last in self._conn.execute(
                "SELECT t.session_id, a.last FROM titles t JOIN activity a ON a.session = t.session_rowid"
                f" WHERE t.session_id IN ({marks})",
                chunk,
            ):
                found[session_id] = None if last is None else _from_ms(last)
        return found


def _from_ms(ms: int) -> datetime | None:
    """Milliseconds since 1970 as a naive UTC time; None out of the range of dates."""
    try:
        return datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    except OverflowError:
        return None
