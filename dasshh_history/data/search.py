"""Full-text search over every session: an SQLite FTS5 index kept beside the history.

The index lives in a cache file of its own (``~/.cache/dasshh-history/``), never
in dasshh's database: dasshh's rows and schema stay untouched, a read-only
history is searchable, and deleting the cache only costs a rebuild.  The cache
connection attaches the history read-only and :meth:`SearchIndex.sync` brings
the index in step with it: new events are indexed by rowid, events and sessions
removed by anyone are dropped, changed titles are indexed again.

One document per event (the text of its message, tool arguments and tool
results) and one per session title.  Each document also carries its session id
as a token, so the first match inside one session is a cheap intersection.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dasshh_history.data.client import BUSY_TIMEOUT_SECONDS, DBClient
from dasshh_history.data.query import SearchQuery

#: Bump when the index layout or the extracted text changes: the cache is rebuilt.
SCHEMA_VERSION = "1"
#: Events read and indexed per transaction while building.
CHUNK = 2000
#: The most text indexed for one event.
MAX_TEXT = 1_000_000
#: Keys whose values say what a message is, not what it says.
_STRUCTURAL_KEYS = frozenset({"role", "id", "type", "tool_call_id", "index"})

# A document's rowid says whose it is: the session's rowid in the history,
# shifted left by SEQ_BITS, plus 0 for its title or 1, 2, ... for its events in
# the order they were indexed.  So matching sessions come straight out of the
# FTS posting lists, and one session's matches are a rowid range.
SEQ_BITS = 20
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS docs (doc INTEGER PRIMARY KEY, event_rowid INTEGER NOT NULL, event_id TEXT);
CREATE INDEX IF NOT EXISTS docs_event ON docs (event_rowid);
CREATE TABLE IF NOT EXISTS titles (session_id TEXT PRIMARY KEY, session_rowid INTEGER NOT NULL, detail TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    body, kind UNINDEXED, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
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
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
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
        self._lock = threading.Lock()
        self._conn = self._open()

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
        titles = self._sync_sessions()
        removed, missing, total = self._reconcile_events()
        added = self._index_events(progress, should_stop, missing, total)
        return SyncResult(added=added, removed=removed, titles=titles)

    def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``work`` in one transaction of the cache (the caller holds the lock)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            work(self._conn)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def _sync_sessions(self) -> int:
        """Index new and renamed titles; forget sessions that are gone (or came back as another row)."""
        with self._lock:
            conn = self._conn
            mark = conn.execute("SELECT value FROM meta WHERE key = 'updated_mark'").fetchone()
            changed_sql = (
                "SELECT s.id, s.rowid, s.detail, s.updated_at, t.session_id IS NULL FROM hist.sessions s "
                "LEFT JOIN titles t ON t.session_id = s.id "
                "WHERE (t.session_id IS NULL OR t.detail IS NOT s.detail OR t.session_rowid != s.rowid)"
            )
            if mark is not None:  # renames and new sessions bump updated_at: look at the recent ones only
                changed = conn.execute(changed_sql + " AND (s.updated_at >= ? OR s.updated_at IS NULL)", mark).fetchall()
            else:
                changed = conn.execute(changed_sql).fetchall()
            (sessions,) = conn.execute("SELECT count(*) FROM hist.sessions").fetchone()
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
                for session_id, session_rowid, detail, updated_at, _new in changed:
                    if not isinstance(session_id, str):
                        continue
                    old = conn.execute(
                        "SELECT session_rowid FROM titles WHERE session_id = ?", (session_id,)
                    ).fetchone()
                    if old is not None and old[0] != session_rowid:
                        self._forget_session(session_id, old[0])
                    base = session_rowid << SEQ_BITS
                    conn.execute("DELETE FROM fts WHERE rowid = ?", (base,))
                    text = detail[:MAX_TEXT] if isinstance(detail, str) else ""
                    conn.execute("INSERT INTO fts (rowid, body, kind) VALUES (?, ?, 0)", (base, text))
                    conn.execute("INSERT OR REPLACE INTO titles VALUES (?, ?, ?)", (session_id, session_rowid, detail))
                    if isinstance(updated_at, str) and (newest is None or updated_at > newest):
                        newest = updated_at
                if newest is not None:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated_mark', ?)", (newest,))

            self._write(apply)
            return len(changed) + len(gone)

    def _forget_session(self, session_id: str, session_rowid: int) -> None:
        """Drop a session's title and every document in its rowid range."""
        low, high = session_rowid << SEQ_BITS, ((session_rowid + 1) << SEQ_BITS) - 1
        self._conn.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM docs WHERE doc BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM titles WHERE session_id = ?", (session_id,))

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

            self._write(drop)
            missing = conn.execute(
                "SELECT rowid FROM hist.events e WHERE rowid <= ? AND NOT EXISTS "
                "(SELECT 1 FROM docs WHERE docs.event_rowid = e.rowid)",
                (last,),
            ).fetchall()
            return len(stale), [rowid for (rowid,) in missing], total

    _EVENTS = (
        "SELECT e.rowid, e.id, s.rowid, e.content FROM hist.events e "
        "LEFT JOIN hist.sessions s ON s.id = e.session_id "
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
                for event_rowid, event_id, session_rowid, content in rows:
                    if session_rowid is None:  # no such session: remembered, so it is not read again, not searchable
                        conn.execute("INSERT INTO docs VALUES (?, ?, ?)", (-event_rowid, event_rowid, event_id))
                        continue
                    base = session_rowid << SEQ_BITS
                    if session_rowid not in next_seq:
                        (top,) = conn.execute(
                            "SELECT coalesce(max(doc), ?) FROM docs WHERE doc BETWEEN ? AND ?",
                            (base, base, base + (1 << SEQ_BITS) - 1),
                        ).fetchone()
                        next_seq[session_rowid] = top - base + 1
                    seq = next_seq[session_rowid]
                    if seq >= 1 << SEQ_BITS:
                        continue  # over a million events in one session: the rest is not searchable
                    next_seq[session_rowid] = seq + 1
                    conn.execute("INSERT INTO docs VALUES (?, ?, ?)", (base + seq, event_rowid, event_id))
                    conn.execute(
                        "INSERT INTO fts (rowid, body, kind) VALUES (?, ?, 1)", (base + seq, searchable_text(content))
                    )

            self._write(insert)
            return len(rows)

    # -- searching -------------------------------------------------------------------

    def search(self, query: SearchQuery, *, cancelled: Callable[[], bool] = lambda: False) -> SearchResult:
        """The sessions whose title or events match, newest first (as the session list orders them).

        ``cancelled`` is asked once the index is free: a search overtaken by
        newer keystrokes while it waited returns nothing instead of running.
        """
        if not query:
            return SearchResult(query, [])
        with self._lock:
            if cancelled():
                return SearchResult(query, [])
            try:
                # Each term may match in another event (or the title): sessions that have them all.
                per_term = " INTERSECT ".join(
                    [f"SELECT rowid >> {SEQ_BITS} FROM fts WHERE fts MATCH ?"] * len(query.terms)
                )
                rows = self._conn.execute(
                    f"SELECT s.id FROM hist.sessions s WHERE s.rowid IN ({per_term})"
                    " ORDER BY s.updated_at DESC, s.rowid DESC",
                    [_match_fts(term.fts()) for term in query.terms],
                ).fetchall()
            except sqlite3.OperationalError as exc:
                if "fts5" not in str(exc) and "syntax" not in str(exc):
                    raise
                rows = []  # never reaches the user; the query builder should not let this happen
        return SearchResult(query, [session_id for (session_id,) in rows])

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
                    candidates = self._conn.execute(
                        "SELECT body FROM fts WHERE fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT 20",
                        (seek, base + 1, base + (1 << SEQ_BITS) - 1),
                    ).fetchall()
                    title = self._conn.execute("SELECT body FROM fts WHERE rowid = ?", (base,)).fetchone()
                except sqlite3.OperationalError:
                    continue
                texts = [body for (body,) in candidates if isinstance(body, str)]
                if title and isinstance(title[0], str):
                    texts.append(title[0])
                text = next((body for body in texts if query.matches(body)), texts[0] if texts else None)
                if text is not None:
                    found[session_id] = query.snippet(text)
        return found

    def indexed_events(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM docs WHERE doc > 0").fetchone()[0]


def _match_fts(expression: str) -> str:
    """An FTS5 expression limited to the text column."""
    return "{body} : (" + expression + ")"
