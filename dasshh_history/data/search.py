"""Full-text search over every session: an SQLite FTS5 index kept beside the history.

The index lives in a cache file of its own (``~/.cache/dasshh-history/``), never
in dasshh's database: dasshh's rows and schema stay untouched, a read-only
history is searchable, and deleting the cache only costs a rebuild.  The cache
connection attaches the history read-only and :meth:`SearchIndex.sync` brings
the index in step with it: new events are indexed by rowid, events and sessions
removed by anyone are dropped, changed titles are indexed again.

One document per event (the text of its message, tool arguments and tool
results) and one per session title, in ``fts``: phrases and snippets come from
there.  The same text is indexed again per session, without positions, in
``words``: which sessions hold a word is one short posting list there, where
``fts`` would list every event (150,000 of them for "h" in 300,000 events).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import threading
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, compress, groupby
from operator import itemgetter
from pathlib import Path

from dasshh_history.data.client import BUSY_TIMEOUT_SECONDS, LIST_ORDER_SQL, DBClient, decode_text
from dasshh_history.domain.jsondepth import loads
from dasshh_history.domain.query import SearchQuery, Term

#: Bump when the index layout or the extracted text changes: the cache is rebuilt.
SCHEMA_VERSION = "3"  # 3: JSON nested deeper than MAX_JSON_DEPTH is indexed as text
#: Events read and indexed per transaction while building.
CHUNK = 2000
#: The most text indexed for one event.
MAX_TEXT = 1_000_000
#: The most text in one ``words`` document (a session's text is split over several when longer).
SEGMENT_TEXT = 4_000_000
#: After indexing this many events at once, both tables are merged into one b-tree segment each.
OPTIMIZE_AFTER = 20_000
#: ``words`` is rebuilt once this many of its documents are stale, and they are over a quarter of it.
STALE_SEGMENTS = 1000
#: A word or a prefix in at least this many ``words`` documents is broad: the sessions it matches are
#: kept in ``broad`` (looked up live, they took 25-40 ms with 50,000 sessions).
BROAD_DOCS = 10_000
#: At most this many broad words and prefixes are kept, the broadest first.
BROAD_MAX = 300
#: ``broad`` is worked out again once more sessions than this changed since.
BROAD_CHANGED = 2_000
#: Term results kept for the next keystrokes ("how f" reuses what "how" found).
TERM_CACHE = 64
#: One-letter prefixes looked up ahead when the search opens, commonest first word letters first:
#: the first key typed matches the most sessions of all and would otherwise be the slowest.
FIRST_KEYS = "tashwiobmfcldpnegryuvjkqzx0123456789"
#: Sessions with a rowid from here on are not searchable (dasshh counts from 1; a rowid set by hand can be
#: anything): the index's answers hold a byte per session rowid, and shifted by SEQ_BITS it must fit SQLite.
MAX_ROWID = 1 << 22
#: Session rowids are read as characters from this code point on (past the surrogates; see ``_read_marks``).
_CHAR_BASE = 0x10000
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_U32 = next(code for code in "ILH" if array(code).itemsize == 4)
#: Keys whose values say what a message is, not what it says.
_STRUCTURAL_KEYS = frozenset({"role", "id", "type", "tool_call_id", "index"})

# A document's rowid says whose it is: the session's rowid in the history,
# shifted left by SEQ_BITS, plus 0 for its title or 1, 2, ... for its events in
# the order they were indexed.  So matching sessions come straight out of the
# FTS posting lists, and one session's matches are a rowid range.
SEQ_BITS = 20
SEQ_MASK = (1 << SEQ_BITS) - 1
# ``words`` holds a session's text in segments, numbered the same way (its
# session's rowid, shifted, plus a counter).  Its table is contentless, so a
# segment is never deleted: ``segs`` marks it dead (a rename, a deleted
# session, an event gone) and searches skip it, until the table is rebuilt.
# ``broad`` keeps the sessions each of the broadest words and prefixes matches
# (compressed, a byte per session rowid), as they were when it was worked out;
# ``changed`` lists the sessions whose segments changed since, which a lookup
# asks again.  (Triggers on ``segs`` noting them made a first build 40 % slower.)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS docs (doc INTEGER PRIMARY KEY, event_rowid INTEGER NOT NULL, event_id TEXT);
CREATE INDEX IF NOT EXISTS docs_event ON docs (event_rowid);
CREATE TABLE IF NOT EXISTS titles (session_id TEXT PRIMARY KEY, session_rowid INTEGER NOT NULL, detail TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    body, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
CREATE TABLE IF NOT EXISTS segs (seg INTEGER PRIMARY KEY, title INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS segs_dead ON segs (seg) WHERE dead;
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(
    body, content = '', detail = none, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
CREATE TABLE IF NOT EXISTS broad (expr TEXT PRIMARY KEY, marks BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS changed (session INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO meta VALUES ('schema', '{SCHEMA_VERSION}');
"""

#: Progress of a build: (events indexed, events in the history).
Progress = Callable[[int, int], None]


def default_cache_path(db_path: Path) -> Path:
    """Where the index of a history lives: one file per database, under the user's cache directory."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dasshh-history"
    key = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    return base / f"search-{key}.db"


def searchable_text(raw: object) -> str:
    """The words of a stored ``content`` value: every string in it, JSON inside strings included.

    Keys and structural values (role, ids, types) are left out, so that
    searching "user" or "content" does not match every event.  Never raises.
    """
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    value = _loads(raw) if isinstance(raw, str) else raw
    parts = list(_strings(value)) if value is not None else [str(raw)]
    return "\n".join(parts)[:MAX_TEXT]


def _loads(text: str) -> object | None:
    """The JSON value of text, None when it is not JSON or nests deeper than the limit (indexed as text)."""
    try:
        return loads(text)
    except ValueError:
        return None


def _strings(value: object) -> Iterator[str]:
    """Strings and numbers in document order; inside JSON-in-a-string (tool arguments, results) keys too."""
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        item, nested = stack.pop()
        if isinstance(item, str):
            if item.lstrip()[:1] in ("{", "[") and (inner := _loads(item)) is not None:
                stack.append((inner, True))
            else:
                yield item
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if nested:
                    stack.extend([(inner, True), (str(key), True)])
                elif key not in _STRUCTURAL_KEYS:
                    stack.append((inner, False))
        elif isinstance(item, list):
            stack.extend((inner, nested) for inner in reversed(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            yield str(item)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The sessions that match a query, in list order."""

    query: SearchQuery
    session_ids: list[str]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one :meth:`SearchIndex.sync` changed."""

    added: int = 0
    removed: int = 0
    titles: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.titles)


class SearchIndex:
    """The FTS5 index of one history; safe to use from several threads (one at a time)."""

    def __init__(self, client: DBClient, *, path: Path | str | None = None) -> None:
        if client.db_path is None:
            raise ValueError("search needs a database file")
        self.client = client
        self.path = Path(path) if path is not None else default_cache_path(client.db_path)
        self._lock = threading.Lock()  # one statement (or one transaction) at a time on the connection
        # One sync at a time: a sync runs between statements of the others, and working out ``broad``
        # keeps a transaction open across them.
        self._sync_lock = threading.Lock()
        self._conn = self._open()
        # Answers kept between keystrokes, each valid while its database's data_version holds
        # (it changes when another connection commits; this connection's own writes clear them).
        self._term_sessions: dict[str, bytes] = {}  # FTS expression -> the sessions it matches (a byte each)
        self._term_version: int | None = None
        self._dead_segments: bool | None = None  # whether any segment of ``words`` is dead, when known
        self._broad_kept: bool | None = None  # whether ``broad`` was worked out, in this write
        self._order_rowids: list[int] = []  # every session's rowid, in list order
        self._order_ids: list[str] = []  # and its id
        self._order_version: int | None = None
        self._order_top = 0  # the largest of them

    def _open(self) -> sqlite3.Connection:
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._connect(str(self.path))
            if conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() != (SCHEMA_VERSION,):
                conn.close()
                self.path.unlink()
                conn = self._connect(str(self.path))
        except (OSError, sqlite3.Error):
            # No writable cache (or a broken one): an index in memory, rebuilt each run.
            if conn is not None:
                conn.close()
            self.path = Path(":memory:")
            conn = self._connect(":memory:")
        return conn

    def _connect(self, target: str) -> sqlite3.Connection:
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        conn.text_factory = decode_text
        try:
            conn.executescript(_SCHEMA)
            history = f"{self.client.db_path.resolve().as_uri()}?mode=ro"  # type: ignore[union-attr]
            conn.execute("ATTACH DATABASE ? AS hist", (history,))
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- keeping in step -------------------------------------------------------------

    def sync(self, progress: Progress | None = None, *, should_stop: Callable[[], bool] = lambda: False) -> SyncResult:
        """Bring the index in step with the history; cheap when nothing changed.

        Builds in transactions of :data:`CHUNK` events, so that searches run
        (on what is indexed so far) between them, and reports ``progress``.
        """
        self.client.check_file()
        with self._sync_lock:  # a sync started while another stops waits for it
            titles = self._sync_sessions()
            removed, missing, total = self._reconcile_events()
            added = self._index_events(progress, should_stop, missing, total)
            with self._lock:
                dead, segments = self._conn.execute(
                    "SELECT count(*) FILTER (WHERE dead), count(*) FROM segs"
                ).fetchone()
                if dead > STALE_SEGMENTS and dead * 4 > segments:
                    self._write(self._rebuild_words)
                elif added >= OPTIMIZE_AFTER:
                    self._write(_optimize)
                due = self._broad_due()
            if due and not should_stop():
                self._work_out_broad(should_stop)
        return SyncResult(added=added, removed=removed, titles=titles)

    def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``work`` in one transaction of the cache (the caller holds the lock)."""
        _begin(self._conn)
        self._broad_kept = None
        try:
            work(self._conn)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        finally:
            self._forget_terms()

    def _sync_sessions(self) -> int:
        """Index new and renamed titles; forget sessions that are gone (or came back as another row)."""
        with self._lock:
            conn = self._conn
            mark = conn.execute("SELECT value FROM meta WHERE key = 'updated_mark'").fetchone()
            changed_sql = (
                "SELECT s.id, s.rowid, s.detail, s.updated_at, t.session_id IS NULL FROM hist.sessions s "
                "LEFT JOIN titles t ON t.session_id = s.id "
                f"WHERE s.rowid < {MAX_ROWID} AND (t.session_id IS NULL OR t.detail IS NOT s.detail OR t.session_rowid != s.rowid)"
            )
            if mark is not None:  # renames and new sessions bump updated_at: look at the recent ones only
                changed = conn.execute(changed_sql + " AND (s.updated_at >= ? OR s.updated_at IS NULL)", mark).fetchall()
            else:
                changed = conn.execute(changed_sql).fetchall()
            (sessions,) = conn.execute(f"SELECT count(*) FROM hist.sessions WHERE rowid < {MAX_ROWID}").fetchone()
            (known,) = conn.execute("SELECT count(*) FROM titles").fetchone()
            new = sum(row[4] for row in changed)
            gone: list[tuple[str, int]] = []
            if known + new != sessions:  # something was deleted, or restored with an old date: compare all
                changed = conn.execute(changed_sql).fetchall()
                gone = conn.execute(
                    "SELECT session_id, session_rowid FROM titles t WHERE NOT EXISTS "
                    "(SELECT 1 FROM hist.sessions s WHERE s.id = t.session_id AND s.rowid = t.session_rowid)"
                ).fetchall()
            if not changed and not gone:
                return 0

            def apply(conn: sqlite3.Connection) -> None:
                for session_id, session_rowid in gone:
                    self._forget_session(session_id, session_rowid)
                newest = mark[0] if mark else None
                for session_id, session_rowid, detail, updated_at, new in changed:
                    if not isinstance(session_id, str):
                        continue
                    base = session_rowid << SEQ_BITS
                    if not new:  # renamed, or back as another row: its old title goes
                        old = conn.execute(
                            "SELECT session_rowid FROM titles WHERE session_id = ?", (session_id,)
                        ).fetchone()
                        if old is not None and old[0] != session_rowid:
                            self._forget_session(session_id, old[0])
                        conn.execute("UPDATE segs SET dead = 1 WHERE seg BETWEEN ? AND ? AND title", (base, base | SEQ_MASK))
                    text = detail[:MAX_TEXT] if isinstance(detail, str) else ""
                    conn.execute("INSERT OR REPLACE INTO fts (rowid, body, kind) VALUES (?, ?, 0)", (base, text))
                    self._add_segments(conn, session_rowid, [text], title=True)
                    conn.execute("INSERT OR REPLACE INTO titles VALUES (?, ?, ?)", (session_id, session_rowid, detail))
                    if isinstance(updated_at, str) and (newest is None or updated_at > newest):
                        newest = updated_at
                if newest is not None:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated_mark', ?)", (newest,))

            self._write(apply)
            return len(changed) + len(gone)

    def _forget_session(self, session_id: str, session_rowid: int) -> None:
        """Drop a session's title and every document in its rowid range."""
        low, high = session_rowid << SEQ_BITS, (session_rowid << SEQ_BITS) | SEQ_MASK
        self._conn.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM docs WHERE doc BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM titles WHERE session_id = ?", (session_id,))
        self._conn.execute("UPDATE segs SET dead = 1 WHERE seg BETWEEN ? AND ?", (low, high))
        self._note_change(self._conn, session_rowid)

    # ``words`` (the caller holds the lock and is inside a transaction)

    def _add_segments(self, conn: sqlite3.Connection, session_rowid: int, texts: Iterable[str], *, title: bool) -> None:
        """Index ``texts`` of one session in ``words``: one segment, or several when they are long.

        Only which words occur matters there, so each whitespace-separated chunk is indexed once
        (no token spans whitespace, so FTS reads the same words from the chunks as from the text).
        """
        base = session_rowid << SEQ_BITS
        (top,) = conn.execute("SELECT max(seg) FROM segs WHERE seg BETWEEN ? AND ?", (base, base | SEQ_MASK)).fetchone()
        seg = base if top is None else top + 1
        chunks: dict[str, None] = {}
        size = 0

        def flush() -> bool:
            nonlocal seg, chunks, size
            if seg > base | SEQ_MASK:  # a million segments for one session: start afresh
                self._rebuild_words(conn)
                return False
            conn.execute("INSERT INTO segs (seg, title) VALUES (?, ?)", (seg, int(title)))
            self._note_change(conn, session_rowid)
            conn.execute("INSERT INTO words (rowid, body) VALUES (?, ?)", (seg, " ".join(chunks)))
            seg, chunks, size = seg + 1, {}, 0
            return True

        for text in texts:
            for chunk in text.split():
                if chunk not in chunks:
                    chunks[chunk] = None
                    size += len(chunk) + 1
            if size > SEGMENT_TEXT and not flush():
                return
        if chunks or title:
            flush()

    def _reindex_events(self, conn: sqlite3.Connection, session_rowid: int) -> None:
        """Replace a session's event segments with one made from the events indexed now (some were dropped)."""
        base = session_rowid << SEQ_BITS
        conn.execute("UPDATE segs SET dead = 1 WHERE seg BETWEEN ? AND ? AND NOT title", (base, base | SEQ_MASK))
        self._note_change(conn, session_rowid)
        bodies = conn.execute("SELECT body FROM fts WHERE rowid BETWEEN ? AND ? ORDER BY rowid", (base + 1, base | SEQ_MASK))
        self._add_segments(conn, session_rowid, (body for (body,) in bodies), title=False)

    def _rebuild_words(self, conn: sqlite3.Connection) -> None:
        """Index every session in ``words`` again from ``fts``, leaving out the dead segments."""
        conn.execute("INSERT INTO words (words) VALUES ('delete-all')")
        conn.execute("DELETE FROM segs")
        _drop_broad(conn)  # worked out again after this sync
        rows = conn.execute(f"SELECT rowid >> {SEQ_BITS}, rowid & {SEQ_MASK}, body FROM fts ORDER BY rowid")
        for session_rowid, group in groupby(rows, key=itemgetter(0)):
            first = next(group)
            if first[1] == 0:  # the title comes first
                self._add_segments(conn, session_rowid, [first[2]], title=True)
                events = group
            else:
                events = chain([first], group)
            self._add_segments(conn, session_rowid, (body for _, _, body in events), title=False)

    def _reconcile_events(self) -> tuple[int, list[int], int]:
        """Drop documents of events that are gone; find old events not indexed (restored by an undo).

        Skipped, after two counts and a lookup, when the indexed events are all still there.
        Returns how many documents were dropped, the rowids to index, and the events in the history.
        """
        with self._lock:
            conn = self._conn
            last, indexed = conn.execute("SELECT coalesce(max(event_rowid), 0), count(*) FROM docs").fetchone()
            # count(*) of a whole table reads its smallest index; the new rows are a short range at the end.
            (total,) = conn.execute("SELECT count(*) FROM hist.events").fetchone()
            (new,) = conn.execute("SELECT count(*) FROM hist.events WHERE rowid > ?", (last,)).fetchone()
            (same_last,) = conn.execute(
                "SELECT (SELECT id FROM hist.events WHERE rowid = :r) IS "
                "(SELECT event_id FROM docs WHERE event_rowid = :r)",
                {"r": last},
            ).fetchone()
            if total - new == indexed and same_last:
                return 0, [], total
            stale = conn.execute(
                "SELECT doc FROM docs WHERE NOT EXISTS "
                "(SELECT 1 FROM hist.events e WHERE e.rowid = docs.event_rowid AND e.id IS docs.event_id)"
            ).fetchall()

            def drop(conn: sqlite3.Connection) -> None:
                for start in range(0, len(stale), 500):
                    chunk = stale[start:start + 500]
                    conn.executemany("DELETE FROM fts WHERE rowid = ?", chunk)
                    conn.executemany("DELETE FROM docs WHERE doc = ?", chunk)
                for session_rowid in sorted({doc >> SEQ_BITS for (doc,) in stale if doc > 0}):
                    self._reindex_events(conn, session_rowid)

            self._write(drop)
            missing = conn.execute(
                "SELECT rowid FROM hist.events e WHERE rowid <= ? AND NOT EXISTS "
                "(SELECT 1 FROM docs WHERE docs.event_rowid = e.rowid)",
                (last,),
            ).fetchall()
            return len(stale), [rowid for (rowid,) in missing], total

    _EVENTS = (
        "SELECT e.rowid, e.id, s.rowid, e.content FROM hist.events e "
        f"LEFT JOIN hist.sessions s ON s.id = e.session_id AND s.rowid < {MAX_ROWID} "
    )

    def _index_events(
        self, progress: Progress | None, should_stop: Callable[[], bool], missing: list[int], total: int
    ) -> int:
        """Index the ``missing`` rowids, then every event after the last indexed one; ``total`` is for progress."""
        with self._lock:
            last, done = self._conn.execute("SELECT coalesce(max(event_rowid), 0), count(*) FROM docs").fetchone()
        added = 0
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            added += self._index_rows(self._EVENTS + f"WHERE e.rowid IN ({marks}) ORDER BY e.rowid", chunk)
        while not should_stop():
            query = self._EVENTS + "WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?"
            count = self._index_rows(query, (last, CHUNK))
            if not count:
                break
            with self._lock:
                last = self._conn.execute("SELECT max(event_rowid) FROM docs").fetchone()[0]
            added += count
            if progress is not None:
                progress(done + added, max(total, done + added))
        return added

    def _index_rows(self, query: str, params: Sequence[object]) -> int:
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
            if not rows:
                return 0

            def insert(conn: sqlite3.Connection) -> None:
                next_seq: dict[int, int] = {}
                texts: dict[int, list[str]] = {}  # per session, for ``words``
                for event_rowid, event_id, session_rowid, content in rows:
                    if session_rowid is None:  # no such session: remembered, so it is not read again, not searchable
                        conn.execute("INSERT INTO docs VALUES (?, ?, ?)", (-event_rowid, event_rowid, event_id))
                        continue
                    base = session_rowid << SEQ_BITS
                    if session_rowid not in next_seq:
                        (top,) = conn.execute(
                            "SELECT coalesce(max(doc), ?) FROM docs WHERE doc BETWEEN ? AND ?",
                            (base, base, base | SEQ_MASK),
                        ).fetchone()
                        next_seq[session_rowid] = top - base + 1
                    seq = next_seq[session_rowid]
                    if seq >= 1 << SEQ_BITS:
                        continue  # over a million events in one session: the rest is not searchable
                    next_seq[session_rowid] = seq + 1
                    conn.execute("INSERT INTO docs VALUES (?, ?, ?)", (base + seq, event_rowid, event_id))
                    text = searchable_text(content)
                    conn.execute("INSERT INTO fts (rowid, body, kind) VALUES (?, ?, 1)", (base + seq, text))
                    texts.setdefault(session_rowid, []).append(text)
                for session_rowid, session_texts in texts.items():
                    self._add_segments(conn, session_rowid, session_texts, title=False)

            self._write(insert)
            return len(rows)

    # ``broad`` (see the note at _SCHEMA)

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
            _begin(conn)
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
            found: list[tuple[str, bytes]] = []
            for (expr,) in exprs:
                if should_stop():
                    raise _Stopped
                with self._lock:
                    found.append((expr, zlib.compress(self._read_marks(self._words_sql(), expr), 1)))
            with self._lock:
                _drop_broad(conn)
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

    def _broad_marks(self, expression: str) -> bytes | None:
        """The sessions a broad word or prefix matches, from ``broad`` and the sessions changed since;
        None when it is not kept there (the caller holds the lock)."""
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
            patch = self._read_marks(
                self._words_sql() + " AND rowid IN (SELECT seg FROM changed JOIN segs"
                f" ON seg BETWEEN session << {SEQ_BITS} AND (session << {SEQ_BITS}) | {SEQ_MASK} WHERE NOT dead)",
                expression,
            )
            return _either(bytes(marks), patch)
        return bytes(marks)

    # -- searching -------------------------------------------------------------------

    def search(self, query: SearchQuery, *, cancelled: Callable[[], bool] = lambda: False) -> SearchResult:
        """The sessions whose title or events match, newest first (as the session list orders them).

        Each term may match in another event of the session (or in its
        title).  The sessions each term matches are kept for the next
        keystrokes, and the list order is kept until the history changes, so
        typing on costs one new term.  ``cancelled`` is asked between terms:
        a search overtaken by newer keystrokes stops and returns nothing.
        """
        if not query:
            return SearchResult(query, [])
        with self._lock:
            rowids, ids = self._session_order()  # first: it says how rowids can be read
            matched: bytes | None = None
            for term in query.terms:
                if cancelled():
                    return SearchResult(query, [])
                marks = self._sessions_matching(term)
                matched = marks if matched is None else _both(matched, marks)
            if cancelled() or matched is None:
                return SearchResult(query, [])
            listed = _listed(matched, rowids, ids, self._order_top)
        return SearchResult(query, listed)

    def warm(self, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Read the list order and look up every one-letter prefix (see :data:`FIRST_KEYS`) ahead.

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

        A word is looked up in ``words``; a phrase needs the positions ``fts`` keeps.
        """
        (version,) = self._conn.execute("PRAGMA main.data_version").fetchone()
        if version != self._term_version:  # another process wrote this cache file
            self._forget_terms()
            self._term_version = version
        expression = term.fts()
        sessions = self._term_sessions.get(expression)
        if sessions is None:
            try:
                if len(term.tokens) == 1:  # one column, no positions: no column filter either
                    sessions = self._broad_marks(expression)
                    if sessions is None:
                        sessions = self._read_marks(self._words_sql(), expression)
                else:
                    found = f"SELECT DISTINCT rowid >> {SEQ_BITS} AS session FROM fts WHERE fts MATCH ?"
                    sessions = self._read_marks(found, _match_fts(expression))
            except sqlite3.OperationalError as exc:
                if "fts5" not in str(exc) and "syntax" not in str(exc):
                    raise
                sessions = b""  # never reaches the user; the query builder should not let this happen
            if len(self._term_sessions) >= TERM_CACHE:
                del self._term_sessions[next(iter(self._term_sessions))]
            self._term_sessions[expression] = sessions
        return sessions

    def _words_sql(self) -> str:
        """The sessions with a live ``words`` segment matching the parameter."""
        alive = " AND rowid NOT IN (SELECT seg FROM segs WHERE dead)" if self._has_dead_segments() else ""
        return f"SELECT DISTINCT rowid >> {SEQ_BITS} AS session FROM words WHERE words MATCH ?{alive}"

    def _read_marks(self, found: str, match: str) -> bytes:
        """One byte per session rowid, 1 for each session ``found`` (a query of ``session`` rowids) lists.

        The rowids come back in one row, as one character each (code point
        ``_CHAR_BASE + rowid``): a single step of SQLite, which runs without the
        GIL, and a string Python turns into numbers in one call.  Row by row,
        or as decimal text, turning tens of thousands of rowids into numbers
        held the GIL long enough to delay the UI thread, and be delayed by it,
        for tens of milliseconds.  Rowids too large for one character (over a
        million sessions, or rowids set by hand) are read as decimal text.
        """
        if self._order_top + _CHAR_BASE > sys.maxunicode:  # a rowid too large for one character
            (joined,) = self._conn.execute(f"SELECT group_concat(session) FROM ({found})", (match,)).fetchone()
            codes: Sequence[int] = [int(rowid) + _CHAR_BASE for rowid in joined.split(",")] if joined else []
        else:
            sql = f"SELECT group_concat(char({_CHAR_BASE} + session), '') FROM ({found})"
            (joined,) = self._conn.execute(sql, (match,)).fetchone()
            codes = array(_U32, (joined or "").encode(_UTF32))
        if not codes:
            return b""
        marks = bytearray(max(codes) + 1)
        for code in codes:
            marks[code] = 1
        return bytes(marks[_CHAR_BASE:])

    def _forget_terms(self) -> None:
        self._term_sessions.clear()
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
        if not query:
            return found
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
                    found[session_id] = query.snippet(text)
        return found

    def indexed_events(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM docs WHERE doc > 0").fetchone()[0]


def _listed(matched: bytes, rowids: list[int], ids: list[str], top: int) -> list[str]:
    """The ids whose rowid (``top`` the largest) is marked in ``matched``, in their order; the loop runs in C."""
    if len(rowids) < 2:  # itemgetter of one index gives a value, not a tuple
        return [sid for rowid, sid in zip(rowids, ids) if rowid < len(matched) and matched[rowid]]
    padded = matched + bytes(max(0, top + 1 - len(matched)))
    return list(compress(ids, itemgetter(*rowids)(padded)))


def _either(one: bytes, other: bytes) -> bytes:
    """Sessions marked in one or the other (one byte per session rowid, 0 or 1)."""
    size = max(len(one), len(other))
    either = int.from_bytes(one, "little") | int.from_bytes(other, "little")
    return either.to_bytes(size, "little")


def _both(one: bytes, other: bytes) -> bytes:
    """Sessions marked in both (one byte per session rowid, 0 or 1), as one big-integer AND."""
    size = min(len(one), len(other))
    both = int.from_bytes(one[:size], "little") & int.from_bytes(other[:size], "little")
    return both.to_bytes(size, "little")


def _begin(conn: sqlite3.Connection) -> None:
    """Start a write of the cache file, taking its write lock at once, and no lock on the history.

    ``BEGIN IMMEDIATE`` would take the write lock of every attached database:
    dasshh could not write its history until the cache's transaction ended
    (seconds, for an optimize or the broad answers), and gives up after 5 s.
    So a deferred ``BEGIN``, then a write to the cache's own ``meta``.  Nothing
    inside these transactions reads the history: that would hold a read lock
    on it, which also keeps dasshh from committing.
    """
    conn.execute("BEGIN")
    try:
        conn.execute("UPDATE main.meta SET value = value WHERE key = 'schema'")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class _Stopped(Exception):
    """Raised inside a long write that should stop: it is rolled back."""


def _drop_broad(conn: sqlite3.Connection) -> None:
    """Forget the broad answers (inside a write): worked out again at the end of the next sync."""
    conn.execute("DELETE FROM broad")
    conn.execute("DELETE FROM changed")
    conn.execute("DELETE FROM meta WHERE key = 'broad'")


def _optimize(conn: sqlite3.Connection) -> None:
    """Merge each FTS table into one b-tree segment: a build leaves many, which every query then reads."""
    conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    conn.execute("INSERT INTO words (words) VALUES ('optimize')")


def _match_fts(expression: str) -> str:
    """An FTS5 expression limited to the text column."""
    return "{body} : (" + expression + ")"
