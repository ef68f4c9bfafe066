"""The broad answers kept in the cache: the sessions each of the broadest words, prefixes and filters matches.

Looked up live, a word or a prefix in most sessions ("h", "the") takes tens of
milliseconds; its answer is kept in ``broad`` instead, with the sessions
changed since in ``changed`` (see the note at ``_SCHEMA`` in
:mod:`~dasshh_history.data.search.schema`).  So is the answer of a ``tool:``
filter of a tool called that often, and of ``is:failed`` when that many
results failed (see :mod:`~dasshh_history.data.search.filtering`).
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable

from dasshh_history.data.search.filtering import broad_facets, facet_sql
from dasshh_history.data.search.marks import either, read_marks
from dasshh_history.data.search.schema import SEQ_BITS, SEQ_MASK, begin

#: A word or a prefix in at least this many ``words`` documents is broad: the sessions it matches are
#: kept in ``broad`` (looked up live, they took 25-40 ms with 50,000 sessions).
BROAD_DOCS = 10_000
#: At most this many broad words and prefixes are kept, the broadest first.
BROAD_MAX = 300
#: ``broad`` is worked out again once more sessions than this changed since.
BROAD_CHANGED = 2_000


class _Stopped(Exception):
    """Raised inside a long write that should stop: it is rolled back."""


def drop_broad(conn: sqlite3.Connection) -> None:
    """Forget the broad answers (inside a write): worked out again at the end of the next sync."""
    conn.execute("DELETE FROM broad")
    conn.execute("DELETE FROM changed")
    conn.execute("DELETE FROM meta WHERE key = 'broad'")


class BroadAnswers:
    """The part of :class:`~dasshh_history.data.search.index.SearchIndex` that keeps ``broad``.

    A mixin: the state is the index's, and so are ``_session_order``,
    ``_words_sql`` and ``_forget_terms``.
    """

    _conn: sqlite3.Connection
    _lock: threading.Lock
    _broad_kept: bool | None
    _order_top: int

    def _broad_due(self) -> bool:
        """Whether ``broad`` should be worked out (again); the caller holds the lock."""
        done = self._conn.execute("SELECT value FROM meta WHERE key = 'broad'").fetchone()
        return done is None or self._conn.execute(
            "SELECT count(*) > ? FROM changed", (BROAD_CHANGED,)
        ).fetchone()[0] == 1

    def _work_out_broad(self, should_stop: Callable[[], bool]) -> None:
        """Find the broadest words and prefixes and keep the sessions each matches.

        All in one write transaction of the cache, so that no other process
        changes ``words`` meanwhile; the lock is let go between lookups, so
        that a search typed meanwhile waits for one at most.
        """
        conn = self._conn
        with self._lock:
            self._session_order()  # says how rowids can be read
            conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, words, row)")
            begin(conn)
        try:
            with self._lock:
                prefixes = " UNION ALL ".join(
                    f"SELECT '\"' || substr(term, 1, {n}) || '\"*', sum(doc) FROM temp.vocab"
                    f" WHERE length(term) >= {n} GROUP BY substr(term, 1, {n})"
                    for n in (1, 2, 3)
                )
                exprs = conn.execute(
                    f"SELECT expr FROM (SELECT '\"' || term || '\"' AS expr, doc AS docs FROM temp.vocab"
                    f" UNION ALL {prefixes}) WHERE docs >= ? ORDER BY docs DESC LIMIT ?",
                    (BROAD_DOCS, BROAD_MAX),
                ).fetchall()
                facets = broad_facets(conn, BROAD_DOCS)
            found: list[tuple[str, bytes]] = []
            for expr, (sql, match) in [*((expr, (self._words_sql(), expr)) for (expr,) in exprs),
                                       *((key, facet_sql(key)) for key in facets)]:
                if should_stop():
                    raise _Stopped
                with self._lock:
                    marks = read_marks(conn, sql, match, self._order_top)
                    found.append((expr, zlib.compress(marks, 1)))
            with self._lock:
                drop_broad(conn)
                conn.executemany("INSERT INTO broad VALUES (?, ?)", found)
                conn.execute("INSERT INTO meta VALUES ('broad', ?)", (str(len(found)),))
                conn.execute("COMMIT")
        except BaseException as exc:
            with self._lock:
                conn.execute("ROLLBACK")
            if not isinstance(exc, _Stopped):
                raise
        finally:
            self._forget_terms()

    def _note_change(self, conn: sqlite3.Connection, session_rowid: int) -> None:
        """Note that a session's segments changed, once ``broad`` was worked out (inside a write).

        Noted even when no word was broad then: the count of changes is also
        what makes a history that grew have its broad answers worked out.
        """
        if self._broad_kept is None:
            self._broad_kept = conn.execute("SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'broad')").fetchone()[0] == 1
        if self._broad_kept:
            conn.execute("INSERT OR IGNORE INTO changed VALUES (?)", (session_rowid,))

    def _broad_marks(self, expression: str, patch: tuple[str, object] | None = None) -> bytes | None:
        """The sessions a broad word or prefix (or filter) matches, from ``broad`` and the sessions changed
        since; None when it is not kept there (the caller holds the lock).

        ``patch`` is a filter's query of the changed sessions that match, and its parameter.
        """
        row = self._conn.execute(
            "SELECT marks, (SELECT group_concat(session) FROM changed), (SELECT count(*) FROM changed)"
            " FROM broad WHERE expr = ?",
            (expression,),
        ).fetchone()
        if row is None or row[2] > BROAD_CHANGED:
            return None
        marks = bytearray(zlib.decompress(row[0]))
        if row[1]:
            for session in map(int, row[1].split(",")):
                if 0 <= session < len(marks):
                    marks[session] = 0
            if patch is None:
                patch = (
                    self._words_sql() + " AND rowid IN (SELECT seg FROM changed JOIN segs"
                    f" ON seg BETWEEN session << {SEQ_BITS} AND (session << {SEQ_BITS}) | {SEQ_MASK} WHERE NOT dead)",
                    expression,
                )
            return either(bytes(marks), read_marks(self._conn, patch[0], patch[1], self._order_top))
        return bytes(marks)
