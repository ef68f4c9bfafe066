"""The search cache file: its schema and version, and opening, creating and writing it.

The cache is a file of its own (one per history, see :func:`default_cache_path`),
and the stats another beside it (:func:`stats_cache_path`); a connection to
either attaches the history read-only as ``hist``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from dasshh_history.data import private_files
from dasshh_history.data.client import BUSY_TIMEOUT_SECONDS, decode_text

#: Bump when the index layout or the extracted text changes: the cache is rebuilt.
SCHEMA_VERSION = "5"  # 3: JSON nested deeper than MAX_JSON_DEPTH is indexed as text;
# 4: strings that are JSON string literals (tools' text results) are indexed decoded, without their escapes;
# 5: what the filters read: each event's tool calls (``calls``), failed flag and date (``docs``), each
# session's last activity (``activity``), and the titles in an FTS table of their own (``title_words``)
#: Bytes the cache's write-ahead log is cut back to after a checkpoint (it grows during a long write).
WAL_LIMIT = 64 * 1024 * 1024
#: Sessions with a rowid from here on are not searchable (dasshh counts from 1; a rowid set by hand can be
#: anything): the index's answers hold a byte per session rowid, and shifted by SEQ_BITS it must fit SQLite.
MAX_ROWID = 1 << 22

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
# ``docs`` also says whether an event is a failed tool result and when it was
# written, ``calls`` which tools it calls (lower case), and ``activity`` each
# session's ``updated_at`` and its last activity (the latest of that and its
# events' ``created_at``), all as milliseconds since 1970 (UTC, see ms_sql).
# ``title_words`` holds each title again, under its session's rowid, for ``in:title``.
# ``broad`` keeps the sessions each of the broadest words and prefixes matches
# (compressed, a byte per session rowid), as they were when it was worked out;
# ``changed`` lists the sessions whose segments changed since, which a lookup
# asks again.  (Triggers on ``segs`` noting them made a first build 40 % slower.)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS docs (
    doc INTEGER PRIMARY KEY, event_rowid INTEGER NOT NULL, event_id TEXT,
    failed INTEGER NOT NULL DEFAULT 0, created INTEGER
);
CREATE INDEX IF NOT EXISTS docs_event ON docs (event_rowid);
CREATE INDEX IF NOT EXISTS docs_failed ON docs (doc) WHERE failed;
CREATE TABLE IF NOT EXISTS calls (doc INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (doc, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS calls_name ON calls (name, doc);
CREATE TABLE IF NOT EXISTS titles (
    session_id TEXT PRIMARY KEY, session_rowid INTEGER NOT NULL, detail TEXT, updated_at
);
CREATE TABLE IF NOT EXISTS activity (session INTEGER PRIMARY KEY, updated INTEGER, last INTEGER);
CREATE INDEX IF NOT EXISTS activity_last ON activity (last);
CREATE VIRTUAL TABLE IF NOT EXISTS title_words USING fts5(
    body, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
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
#: The version of a stats file (see :func:`stats_cache_path`): ``meta`` alone, the stats make their tables.
STATS_FILE_VERSION = "stats-1"
_STATS_FILE = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta VALUES ('schema', '{STATS_FILE_VERSION}');
"""
_SCHEMAS = {SCHEMA_VERSION: _SCHEMA, STATS_FILE_VERSION: _STATS_FILE}


def ms_sql(column: str) -> str:
    """SQL for a stored datetime as whole milliseconds since 1970 (UTC): NULL for anything SQLite cannot
    read as a date, or that is not text (a number would be read as a Julian day)."""
    return (f"CASE WHEN typeof({column}) = 'text' THEN "
            f"CAST(round((julianday({column}) - 2440587.5) * 86400000) AS INTEGER) END")


def default_cache_dir() -> Path:
    """The folder of our caches: ``dasshh-history`` in the user's cache directory (``$XDG_CACHE_HOME``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dasshh-history"


def default_cache_path(db_path: Path) -> Path:
    """Where the index of a history lives: one file per database, under the user's cache directory."""
    base = default_cache_dir()
    key = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:16]
    return base / f"search-{key}.db"


def stats_cache_path(search_path: Path) -> Path:
    """Where the stats of the history whose search cache is ``search_path`` are kept: a file of their own
    beside it (``search-….stats.db``), so that working them out never waits for an index build, which holds
    the search cache's write lock nearly all the time; in memory with a search cache in memory."""
    if str(search_path) == ":memory:":
        return search_path
    return search_path.with_name(f"{search_path.stem}.stats{search_path.suffix}")


def open_cache(path: Path, db_path: Path, *, version: str = SCHEMA_VERSION) -> tuple[sqlite3.Connection, Path]:
    """The cache file at ``path`` with the history at ``db_path`` attached, and where the cache is: a search
    cache, or with ``version`` :data:`STATS_FILE_VERSION` a stats file.

    A cache of another schema version is emptied and made afresh, in place
    (another process may have it open: a builder, another instance); where
    there is none that can be written, the cache is in memory.

    The cache is private (see :mod:`~dasshh_history.data.private_files`): the
    file and its companions 0600, the folders made for it 0700; our own cache
    folder, when it is the one used, is tightened with all it holds.
    """
    try:
        if path.parent == default_cache_dir():
            private_files.private_dir(path.parent)
            private_files.tighten_tree(path.parent)
        else:
            private_files.make_dirs(path.parent)
        private_files.sqlite_file(path)
        conn = _connect(str(path), db_path, version)
    except (OSError, sqlite3.Error):
        # No writable cache (or a broken one): an index in memory, rebuilt each run.
        path = Path(":memory:")
        conn = _connect(":memory:", db_path, version)
    return conn, path


def sibling(conn: sqlite3.Connection) -> sqlite3.Connection | None:
    """Another connection to the cache file of ``conn``, with the same history attached; None for a cache in
    memory (or one that cannot be opened again)."""
    files = {name: file for _, name, file in conn.execute("PRAGMA database_list").fetchall()}
    version = _version(conn)
    if not files.get("main") or not files.get("hist") or version not in _SCHEMAS:
        return None
    try:
        return _connect(files["main"], Path(files["hist"]), version)
    except sqlite3.Error:
        return None


def _connect(target: str, db_path: Path, version: str = SCHEMA_VERSION) -> sqlite3.Connection:
    """A connection to the cache file ``target``, its tables (of ``version``) made, the history attached
    read-only.

    When the tables are there, of this version, nothing is written: opening
    does not wait for a build that another process is writing.
    """
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    conn.text_factory = decode_text
    try:
        if target != ":memory:":
            _write_ahead(conn)
        if _version(conn) != version:
            _make_tables(conn, version)
        history = f"{db_path.resolve().as_uri()}?mode=ro"
        conn.execute("ATTACH DATABASE ? AS hist", (history,))
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _write_ahead(conn: sqlite3.Connection) -> None:
    """Put the cache file in write-ahead-log mode, once (it stays so): a search never waits for a build
    in another process, whose long transactions would otherwise lock readers out as they spill to
    the file.  A cache that another connection holds in the older mode stays in it this time."""
    try:
        if conn.execute("PRAGMA journal_mode").fetchone() != ("wal",):
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError:
        pass
    conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")  # these two are the connection's
    conn.execute("PRAGMA synchronous = NORMAL")  # a cache: a power cut may cost its last writes, never its sense


def _version(conn: sqlite3.Connection) -> str | None:
    """The schema version of the cache; None when it has none (a new file, or not ours)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return row[0] if row is not None else None


def _make_tables(conn: sqlite3.Connection, version: str = SCHEMA_VERSION) -> None:
    """Make the tables of ``version``, in one transaction, dropping whatever else the file holds first."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _version(conn) != version:  # again, under the lock: another process may have made them
            for kind in ("virtual", "table"):  # a virtual table's own tables go with it
                where = "sql LIKE 'CREATE VIRTUAL TABLE%'" if kind == "virtual" else "name NOT LIKE 'sqlite%'"
                for (name,) in conn.execute(f"SELECT name FROM sqlite_master WHERE type = 'table' AND {where}"
                                            ).fetchall():
                    quoted = name.replace('"', '""')
                    conn.execute(f'DROP TABLE IF EXISTS "{quoted}"')
            for statement in _SCHEMAS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def begin(conn: sqlite3.Connection) -> None:
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


def write_cache(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], object]) -> None:
    """``work`` in one write of the cache file (see :func:`begin`: it reads nothing of the history)."""
    begin(conn)
    try:
        work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
