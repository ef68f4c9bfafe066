"""SessionService: the documented operations on sessions and events."""

from __future__ import annotations

from sqlalchemy import delete, literal_column, select, text, update
from sqlalchemy.orm import raiseload, selectinload

from dasshh_history.data.client import LIST_ORDER_SQL, DBClient
from dasshh_history.data.models import StorageEvent, StorageSession, new_id, utcnow

#: Insertion order, the only order dasshh's rows have: ``created_at`` is one value per dasshh
#: run (its start time), shared by every row the run writes and going backwards between two
#: dasshh windows, so it is shown but never sorted on.
EVENT_ORDER = (literal_column("events.rowid"),)
#: The session list's order: latest ``updated_at`` first and, among equal ones, the first
#: inserted first -- the session dasshh opens at its start (``ORDER BY updated_at DESC LIMIT 1``,
#: no tie-break) is the first listed.  It sorts on the expression of the browser's own index
#: (see :data:`~dasshh_history.data.client.RECENT_KEY_SQL`), which dasshh's queries cannot use.
#: One definition for every reader of that order: :data:`~dasshh_history.data.client.LIST_ORDER_SQL`.
SESSION_RECENT_FIRST = (text(LIST_ORDER_SQL),)


class SessionNotFoundError(LookupError):
    """Raised by :meth:`SessionService.update_session` for an id that does not exist."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(f"no session with id {session_id!r}")


class SessionService:
    """Creates, reads, updates and deletes sessions and their events.

    Every method runs in its own transaction; returned objects are detached
    but fully loaded, so they stay usable after the call.
    """

    def __init__(self, db_client: DBClient) -> None:
        self.db_client = db_client

    def new_session(self, detail: str = "New Session") -> StorageSession:
        now = utcnow()
        session = StorageSession(id=new_id(), detail=detail, created_at=now, updated_at=now)
        with self.db_client.get_db() as db:
            db.add(session)
            db.commit()
        return session

    def get_session(self, *, session_id: str) -> StorageSession | None:
        with self.db_client.get_db() as db:
            return db.scalars(
                select(StorageSession).where(StorageSession.id == session_id).options(raiseload(StorageSession.events))
            ).first()

    def get_events(self, *, session_id: str) -> list[StorageEvent]:
        """A session's events in insertion order (rowid; ``created_at`` can disagree with it)."""
        with self.db_client.get_db() as db:
            stmt = (
                select(StorageEvent)
                .where(StorageEvent.session_id == session_id)
                .order_by(*EVENT_ORDER)
                .options(raiseload(StorageEvent.session))
            )
            return list(db.scalars(stmt))

    def get_recent_session(self) -> StorageSession | None:
        """The most recently updated session: the one dasshh opens at its start (the first inserted of a tie)."""
        with self.db_client.get_db() as db:
            stmt = select(StorageSession).order_by(*SESSION_RECENT_FIRST).limit(1)
            return db.scalars(stmt.options(raiseload(StorageSession.events))).first()

    def update_session(self, *, session_id: str, detail: str) -> None:
        """Set a session's detail and bump its updated_at.

        Raises :class:`SessionNotFoundError` when no session has that id.
        """
        with self.db_client.get_db() as db:
            result = db.execute(
                update(StorageSession)
                .where(StorageSession.id == session_id)
                .values(detail=detail, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 0:
                db.rollback()
                raise SessionNotFoundError(session_id)
            db.commit()

    def list_sessions(
        self, include_events: bool = False, *, offset: int = 0, limit: int | None = None
    ) -> list[StorageSession]:
        """All sessions, most recently updated first (the first inserted first among equal times).

        With ``include_events`` each session's ``events`` are loaded (in order);
        without it they are not loaded, and touching ``events`` raises.
        ``offset`` and ``limit`` read a window of that order (the session list's pages).
        """
        loader = selectinload(StorageSession.events) if include_events else raiseload(StorageSession.events)
        stmt = select(StorageSession).order_by(*SESSION_RECENT_FIRST).options(loader).offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.db_client.get_db() as db:
            return list(db.scalars(stmt))

    def delete_session(self, *, session_id: str) -> None:
        """Delete a session and its events in one transaction; a missing id is a no-op."""
        with self.db_client.get_db() as db:
            db.execute(
                delete(StorageEvent)
                .where(StorageEvent.session_id == session_id)
                .execution_options(synchronize_session=False)
            )
            db.execute(
                delete(StorageSession)
                .where(StorageSession.id == session_id)
                .execution_options(synchronize_session=False)
            )
            db.commit()

    def add_event(self, *, invocation_id: str, session_id: str, content: dict) -> None:
        """Append an event to a session (stored as JSON, timestamped now)."""
        with self.db_client.get_db() as db:
            db.add(
                StorageEvent(
                    id=new_id(),
                    invocation_id=invocation_id,
                    session_id=session_id,
                    created_at=utcnow(),
                    content=content,
                )
            )
            db.commit()
