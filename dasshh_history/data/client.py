"""Connection to the dasshh SQLite database."""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

DEFAULT_DB_PATH = Path.home() / ".dasshh" / "db" / "dasshh.db"
#: How long a statement waits for another writer's lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"

# Indexes the browser needs; created when missing, silently skipped when the
# file cannot be written.  They never change a row, and dasshh ignores them.
APP_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_dasshh_history_events_session ON events (session_id, created_at)",
    "CREATE INDEX IF NOT EXISTS ix_dasshh_history_sessions_updated ON sessions (updated_at)",
)
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
        if database.startswith("//"):
            database = database[2:]
        if not database or database == ":memory:" or "mode=memory" in url:
            return None
    return Path(database)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _check_existing_file(path: Path) -> None:
    """Refuse a file that is not a dasshh-compatible SQLite database, without writing to it."""
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
    example ``sqlite://`` for an in-memory database).
    """

    def __init__(self, *, db_path: Path | str | None = None, url: str | None = None) -> None:
        if db_path is not None and url is not None:
            raise ValueError("give db_path or url, not both")
        if url is not None:
            self.db_path = _path_from_url(url)
            if self.db_path is not None:
                _check_existing_file(self.db_path)
        else:
            self.db_path = Path(db_path).expanduser() if db_path is not None else DEFAULT_DB_PATH
            url = f"sqlite:///{self.db_path}"
            _check_existing_file(self.db_path)
            if not self.db_path.exists():
                try:
                    self.db_path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseOpenError(self.db_path, exc.strerror or str(exc)) from None
        self.url = url
        self.engine: Engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        )
        event.listen(self.engine, "connect", _on_connect)
        self.DatabaseSessionFactory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.read_only = False
        try:
            self._create_schema()
            self._identity = self._current_identity()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise DatabaseOpenError(self.db_path or url, _one_line(exc)) from None

    def _create_schema(self) -> None:
        from dasshh_history.data import models  # noqa: F401  (registers the tables)

        existing = set(inspect(self.engine).get_table_names())
        if not {"sessions", "events"} <= existing:
            Base.metadata.create_all(self.engine)
        try:
            with self.engine.begin() as conn:
                for ddl in APP_INDEXES:
                    conn.execute(text(ddl))
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
