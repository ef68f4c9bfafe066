"""Renaming a session the way the browser does it: its title changes, nothing else.

:meth:`SessionService.update_session` (dasshh's documented call) also bumps
``updated_at``: the session would jump to the top of the list and become the
one dasshh opens at its next start.  A rename from the browser only sets
``detail``.
"""

from __future__ import annotations

from sqlalchemy import update

from dasshh_history.data.client import DBClient
from dasshh_history.data.models import StorageSession
from dasshh_history.data.session import SessionNotFoundError

__all__ = ["rename_session"]


def rename_session(client: DBClient, *, session_id: str, detail: str) -> None:
    """Set a session's ``detail`` in one transaction (``BEGIN IMMEDIATE``); ``updated_at`` and every other column stay.

    Raises :class:`SessionNotFoundError` when no session has that id.
    """
    with client.get_db() as db:
        client.begin_immediate(db.connection())
        result = db.execute(
            update(StorageSession)
            .where(StorageSession.id == session_id)
            .values(detail=detail)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:
            db.rollback()
            raise SessionNotFoundError(session_id)
        db.commit()
