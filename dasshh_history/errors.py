"""Errors the app reports instead of crashing, and how each reads to the user on one line."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import SQLAlchemyError

from dasshh_history.data.client import DatabaseUnavailableError
from dasshh_history.data.trash import RestoreError

#: What the data layer raises when the database cannot be read or written (the search index
#: speaks sqlite3 directly).  Anything else is a bug and should surface.
DB_ERRORS = (SQLAlchemyError, DatabaseUnavailableError, sqlite3.Error)
#: What a worker may raise and the user is told about: the database's errors, a session that
#: cannot be restored, a file that cannot be written.
REPORTED_ERRORS = (*DB_ERRORS, RestoreError, OSError)


def describe_error(exc: BaseException) -> str:
    """A one-line, user-facing description of an error of :data:`REPORTED_ERRORS`."""
    if isinstance(exc, DatabaseUnavailableError):
        return f"the database file {exc.reason}; restart dasshh-history to open it again"
    if isinstance(exc, RestoreError):
        return str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        return str(exc.strerror or exc)
    orig = getattr(exc, "orig", None)
    message = " ".join(str(orig if orig is not None else exc).split())
    if "readonly" in message or "read-only" in message:
        return "the database is read-only"
    if "locked" in message:
        return "the database is locked by another program; try again"
    return message[:160]
