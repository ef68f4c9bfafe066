"""Connection to the dasshh SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

DEFAULT_DB_PATH = Path.home() / ".dasshh" / "db" / "dasshh.db"
#: How long a statement waits for another writer's lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"

#: The sort key of the session list: ``updated_at`` itself, written so that only our queries
#: can use the index on it.  dasshh's ``ORDER BY updated_at DESC LIMIT 1`` has no tie-break;
#: without an index on ``updated_at`` SQLite returns the first inserted of equal times, with
#: one it returns the last inserted -- another session would open in dasshh.
RECENT_KEY_SQL = "coalesce(updated_at, NULL)"
#: The session list's order in SQL: latest first; of equal times the first inserted first,
#: as dasshh's ``get_recent_session`` picks it.
LIST_ORDER_SQL = f"{RECENT_KEY_SQL} DESC, rowid ASC"

#: The browser's own indexes, created when missing and the file can be written.  Neither
#: changes what dasshh's queries return, nor in which order:
#: - events by ``session_id`` alone: its entries are in rowid order, the order in which
#:   dasshh's unordered ``get_events`` reads a session without it (an index on
#:   ``(session_id, created_at)`` made that ``created_at`` order);
#: - sessions by :data:`RECENT_KEY_SQL` descending: an expression that dasshh's queries do not
#:   contain, so SQLite never uses it for them; in it equal times are in rowid order, the list's.
APP_INDEXES = {
    "ix_dasshh_history_events_by_session": "CREATE INDEX ix_dasshh_history_events_by_session ON events (session_id)",
    "ix_dasshh_history_sessions_recent": (
        f"CREATE INDEX ix_dasshh_history_sessions_recent ON sessions ({RECENT_KEY_SQL} DESC)"
    ),
}
#: Indexes that earlier versions of dasshh-history created and that changed dasshh's answers;
#: replaced by :data:`APP_INDEXES` in the same transaction.
RETIRED_INDEXES = ("ix_dasshh_history_events_session", "ix_dasshh_history_sessions_updated")
REQUIRED_COLUMNS = {
    "sessions": {"id", "detail", "created_at", "updated_at"},
    "events": {"id", "invocation_id", "session_id", "created_at", "content"},
}


class Base(DeclarativeBase):
    """Declarative base of the dasshh models."""


class DatabaseOpenError(Exception):
    """The file cannot be used as a dasshh database; the message is one line naming it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot open {self.path}: {reason}")


class DatabaseUnavailableError(Exception):
    """The database file was removed or replaced while it was open.

    SQLite would otherwise go on reading and writing the unlinked file, and
    every change would be silently lost.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path} {reason}")


def _path_from_url(url: str) -> Path | None:
    """The file a SQLite URL names (``sqlite:///file:PATH?mode=ro&uri=true`` included), or None."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[len("file:"):].split("?", 1)[0]
        database = database.removeprefix("//")
        if not database or database == ":memory:" or "mode=memory" in url:
            return None
    return Path(database)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def check_file_is_usable(path: Path) -> None:
    """Raise :class:`DatabaseOpenError` for a file that is not a dasshh-compatible SQLite database.

    Only reads (the file is opened read-only); a missing file passes.
    """
    if path.is_dir():
        raise DatabaseOpenError(path, "it is a directory, not a database file")
    if not path.exists():
        if not path.parent.exists():
            return  # the caller creates the parent, as dasshh does
        if not path.parent.is_dir():
            raise DatabaseOpenError(path, f"{path.parent} is not a directory")
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseOpenError(path, exc.strerror or str(exc)) from None
    if not header:
        return  # an empty file is an empty database
    if header != SQLITE_HEADER:
        raise DatabaseOpenError(path, "not an SQLite database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise DatabaseOpenError(path, str(exc)) from None
    try:
        tables: dict[str, set[str]] = {}
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            tables[name] = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
    except sqlite3.Error as exc:
        raise DatabaseOpenError(path, f"database is unreadable or corrupt ({exc})") from None
    finally:
        conn.close()
    user_tables = {name for name in tables if not name.startswith("sqlite_")}
    if user_tables and not (user_tables & REQUIRED_COLUMNS.keys()):
        raise DatabaseOpenError(path, "not a dasshh database (no sessions or events table)")
    for table, needed in REQUIRED_COLUMNS.items():
        if table in tables and not needed <= tables[table]:
            missing = ", ".join(sorted(needed - tables[table]))
            raise DatabaseOpenError(path, f"table {table} lacks column(s) {missing}")


class DBClient:
    """Owns the engine and session factory for one SQLite database.

    ``DBClient()`` opens ``~/.dasshh/db/dasshh.db`` exactly as dasshh does.
    ``db_path`` opens another file; ``url`` takes any SQLAlchemy URL (for
    example ``sqlite://`` for an in-memory database, shared by every thread).

    With ``read_only`` the file is opened read-only (SQLite's ``mode=ro``):
    it must exist, nothing is created in it (neither tables nor indexes) and
    no byte of it changes; a file without dasshh's tables reads as empty.
    """

    def __init__(
        self, *, db_path: Path | str | None = None, url: str | None = None, read_only: bool = False
    ) -> None:
        if db_path is not None and url is not None:
            raise ValueError("give db_path or url, not both")
        if read_only and url is not None:
            raise ValueError("read_only opens a db_path; for a URL put mode=ro in it")
        engine_options: dict[str, Any] = {}
        if url is not None:
            self.db_path = _path_from_url(url)
            if self.db_path is not None:
                check_file_is_usable(self.db_path)
            elif make_url(url).database in (None, "", ":memory:"):
                engine_options["poolclass"] = StaticPool  # one database for every thread, not one each
        else:
            self.db_path = Path(db_path).expanduser() if db_path is not None else DEFAULT_DB_PATH
            url = f"sqlite:///{self.db_path}"
            if read_only and not self.db_path.exists():
                raise DatabaseOpenError(self.db_path, "no such file")
            check_file_is_usable(self.db_path)
            if read_only:
                uri = f"{self.db_path.resolve().as_uri()}?mode=ro"  # percent-encoded: any file name works
                engine_options["creator"] = lambda: sqlite3.connect(
                    uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
                )
            elif not self.db_path.exists():
                try:
                    self.db_path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseOpenError(self.db_path, exc.strerror or str(exc)) from None
        self.url = url
        self.engine: Engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}, **engine_options
        )
        event.listen(self.engine, "connect", _on_connect)
        self.DatabaseSessionFactory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.read_only = read_only
        #: False when the file has no ``sessions`` and ``events`` tables (only a read-only client can see that).
        self.has_tables = True
        try:
            if read_only:
                self.has_tables = {"sessions", "events"} <= set(inspect(self.engine).get_table_names())
            else:
                self._create_schema()
            self._identity = self._current_identity()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise DatabaseOpenError(self.db_path or url, _one_line(exc)) from None

    def _create_schema(self) -> None:
        """dasshh's tables when missing (as dasshh creates them), and the browser's indexes.

        The indexes are created, and those of earlier versions dropped, in one
        transaction; on a file that cannot be written this is skipped and
        :attr:`read_only` is set.
        """
        # The tables are registered on Base by data/models.py, which the package (dasshh_history.data,
        # loaded before this module) imports.
        existing = set(inspect(self.engine).get_table_names())
        if not {"sessions", "events"} <= existing:
            Base.metadata.create_all(self.engine)
        with self.engine.connect() as conn:
            present = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
        if set(APP_INDEXES) <= present and not present & set(RETIRED_INDEXES):
            return  # nothing to write: opening the browser again does not touch the file
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                for name in RETIRED_INDEXES:
                    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
                for name, ddl in APP_INDEXES.items():
                    if name not in present:
                        conn.exec_driver_sql(ddl)
        except SQLAlchemyError:
            self.read_only = True  # read-only file or directory: browsing still works

    def _current_identity(self) -> tuple[int, int] | None:
        if self.db_path is None:
            return None
        return _file_identity(self.db_path)

    def check_file(self) -> None:
        """Raise :class:`DatabaseUnavailableError` if the file is gone or was replaced since opening."""
        if self._identity is None:
            return
        current = _file_identity(self.db_path)  # type: ignore[arg-type]
        if current is None:
            raise DatabaseUnavailableError(self.db_path, "was removed")  # type: ignore[arg-type]
        if current != self._identity:
            raise DatabaseUnavailableError(self.db_path, "was replaced by another file")  # type: ignore[arg-type]

    @contextmanager
    def get_db(self) -> Generator[Session, None, None]:
        """A database session; rolled back on error and always closed.

        Raises :class:`DatabaseUnavailableError` when the file was removed or
        replaced since it was opened.
        """
        self.check_file()
        db = self.DatabaseSessionFactory()
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        finally:
            db.close()

    def begin_immediate(self, conn: Connection) -> None:
        """Start a write transaction on ``conn`` (of a :meth:`get_db` session), taking the write lock first.

        Nobody else can write between what it reads and what it writes;
        another writer's lock is waited out for :data:`BUSY_TIMEOUT_SECONDS`.
        pysqlite emits its own ``BEGIN`` only before INSERT/UPDATE/DELETE when
        no transaction is open, so after this statement it emits none, and
        the Session's commit/rollback end this transaction.
        """
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        self.check_file()  # again, now that no one else can write

    def dispose(self) -> None:
        self.engine.dispose()


def decode_text(data: bytes) -> str:
    """A TEXT value as str; bytes that are not UTF-8 (a foreign writer's) become U+FFFD instead of failing the read."""
    return data.decode("utf-8", "replace")


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.text_factory = decode_text
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc)
    return " ".join(message.split())[:200]
