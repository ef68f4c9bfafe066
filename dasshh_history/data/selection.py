"""Read-only lookups for marked sessions: every session's id, and which of some ids still exist."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dasshh_history.data.client import DBClient

__all__ = ["CHUNK", "chunks", "every_id", "existing_ids"]

#: Ids looked up per statement (well below SQLite's variable limit).
CHUNK = 500


def chunks(ids: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def every_id(client: DBClient) -> list[str]:
    """Every session's id (in no particular order)."""
    with client.get_db() as db:
        return [row[0] for row in db.connection().exec_driver_sql("SELECT id FROM sessions")]


def existing_ids(client: DBClient, ids: Sequence[str]) -> set[str]:
    """Those of ``ids`` that a session has."""
    found: set[str] = set()
    with client.get_db() as db:
        conn = db.connection()
        for part in chunks(ids):
            marks = ",".join("?" * len(part))
            found.update(row[0] for row in conn.exec_driver_sql(f"SELECT id FROM sessions WHERE id IN ({marks})",
                                                                tuple(part)))
    return found
