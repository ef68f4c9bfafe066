"""Secrets found in the history's events, kept in the search cache file so that only new events are scanned.

Table ``secret_findings`` (made here, with ``CREATE TABLE IF NOT EXISTS``: no
bump of the cache's schema version; a rebuild of the cache drops it with the
rest and the next scan starts over) holds, per finding, the event (rowid and
id), the field, the JSON path, the kind, the span and the secret *masked*:
never the secret itself.  ``meta`` notes how far the scan got
(``secrets_scanned``: the last event rowid scanned, and its id) and which
version of the patterns found them (``secrets_patterns``): other patterns, or
an event at that rowid that is not the one scanned (rowids reused after a
delete), and everything is scanned again.

Titles change (renames, dasshh's own) and are few: they are scanned at each
listing, not kept.  Findings of events that are gone (or whose rowid now holds
another event) are left out when listed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dasshh_history.data.search.schema import open_cache, write_cache
from dasshh_history.domain.stored_secrets import find_in_content, find_in_title

#: Bump when the patterns change what they find: every event is scanned again.
PATTERNS_VERSION = "1"
#: Events read and scanned per transaction.
CHUNK = 5_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS secret_findings (
    event_rowid INTEGER NOT NULL, event_id TEXT, field TEXT NOT NULL, path TEXT NOT NULL,
    kind TEXT NOT NULL, start INTEGER NOT NULL, stop INTEGER NOT NULL, masked TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS secret_findings_event ON secret_findings (event_rowid);
"""


@dataclass(frozen=True, slots=True)
class Finding:
    """A likely credential in the history: where (session, event or title, field, JSON path, span) and masked."""

    session_id: str
    session_rowid: int
    event_id: str | None  # None: in the session's title
    event_rowid: int | None
    field: str
    path: str
    kind: str
    start: int
    stop: int
    masked: str


class SecretFindings:
    """The findings of one history, kept in its search cache file (``cache_path``)."""

    def __init__(self, cache_path: Path, db_path: Path) -> None:
        self._conn, self.path = open_cache(cache_path, db_path)
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None else None

    def scanned_upto(self) -> int:
        """The last event rowid scanned (0: none), after starting over when the patterns or the rows changed."""
        upto = int(self._meta("secrets_scanned") or 0)
        if self._meta("secrets_patterns") != PATTERNS_VERSION:
            return self._start_over()
        if upto:
            row = self._conn.execute("SELECT id FROM hist.events WHERE rowid = ?", (upto,)).fetchone()
            if row is None or row[0] != self._meta("secrets_scanned_id"):
                return self._start_over()
        return upto

    def _start_over(self) -> int:
        self._write(lambda conn: (conn.execute("DELETE FROM secret_findings"), _note(conn, 0, None)))
        return 0

    def scan(self, progress: Callable[[int, int], object] | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> int:
        """Scan the events added since the last scan, ``CHUNK`` at a time, each chunk's findings in one
        transaction of the cache; how many events were scanned.  ``progress(done, total)`` after each."""
        upto = self.scanned_upto()
        (total,) = self._conn.execute("SELECT count(*) FROM hist.events WHERE rowid > ?", (upto,)).fetchone()
        done = 0
        if progress is not None:
            progress(0, total)
        while not should_stop():
            # Read outside any write: a read lock on the history is held only for this statement.
            rows = self._conn.execute(
                "SELECT rowid, id, content FROM hist.events WHERE rowid > ? ORDER BY rowid LIMIT ?", (upto, CHUNK)
            ).fetchall()
            if not rows:
                break
            found = [(rowid, event_id, f.field, f.path, f.kind, f.secret.start, f.secret.end, f.masked)
                     for rowid, event_id, content in rows for f in find_in_content(content)]
            upto, last_id = rows[-1][0], rows[-1][1]

            def write(conn: sqlite3.Connection, found=found, upto=upto, last_id=last_id) -> None:
                conn.executemany("INSERT INTO secret_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", found)
                _note(conn, upto, last_id)

            self._write(write)
            done += len(rows)
            if progress is not None:
                progress(done, max(total, done))
        return done

    def rescan(self, event_rowids: Iterable[int]) -> None:
        """Scan these events again (their content changed: a redaction), their old findings dropped."""
        rowids = sorted(set(event_rowids))
        found = []
        for start in range(0, len(rowids), 500):
            part = rowids[start:start + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(f"SELECT rowid, id, content FROM hist.events WHERE rowid IN ({marks})", part)
            found += [(rowid, event_id, f.field, f.path, f.kind, f.secret.start, f.secret.end, f.masked)
                      for rowid, event_id, content in rows.fetchall() for f in find_in_content(content)]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM secret_findings WHERE event_rowid = ?", [(r,) for r in rowids])
            conn.executemany("INSERT INTO secret_findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", found)

        self._write(write)

    def findings(self, session_ids: set[str] | None = None) -> list[Finding]:
        """Every finding of the events scanned and of the titles now, session by session (the list's order:
        last updated first), each session's title first, then its events in order."""
        events = self._conn.execute(
            # Events of no session (a foreign writer's) are listed too, under the session id they name.
            "SELECT CAST(coalesce(e.session_id, '') AS TEXT), coalesce(s.rowid, -1), e.id, e.rowid, f.field, f.path, f.kind, f.start, f.stop, "
            "f.masked FROM secret_findings f JOIN hist.events e ON e.rowid = f.event_rowid AND e.id IS f.event_id "
            "LEFT JOIN hist.sessions s ON s.id = e.session_id ORDER BY f.event_rowid, f.start"
        ).fetchall()
        titles = [
            (sid, srowid, None, None, f.field, f.path, f.kind, f.secret.start, f.secret.end, f.masked)
            for sid, srowid, detail in self._conn.execute("SELECT id, rowid, detail FROM hist.sessions").fetchall()
            for f in find_in_title(detail)
        ]
        order = {sid: n for n, (sid,) in enumerate(self._conn.execute(
            "SELECT id FROM hist.sessions ORDER BY coalesce(updated_at, '') DESC, rowid").fetchall())}
        rows = [Finding(*row) for row in titles + events if session_ids is None or row[0] in session_ids]
        return sorted(rows, key=lambda f: (order.get(f.session_id, len(order)), f.event_rowid is not None,
                                           f.event_rowid or 0, f.start))

    def _write(self, work: Callable[[sqlite3.Connection], object]) -> None:
        write_cache(self._conn, work)


def _note(conn: sqlite3.Connection, upto: int, last_id: str | None) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
        ("secrets_scanned", str(upto)), ("secrets_scanned_id", last_id), ("secrets_patterns", PATTERNS_VERSION)])
