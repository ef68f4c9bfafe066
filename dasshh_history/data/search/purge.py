"""Leaving no copy of deleted text in the search cache file: for emptying the trash ("delete means gone").

A sync drops the documents of deleted sessions and events, but the words stay
in the file: FTS5 keeps a deleted document's entries in its segments until
they are merged, the contentless ``words`` table only marks segments dead, and
SQLite leaves freed space as it was.  :func:`purge` brings the index in step,
merges ``fts`` and ``title_words`` into fresh segments, builds ``words`` again
from what is left, then ``VACUUM``\\ s the cache (our own file: its rowids carry
no order) and checkpoints and truncates its write-ahead log.  Searches keep
working throughout (the cache is never removed); it costs about a build's time
on a large history, so it is for rare moments (the trash emptied), not every
delete.  :func:`scrub` does the same after a redaction, the redacted events
and titles indexed again first (same rowid and id, new content: the sync
alone would not see them).  :func:`~dasshh_history.data.redact.discard_cache`
is the other way: the file zeroed and removed, built again later.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from dasshh_history.data.search.building import read_meta
from dasshh_history.data.search.index import SearchIndex

#: In the cache's ``meta`` while a purge is owed (the trash expired): cleared by the purge, in its write.
PURGE_KEY = "purge_due"
#: Beside it while a redaction's update of the cache is owed: the events and titles it changes (JSON).
REDACTED_KEY = "redacted_due"


def mark_purge_due(index: SearchIndex) -> None:
    """Note in the cache that it must be purged (trash was removed): a purge interrupted is done at a later start."""
    with index._lock:
        index._write(lambda conn: conn.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (PURGE_KEY,)))


def purge_due(cache: Path) -> bool:
    """Whether a purge of the cache at ``cache`` is owed (see :func:`mark_purge_due`); read without opening it."""
    return read_meta(cache, PURGE_KEY) is not None


def purge(index: SearchIndex) -> None:
    """Rewrite the cache of ``index`` so that no text of what is no longer in the history remains in it
    (and finish a redaction's update that was stopped, see :func:`mark_scrub_due`)."""
    index.sync()
    rowids, sessions = _redacted_due(index)
    scrub(index, rowids, sessions)


def mark_scrub_due(index: SearchIndex, event_rowids: Iterable[int], session_ids: Iterable[str]) -> None:
    """Note in the cache, before a redaction writes the history, what it will change: a redaction whose
    update of the cache is stopped (a kill) is finished by the next purge (the app's start hands it to a
    builder, as for the trash)."""
    note = json.dumps({"events": sorted(set(event_rowids)), "sessions": sorted(set(session_ids))})
    with index._lock:
        index._write(lambda conn: conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                                   [(PURGE_KEY, "1"), (REDACTED_KEY, note)]))


def unmark_scrub_due(index: SearchIndex) -> None:
    """Forget the note of :func:`mark_scrub_due`: the redaction wrote nothing."""
    with index._lock:
        index._write(lambda conn: conn.executemany("DELETE FROM meta WHERE key = ?", [(PURGE_KEY,), (REDACTED_KEY,)]))


def _redacted_due(index: SearchIndex) -> tuple[list[int], list[str]]:
    with index._lock:
        row = index._conn.execute("SELECT value FROM meta WHERE key = ?", (REDACTED_KEY,)).fetchone()
    try:
        note = json.loads(row[0]) if row is not None else {}
        return [int(r) for r in note.get("events", [])], [str(s) for s in note.get("sessions", [])]
    except (ValueError, TypeError, AttributeError):
        return [], []


def scrub(index: SearchIndex, event_rowids: Iterable[int] = (), session_ids: Iterable[str] = ()) -> int:
    """After a redaction: index again these events and titles, changed in place (same rowid and id: a
    sync alone would not see them), drop the secrets found in those events (they are gone), then merge,
    rebuild ``words``, ``VACUUM`` and truncate the WAL as :func:`purge` does: the cache keeps working as
    built, and no byte of the old text remains in it.  How many events were indexed again.

    Nothing else is synced (events not indexed yet are indexed later, as they are now; a cache holding
    only findings is not built).  The events, the findings and the merge are one write of the cache; the
    titles are indexed again in one before it.
    """
    rowids, sessions = sorted(set(event_rowids)), tuple(sorted(set(session_ids)))
    done = 0
    with index._sync_lock:
        lock = index._build_lock
        if lock is not None:
            lock.acquire(wait=True)
        try:
            with index._lock:
                built = index._conn.execute("SELECT count(*) FROM titles").fetchone()[0] > 0
            if sessions and built:
                index._sync_sessions(touched=sessions)
            with index._lock:
                conn = index._conn
                changed = index._changed_rows(rowids)  # read before the write, which reads nothing of the history

                def rewrite(c: sqlite3.Connection) -> None:
                    nonlocal done
                    done = index._reindex_changed(c, changed)
                    if rowids and c.execute("SELECT 1 FROM sqlite_master WHERE name = 'secret_findings'").fetchone():
                        c.executemany("DELETE FROM secret_findings WHERE event_rowid = ?", [(r,) for r in rowids])
                    _merge(index, c)

                index._write(rewrite)
                if str(index.path) != ":memory:":
                    conn.execute("VACUUM")
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            if lock is not None:
                lock.release()
    return done


def _merge(index: SearchIndex, conn: sqlite3.Connection) -> None:
    conn.executemany("DELETE FROM meta WHERE key = ?", [(PURGE_KEY,), (REDACTED_KEY,)])
    conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    conn.execute("INSERT INTO title_words (title_words) VALUES ('optimize')")
    index._rebuild_words(conn)
