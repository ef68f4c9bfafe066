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
delete.  :func:`~dasshh_history.data.redact.discard_cache` is the other way:
the file zeroed and removed, built again later.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dasshh_history.data.search.building import read_meta
from dasshh_history.data.search.index import SearchIndex


#: In the cache's ``meta`` while a purge is owed (the trash expired): cleared by the purge, in its write.
PURGE_KEY = "purge_due"


def mark_purge_due(index: SearchIndex) -> None:
    """Note in the cache that it must be purged (trash was removed): a purge interrupted is done at a later start."""
    with index._lock:
        index._write(lambda conn: conn.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (PURGE_KEY,)))


def purge_due(cache: Path) -> bool:
    """Whether a purge of the cache at ``cache`` is owed (see :func:`mark_purge_due`); read without opening it."""
    return read_meta(cache, PURGE_KEY) is not None


def purge(index: SearchIndex) -> None:
    """Rewrite the cache of ``index`` so that no text of what is no longer in the history remains in it."""
    index.sync()
    with index._sync_lock:
        lock = index._build_lock
        if lock is not None:
            lock.acquire(wait=True)
        try:
            with index._lock:
                conn = index._conn
                index._write(lambda c: _merge(index, c))
                if str(index.path) != ":memory:":
                    conn.execute("VACUUM")
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            if lock is not None:
                lock.release()


def _merge(index: SearchIndex, conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM meta WHERE key = ?", (PURGE_KEY,))
    conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    conn.execute("INSERT INTO title_words (title_words) VALUES ('optimize')")
    index._rebuild_words(conn)
