"""The two tables dasshh writes: ``sessions`` and ``events``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dasshh_history.data.client import Base
from dasshh_history.data.types import BrokenValue, TolerantDateTime, TolerantJSON

__all__ = ["BrokenValue", "StorageEvent", "StorageSession", "new_id", "utcnow"]


def utcnow() -> datetime:
    """The current time as naive UTC, the way dasshh stores it (taken per row)."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


class StorageSession(Base):
    """A chat session."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String, primary_key=True, default=new_id)
    detail: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(TolerantDateTime, default=utcnow, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(TolerantDateTime, default=utcnow, nullable=True)

    events: Mapped[list[StorageEvent]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        order_by=lambda: literal_column("events.rowid"),  # insertion order
    )

    def __repr__(self) -> str:
        return f"StorageSession(id={self.id!r}, detail={self.detail!r}, updated_at={self.updated_at!r})"


class StorageEvent(Base):
    """One message of a session: user, assistant (text or tool calls) or tool result."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String, primary_key=True, default=new_id)
    invocation_id: Mapped[str | None] = mapped_column(String, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String, ForeignKey("sessions.id"), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(TolerantDateTime, default=utcnow, nullable=True)
    content: Mapped[Any] = mapped_column(TolerantJSON, nullable=True)

    session: Mapped[StorageSession | None] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"StorageEvent(id={self.id!r}, session_id={self.session_id!r}, invocation_id={self.invocation_id!r})"
