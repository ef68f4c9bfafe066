"""SearchIndex, the index of one history, and its read path: search (words and filters), warm-up and snippets."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from dasshh_history.data.client import LIST_ORDER_SQL, DBClient
from dasshh_history.data.models import utcnow
from dasshh_history.data.search.broad import BroadAnswers
from dasshh_history.data.search.building import BuildLock
from dasshh_history.data.search.filtering import Filtering
from dasshh_history.data.search.marks import both, either, in_list_order, read_marks, session_ranges
from dasshh_history.data.search.schema import MAX_ROWID, SEQ_BITS, SEQ_MASK, default_cache_path, open_cache
from dasshh_history.data.search.sync import Syncing
from dasshh_history.domain.query import SearchQuery, Term
from dasshh_history.domain.secrets import mask_text

#: Term results kept for the next keystrokes ("how f" reuses what "how" found).
TERM_CACHE = 64
#: Ranges of session rowids an answer kept is brought up to date in, at most (see :func:`session_ranges`).
PATCH_RANGES = 16
#: Events another process indexed since an answer was kept past which it is looked up afresh, not patched.
PATCH_EVENTS = 20_000
#: One-letter prefixes looked up ahead when the search opens, commonest first word letters first:
#: the first key typed matches the most sessions of all and would otherwise be the slowest.
FIRST_KEYS = "tashwiobmfcldpnegryuvjkqzx0123456789"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The sessions that match a query, in list order."""

    query: SearchQuery
    session_ids: list[str]


class SearchIndex(Syncing, BroadAnswers, Filtering):
    """The FTS5 index of one history; safe to use from several threads (one at a time).

    The write path is :class:`Syncing`'s, the broad answers :class:`BroadAnswers`', the filters
    :class:`Filtering`'s.  Dates typed (``after:2026-03-14``) are calendar days in ``tz`` (None: the
    system's zone), and relative ones count back from ``clock()`` (naive UTC).
    """

    def __init__(
        self,
        client: DBClient,
        *,
        path: Path | str | None = None,
        tz: tzinfo | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if client.db_path is None:
            raise ValueError("search needs a database file")
        self.client = client
        self.tz = tz
        self.clock = clock
        self.path = Path(path) if path is not None else default_cache_path(client.db_path)
        self._lock = threading.Lock()  # one statement (or one transaction) at a time on the connection
        # One sync at a time: a sync runs between statements of the others, and working out ``broad``
        # keeps a transaction open across them.
        self._sync_lock = threading.Lock()
        self._conn, self.path = open_cache(self.path, client.db_path)
        #: Held by the sync writing the cache, whichever process runs it; none for an index in memory.
        self._build_lock = BuildLock(self.path) if str(self.path) != ":memory:" else None
        # Answers kept between keystrokes, each valid while its database's data_version holds
        # (it changes when another connection commits; this connection's own writes clear them).
        self._term_sessions: dict[str, bytes] = {}  # FTS expression -> the sessions it matches (a byte each)
        self._term_version: int | None = None
        self._growing = False
        self._term_shape: tuple[int, int] | None = None  # (titles, dead segments) the answers kept were read with
        self._term_top = 0  # the last event indexed when they were last checked
        self._term_upto: dict[str, int] = {}  # for each word answer kept: the last event indexed it holds
        self._dead_segments: bool | None = None  # whether any segment of ``words`` is dead, when known
        self._broad_kept: bool | None = None  # whether ``broad`` was worked out, in this write
        self._order_rowids: list[int] = []  # every session's rowid, in list order
        self._order_ids: list[str] = []  # and its id
        self._order_version: int | None = None
        self._order_top = 0  # the largest of them

    @property
    def growing(self) -> bool:
        """Whether another process is building this cache now (its keeper says so): its writes only add
        events, so the answers kept are brought up to date with them rather than forgotten (see
        :meth:`_check_term_version`).  Once it is over, every answer kept is forgotten."""
        return self._growing

    @growing.setter
    def growing(self, value: bool) -> None:
        if value == self._growing:
            return
        with self._lock:
            self._growing = value
            self._forget_terms()
            self._term_version = None  # the next search reads the version, and the growth, afresh

    @property
    def writing(self) -> bool:
        """Whether a sync of this index holds the cache's build lock now (from another thread)."""
        return self._build_lock is not None and self._build_lock.held

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- searching -------------------------------------------------------------------

    def search(
        self, query: SearchQuery, *, cancelled: Callable[[], bool] = lambda: False, now: datetime | None = None
    ) -> SearchResult:
        """The sessions whose title or events match, and that pass every filter, newest first (as the
        session list orders them); a query of filters alone lists every session that passes them.

        Each term may match in another event of the session (or in its
        title; with ``in:title`` only there).  The sessions each term and
        filter matches are kept for the next keystrokes (not those of a
        date, which depend on ``now``, by default ``clock()``), and the list
        order is kept until the history changes, so typing on costs one new
        term.  ``cancelled`` is asked between terms: a search overtaken by
        newer keystrokes stops and returns nothing.
        """
        if not query:
            return SearchResult(query, [])
        moment = now if now is not None else self.clock()
        with self._lock:
            rowids, ids = self._session_order()  # first: it says how rowids can be read
            self._check_term_version()
            matched: bytes | None = None
            steps: list[Callable[[], bytes]] = [
                (lambda term=term: self._title_marks(term)) if query.in_title
                else (lambda term=term: self._sessions_matching(term))
                for term in query.terms
            ]
            steps += [lambda item=item: self._filter_marks(item, moment) for item in query.filters]
            for step in steps:
                if cancelled():
                    return SearchResult(query, [])
                marks = step()
                matched = marks if matched is None else both(matched, marks)
            if cancelled():
                return SearchResult(query, [])
            listed = list(ids) if matched is None else in_list_order(matched, rowids, ids, self._order_top)
        return SearchResult(query, listed)

    def warm(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Read the list order and look up every one-letter prefix (see :data:`FIRST_KEYS`) ahead (also while
        another process builds: see :attr:`growing`).

        One lookup at a time, so that a search typed meanwhile waits for one at most.
        """
        with self._lock:
            self._session_order()
        for char in FIRST_KEYS:
            if should_stop():
                return
            with self._lock:
                self._sessions_matching(Term((char,), prefix=True))

    def _sessions_matching(self, term: Term) -> bytes:
        """The sessions with a document matching one term, as one byte per session rowid: 1 where it
        matches (the caller holds the lock).  A few tens of kilobytes where a set of the rowids would
        take megabytes.

        A word is looked up in ``words``; a phrase needs the positions ``fts`` keeps.  An answer kept
        while another process builds is brought up to date with the sessions it indexed since.
        """
        self._check_term_version()
        expression = term.fts()
        sessions = self._term_sessions.get(expression)
        upto = self._term_upto.get(expression, self._term_top)
        if sessions is not None and upto < self._term_top:
            ranges = self._sessions_indexed_since(upto)
            sessions = None if ranges is None else either(sessions, self._read_term(term, ranges))
        if sessions is None:
            sessions = self._broad_marks(expression) if len(term.tokens) == 1 else None
            if sessions is None:
                sessions = self._read_term(term)
        if self._term_sessions.get(expression) is not sessions:
            self._keep(expression, sessions)
            self._term_upto[expression] = self._term_top
        return sessions

    def _read_term(self, term: Term, ranges: list[tuple[int, int]] | None = None) -> bytes:
        """The sessions matching one term, looked up (only among the sessions in ``ranges``, when given)."""
        expression = term.fts()
        if len(term.tokens) == 1:  # one column, no positions: no column filter either
            found, match = self._words_sql(), expression
        else:
            found, match = f"SELECT rowid >> {SEQ_BITS} AS session FROM fts WHERE fts MATCH ?1", _match_fts(expression)
        try:
            if ranges is None:
                return read_marks(self._conn, found, match, self._order_top)
            marks = b""
            for first, last in ranges:
                within = f" AND rowid BETWEEN {first << SEQ_BITS} AND {(last << SEQ_BITS) | SEQ_MASK}"
                marks = either(marks, read_marks(self._conn, found + within, match, self._order_top))
            return marks
        except sqlite3.OperationalError as exc:
            if "fts5" not in str(exc) and "syntax" not in str(exc):
                raise
            return b""  # never reaches the user; the query builder should not let this happen

    def _sessions_indexed_since(self, upto: int) -> list[tuple[int, int]] | None:
        """The sessions with events indexed after the event ``upto``, as ranges; None when too many events were."""
        if self._term_top - upto > PATCH_EVENTS:
            return None
        sessions = self._conn.execute(
            f"SELECT DISTINCT doc >> {SEQ_BITS} FROM docs WHERE event_rowid > ?", (upto,)
        ).fetchall()
        return session_ranges((session for (session,) in sessions), PATCH_RANGES)

    def _keep(self, key: str, sessions: bytes) -> None:
        """Keep an answer for the next keystrokes (words' and filters'): the oldest goes past TERM_CACHE."""
        self._term_sessions.pop(key, None)  # the newest last
        if len(self._term_sessions) >= TERM_CACHE:
            oldest = next(iter(self._term_sessions))
            del self._term_sessions[oldest]
            self._term_upto.pop(oldest, None)
        self._term_sessions[key] = sessions

    def _check_term_version(self) -> None:
        """Forget the answers kept between keystrokes once another process wrote this cache file.

        While another process builds it (:attr:`growing`), writing several times a second, its writes
        only add events: the answers of words are kept, and each is brought up to date with the
        sessions indexed since when next asked (see :meth:`_sessions_matching`), so that the words typed
        before, and the one-letter prefixes looked up ahead, are not looked up again at every key.  Not
        when a title was added or changed, or a segment died: every answer is forgotten then.
        """
        (version,) = self._conn.execute("PRAGMA main.data_version").fetchone()
        if version == self._term_version:
            return
        self._term_version = version
        if self._growing:
            top, shape = self._growth()
            if shape == self._term_shape and top >= self._term_top:
                self._term_top = top
                for key in [key for key in self._term_sessions if key not in self._term_upto]:
                    if not key.startswith("title:"):  # filters' answers: read again
                        del self._term_sessions[key]
                return
        self._forget_terms()
        self._term_top, self._term_shape = self._growth() if self._growing else (0, None)

    def _growth(self) -> tuple[int, tuple[int, int]]:
        """The last event indexed, and what says whether only events were added: the last title row
        written and the count of dead segments."""
        (top,) = self._conn.execute("SELECT coalesce(max(event_rowid), 0) FROM docs").fetchone()
        (titles,) = self._conn.execute("SELECT coalesce(max(rowid), 0) FROM titles").fetchone()
        (dead,) = self._conn.execute("SELECT count(*) FROM segs WHERE dead").fetchone()
        return top, (titles, dead)

    def _words_sql(self) -> str:
        """The sessions with a live ``words`` segment matching the parameter."""
        alive = " AND rowid NOT IN (SELECT seg FROM segs WHERE dead)" if self._has_dead_segments() else ""
        return f"SELECT rowid >> {SEQ_BITS} AS session FROM words WHERE words MATCH ?1{alive}"

    def _forget_terms(self) -> None:
        self._term_sessions.clear()
        self._term_upto.clear()
        self._dead_segments = None

    def _has_dead_segments(self) -> bool:
        if self._dead_segments is None:
            self._dead_segments = self._conn.execute("SELECT EXISTS (SELECT 1 FROM segs WHERE dead)").fetchone()[0] == 1
        return self._dead_segments

    def _session_order(self) -> tuple[list[int], list[str]]:
        """The rowids and ids of every session in the history, in list order; read again once it changed."""
        (version,) = self._conn.execute("PRAGMA hist.data_version").fetchone()
        if version != self._order_version or not self._order_ids:
            rows = [
                (rowid, session_id)
                for rowid, session_id in self._conn.execute(
                    f"SELECT rowid, id FROM hist.sessions WHERE rowid < {MAX_ROWID} ORDER BY {LIST_ORDER_SQL}"
                )
                if isinstance(session_id, str)
            ]
            self._order_rowids = [rowid for rowid, _ in rows]
            self._order_ids = [session_id for _, session_id in rows]
            self._order_version = version
            self._order_top = max(self._order_rowids, default=0)
        return self._order_rowids, self._order_ids

    def snippets(self, result: SearchResult, session_ids: Iterable[str]) -> dict[str, str]:
        """For each session, the text around its first match: in its first event with every term,
        else in its title if that has them all, else the first with any term.

        The index is asked with :meth:`SearchQuery.seekable` (long prefixes
        cut to what the prefix index holds, so a range of rowids is cheap to
        seek); each candidate is then checked against the query itself.
        """
        query = result.query
        found: dict[str, str] = {}
        if not query or query.in_title:  # with in:title the row shows the match in its title
            return found
        if not query.terms:
            return self._filter_snippets(query, session_ids)
        seek = _match_fts(" OR ".join(term.fts() for term in query.seekable().terms))
        with self._lock:
            for session_id in session_ids:
                row = self._conn.execute("SELECT session_rowid FROM titles WHERE session_id = ?", (session_id,)).fetchone()
                if row is None:
                    continue
                base = row[0] << SEQ_BITS
                try:
                    # The title (seq 0, when it has a term) and the first events with any term, in one seek.
                    candidates = self._conn.execute(
                        "SELECT rowid, body FROM fts WHERE fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT 21",
                        (seek, base, base | SEQ_MASK),
                    ).fetchall()
                except sqlite3.OperationalError:
                    continue
                title = [body for rowid, body in candidates if rowid == base and isinstance(body, str)]
                texts = [body for rowid, body in candidates if rowid != base and isinstance(body, str)] + title
                text = next((body for body in texts if query.matches(body)), texts[0] if texts else None)
                if text is not None:
                    found[session_id] = query.snippet(mask_text(text))  # a secret never shown whole
        return found

    def _filter_snippets(self, query: SearchQuery, session_ids: Iterable[str]) -> dict[str, str]:
        """For a search of filters alone: the start of each session's first failed result (``is:failed``),
        else of its first call of the tool (``tool:``); nothing for dates alone."""
        found: dict[str, str] = {}
        with self._lock:
            for session_id in session_ids:
                row = self._conn.execute("SELECT session_rowid FROM titles WHERE session_id = ?", (session_id,)).fetchone()
                doc = self._first_filtered_doc(query, row[0] << SEQ_BITS) if row is not None else None
                if doc is None:
                    continue
                body = self._conn.execute("SELECT body FROM fts WHERE rowid = ?", (doc,)).fetchone()
                if body is not None and isinstance(body[0], str):
                    found[session_id] = query.snippet(mask_text(body[0]))
        return found

    def last_activity(self, session_ids: list[str]) -> dict[str, datetime | None]:
        """Each session's last activity (naive UTC), the date ``after:`` and ``before:`` compare."""
        with self._lock:
            return self._activity(session_ids)

    def indexed_events(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM docs WHERE doc > 0").fetchone()[0]


def _match_fts(expression: str) -> str:
    """An FTS5 expression limited to the text column."""
    return "{body} : (" + expression + ")"
