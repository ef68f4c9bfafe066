"""The write path: bringing the index in step with the history.

New events are indexed by rowid, events and sessions removed by anyone are
dropped, changed titles are indexed again; each in transactions of the
cache file (see :func:`~dasshh_history.data.search.schema.begin`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, groupby
from operator import itemgetter

from dasshh_history.data.client import DBClient
from dasshh_history.data.search.broad import drop_broad
from dasshh_history.data.search.building import BuildLock, note_progress
from dasshh_history.data.search.extract import MAX_TEXT, read_event
from dasshh_history.data.search.schema import (
    MAX_ROWID,
    SEQ_BITS,
    SEQ_MASK,
    ms_sql,
    write_cache,
)
from dasshh_history.data.search.stats import STATS_TABLES

#: Events read and indexed per transaction while building.
CHUNK = 2000
#: The most text in one ``words`` document (a session's text is split over several when longer).
SEGMENT_TEXT = 4_000_000
#: After indexing this many events at once, both tables are merged into one b-tree segment each.
OPTIMIZE_AFTER = 20_000
#: ``words`` is rebuilt once this many of its documents are stale, and they are over a quarter of it.
STALE_SEGMENTS = 1000

#: Progress of a build: (events indexed, events in the history).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one :meth:`SearchIndex.sync` changed."""

    added: int = 0
    removed: int = 0
    titles: int = 0
    dates: int = 0  # sessions whose updated_at alone changed
    busy: bool = False  # another sync (in another process) writes the index: this one did nothing

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.titles or self.dates)


class Syncing:
    """The part of :class:`~dasshh_history.data.search.index.SearchIndex` that writes the index.

    A mixin: the state is the index's, and so are ``_forget_terms`` and the
    broad answers' ``_note_change``, ``_broad_due`` and ``_work_out_broad``.
    """

    client: DBClient
    _conn: sqlite3.Connection
    _lock: threading.Lock
    _sync_lock: threading.Lock
    _build_lock: BuildLock | None
    _broad_kept: bool | None

    def sync(
        self, progress: Progress | None = None, *, should_stop: Callable[[], bool] = lambda: False, wait: bool = True
    ) -> SyncResult:
        """Bring the index in step with the history; cheap when nothing changed.

        Builds in transactions of :data:`CHUNK` events, so that searches run
        (on what is indexed so far) between them, and reports ``progress``
        (and notes it in the cache, for other processes).  One sync at a time
        writes a cache file: while another process's runs, this one waits for
        it, or without ``wait`` (or once ``should_stop``) returns at once,
        ``busy``, having done nothing.
        """
        self.client.check_file()
        with self._sync_lock:  # a sync started while another stops waits for it
            lock = self._build_lock
            if lock is not None and not lock.acquire(wait=wait, should_stop=should_stop):
                return SyncResult(busy=True)
            try:
                return self._sync(progress, should_stop)
            finally:
                if lock is not None:
                    lock.release()

    def _sync(self, progress: Progress | None, should_stop: Callable[[], bool]) -> SyncResult:
        """:meth:`sync`, the locks held."""
        with self._lock:
            if self._conn.execute(_OLD_STATS).fetchone() is not None:
                self._write(_drop_old_stats)
        titles, dates = self._sync_sessions()
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
        return SyncResult(added=added, removed=removed, titles=titles, dates=dates)

    def _write(self, work: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``work`` in one transaction of the cache (the caller holds the lock)."""
        self._broad_kept = None
        try:
            write_cache(self._conn, work)
        finally:
            self._forget_terms()

    def retitle(self, session_id: str) -> None:
        """Index a session's title again now: our own rename keeps ``updated_at``, which the sync looks at."""
        self.client.check_file()
        with self._sync_lock:
            self._sync_sessions(touched=(session_id,))

    def _sync_sessions(self, touched: tuple[str, ...] = ()) -> tuple[int, int]:
        """Index new and renamed titles, note changed dates; forget sessions that are gone (or came back as
        another row).  Returns how many titles, and how many dates alone, changed.

        Sessions in ``touched`` are looked at whatever their ``updated_at``."""
        with self._lock:
            conn = self._conn
            mark = conn.execute("SELECT value FROM meta WHERE key = 'updated_mark'").fetchone()
            retitled = "t.session_id IS NULL OR t.detail IS NOT s.detail OR t.session_rowid != s.rowid"
            changed_sql = (
                f"SELECT s.id, s.rowid, s.detail, s.updated_at, t.session_id IS NULL, {retitled}, "
                f"{ms_sql('s.updated_at')} FROM hist.sessions s LEFT JOIN titles t ON t.session_id = s.id "
                f"WHERE s.rowid < {MAX_ROWID} AND ({retitled} OR t.updated_at IS NOT s.updated_at)"
            )
            if mark is not None:  # dasshh's renames and new sessions bump updated_at: look at the recent ones only
                changed = conn.execute(
                    changed_sql + " AND (s.updated_at >= ? OR s.updated_at IS NULL OR s.id IN (SELECT value FROM json_each(?)))",
                    (mark[0], json.dumps(list(touched))),
                ).fetchall()
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
                return 0, 0

            def apply(conn: sqlite3.Connection) -> None:
                for session_id, session_rowid in gone:
                    self._forget_session(session_id, session_rowid)
                newest = mark[0] if mark else None
                for session_id, session_rowid, detail, updated_at, new, retitle, updated_ms in changed:
                    if not isinstance(session_id, str):
                        continue
                    if isinstance(updated_at, str) and (newest is None or updated_at > newest):
                        newest = updated_at
                    self._set_activity(conn, session_rowid, updated_ms)
                    if not retitle:  # its date alone changed
                        conn.execute("UPDATE titles SET updated_at = ? WHERE session_id = ?", (updated_at, session_id))
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
                    conn.execute("DELETE FROM title_words WHERE rowid = ?", (session_rowid,))
                    conn.execute("INSERT INTO title_words (rowid, body) VALUES (?, ?)", (session_rowid, text))
                    self._add_segments(conn, session_rowid, [text], title=True)
                    conn.execute("INSERT OR REPLACE INTO titles VALUES (?, ?, ?, ?)",
                                 (session_id, session_rowid, detail, updated_at))
                if newest is not None:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated_mark', ?)", (newest,))

            self._write(apply)
            dates = sum(1 for row in changed if isinstance(row[0], str) and not row[5])
            return len(changed) + len(gone) - dates, dates

    def _set_activity(self, conn: sqlite3.Connection, session_rowid: int, updated: object = None, *,
                      keep_updated: bool = False) -> None:
        """Work out a session's last activity again: the latest of ``updated`` (its updated_at, in ms; with
        ``keep_updated`` the one noted before) and its indexed events' dates (inside a write)."""
        base = session_rowid << SEQ_BITS
        if keep_updated:
            row = conn.execute("SELECT updated FROM activity WHERE session = ?", (session_rowid,)).fetchone()
            updated = row[0] if row else None
        (events,) = conn.execute(
            "SELECT max(created) FROM docs WHERE doc BETWEEN ? AND ?", (base + 1, base | SEQ_MASK)
        ).fetchone()
        dates = [value for value in (updated, events) if isinstance(value, int)]
        conn.execute("INSERT OR REPLACE INTO activity VALUES (?, ?, ?)",
                     (session_rowid, updated if isinstance(updated, int) else None, max(dates, default=None)))

    def _forget_session(self, session_id: str, session_rowid: int) -> None:
        """Drop a session's title and every document in its rowid range."""
        low, high = session_rowid << SEQ_BITS, (session_rowid << SEQ_BITS) | SEQ_MASK
        self._conn.execute("DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM docs WHERE doc BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM calls WHERE doc BETWEEN ? AND ?", (low, high))
        self._conn.execute("DELETE FROM titles WHERE session_id = ?", (session_id,))
        self._conn.execute("DELETE FROM title_words WHERE rowid = ?", (session_rowid,))
        self._conn.execute("DELETE FROM activity WHERE session = ?", (session_rowid,))
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

    def _changed_rows(self, event_rowids: Iterable[int]) -> list[tuple[int, object]]:
        """The documents of these events, with their content as it is now (read outside any write: see
        :func:`~dasshh_history.data.search.schema.begin`); events not indexed yet are left to the sync."""
        rowids = sorted(set(event_rowids))
        rows: list[tuple[int, object]] = []
        for start in range(0, len(rowids), 500):
            part = rowids[start:start + 500]
            marks = ",".join("?" * len(part))
            rows += self._conn.execute(
                f"SELECT d.doc, e.content FROM docs d JOIN hist.events e ON e.rowid = d.event_rowid "
                f"AND e.id IS d.event_id WHERE d.doc > 0 AND d.event_rowid IN ({marks})", part
            ).fetchall()
        return rows

    def _reindex_changed(self, conn: sqlite3.Connection, rows: list[tuple[int, object]]) -> int:
        """Index again these documents (``rows`` of :meth:`_changed_rows`: events whose content changed in
        place, a redaction, same rowid and id) and rebuild their sessions' ``words`` segments, inside a
        write; how many.  Their old words stay in the file until the segments are merged."""
        for doc, content in rows:
            text, facts = read_event(content)
            conn.execute("INSERT OR REPLACE INTO fts (rowid, body, kind) VALUES (?, ?, 1)", (doc, text))
            conn.execute("UPDATE docs SET failed = ? WHERE doc = ?", (int(facts.failed), doc))
            conn.execute("DELETE FROM calls WHERE doc = ?", (doc,))
            conn.executemany("INSERT OR IGNORE INTO calls VALUES (?, ?)", [(doc, name) for name in facts.tools])
        for session_rowid in sorted({doc >> SEQ_BITS for doc, _ in rows}):
            self._reindex_events(conn, session_rowid)
        return len(rows)

    def _rebuild_words(self, conn: sqlite3.Connection) -> None:
        """Index every session in ``words`` again from ``fts``, leaving out the dead segments."""
        conn.execute("INSERT INTO words (words) VALUES ('delete-all')")
        conn.execute("DELETE FROM segs")
        drop_broad(conn)  # worked out again after this sync
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
                    conn.executemany("DELETE FROM calls WHERE doc = ?", chunk)
                for session_rowid in sorted({doc >> SEQ_BITS for (doc,) in stale if doc > 0}):
                    self._reindex_events(conn, session_rowid)
                    self._set_activity(conn, session_rowid, keep_updated=True)

            self._write(drop)
            missing = conn.execute(
                "SELECT rowid FROM hist.events e WHERE rowid <= ? AND NOT EXISTS "
                "(SELECT 1 FROM docs WHERE docs.event_rowid = e.rowid)",
                (last,),
            ).fetchall()
            return len(stale), [rowid for (rowid,) in missing], total

    _EVENTS = (
        f"SELECT e.rowid, e.id, s.rowid, e.content, {ms_sql('e.created_at')} FROM hist.events e "
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
            count = self._index_rows(query, (last, CHUNK), noted=(done + added, total))
            if not count:
                break
            with self._lock:
                last = self._conn.execute("SELECT max(event_rowid) FROM docs").fetchone()[0]
            added += count
            if progress is not None:
                progress(done + added, max(total, done + added))
        return added

    def _index_rows(self, query: str, params: Sequence[object], noted: tuple[int, int] | None = None) -> int:
        """Index the events ``query`` reads, in one write; with ``noted`` (events indexed before, in the
        history), the progress is noted in the same write.  How many were read."""
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
            if not rows:
                return 0

            def insert(conn: sqlite3.Connection) -> None:
                next_seq: dict[int, int] = {}
                texts: dict[int, list[str]] = {}  # per session, for ``words``
                latest: dict[int, int | None] = {}  # per session, its newest event's date
                docs: list[tuple[int, int, object, int, object]] = []
                bodies: list[tuple[int, str]] = []
                calls: list[tuple[int, str]] = []
                for event_rowid, event_id, session_rowid, content, created in rows:
                    if session_rowid is None:  # no such session: remembered, so it is not read again, not searchable
                        docs.append((-event_rowid, event_rowid, event_id, 0, None))
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
                    text, facts = read_event(content)
                    docs.append((base + seq, event_rowid, event_id, int(facts.failed), created))
                    calls.extend((base + seq, name) for name in facts.tools)
                    bodies.append((base + seq, text))
                    texts.setdefault(session_rowid, []).append(text)
                    known = latest.get(session_rowid)
                    latest[session_rowid] = created if known is None or (created is not None and created > known) else known
                conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", docs)
                conn.executemany("INSERT INTO calls VALUES (?, ?)", calls)
                conn.executemany("INSERT INTO fts (rowid, body, kind) VALUES (?, ?, 1)", bodies)
                for session_rowid, session_texts in texts.items():
                    self._add_segments(conn, session_rowid, session_texts, title=False)
                # A session's last activity only moves on as events come (it is worked out again when some go).
                conn.executemany(
                    "INSERT INTO activity (session, last) VALUES (?, ?) ON CONFLICT (session) DO UPDATE SET last = "
                    "CASE WHEN last IS NULL OR last < excluded.last THEN excluded.last ELSE last END",
                    list(latest.items()),
                )
                if noted is not None:
                    done = noted[0] + len(rows)
                    note_progress(conn, done, max(noted[1], done))

            self._write(insert)
            return len(rows)


def _optimize(conn: sqlite3.Connection) -> None:
    """Merge each FTS table into one b-tree segment: a build leaves many, which every query then reads."""
    conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    conn.execute("INSERT INTO words (words) VALUES ('optimize')")


# The stats were kept in the search cache before they had a file of their own (stats schema 1 and 2): dropped
# at the next sync of an index that has them.
_OLD_STATS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'st_sessions'"


def _drop_old_stats(conn: sqlite3.Connection) -> None:
    for name in STATS_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute("DELETE FROM meta WHERE key LIKE 'stats\\_%' ESCAPE '\\'")
