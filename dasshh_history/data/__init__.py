"""The data layer: dasshh's documented storage contract (no UI here)."""

from dasshh_history.data.client import (
    Base,
    DatabaseOpenError,
    DatabaseUnavailableError,
    DBClient,
)
from dasshh_history.data.models import BrokenValue, StorageEvent, StorageSession
from dasshh_history.data.session import SessionNotFoundError, SessionService

__all__ = [
    "Base",
    "BrokenValue",
    "DBClient",
    "DatabaseOpenError",
    "DatabaseUnavailableError",
    "SessionNotFoundError",
    "SessionService",
    "StorageEvent",
    "StorageSession",
]
