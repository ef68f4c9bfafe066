"""Likely secrets in the trash: found and redacted in its batch files as in the history (README, "Privacy").

A deleted session's rows wait in a batch file of the trash
(:mod:`~dasshh_history.data.trash_store`) until they expire or are restored:
a copy we keep.  Its events' ``content`` and its title (``detail``) are
scanned as the history's are (:mod:`~dasshh_history.domain.stored_secrets`);
redacting rewrites each batch file holding one, every value keeping its shape
and type (text that is not UTF-8 stays :class:`~dasshh_history.data.trash.RawText`),
as a new file renamed over the old.  Not scanned incrementally: the trash is
small and short-lived.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dasshh_history.data.client import DBClient
from dasshh_history.data.trash import DeletedSession, RawText, StoredValue
from dasshh_history.data.trash_store import TrashStore
from dasshh_history.domain.stored_secrets import find_in_content, find_in_title, redact_content, redact_title


@dataclass(frozen=True, slots=True)
class TrashFinding:
    """A likely credential in a deleted session kept in the trash: which batch, session, event (None: its
    title), field, JSON path and kind, and the secret masked."""

    batch: str
    session_id: str
    title: str | None
    event_id: str | None
    field: str
    path: str
    kind: str
    masked: str


def _value(value: StoredValue) -> object:
    return value.data if isinstance(value, RawText) else value


def find_in_trash(store: TrashStore, client: DBClient | None = None) -> list[TrashFinding]:
    """Every likely secret in this history's trash, newest delete first, each session's title first (with
    ``client``, a batch left pending by a delete that committed is looked at too, see ``TrashStore.batches``)."""
    found: list[TrashFinding] = []
    for batch in store.batches(client):
        for item in store.load(batch.name):
            session_id, title = item.session_id, item.title
            found += [TrashFinding(batch.name, session_id, title, None, f.field, f.path, f.kind, f.masked)
                      for f in find_in_title(_value(item.session.get("detail")))] if item.session else []
            for event in item.events:
                event_id = event.get("id")
                found += [TrashFinding(batch.name, session_id, title, event_id if isinstance(event_id, str) else None,
                                       f.field, f.path, f.kind, f.masked)
                          for f in find_in_content(_value(event.get("content")))]
    return found


def _redacted(value: StoredValue, redact) -> tuple[StoredValue, int]:
    if isinstance(value, RawText):
        new, count = redact(value.data)
        return (RawText(new), count) if count else (value, 0)
    return redact(value)


def _redact_session(item: DeletedSession, counts: list[int]) -> DeletedSession | None:
    total = 0
    session = dict(item.session)
    if "detail" in session:
        session["detail"], count = _redacted(session["detail"], redact_title)
        total += count
    events = []
    for event in item.events:
        row = dict(event)
        if "content" in row:
            row["content"], count = _redacted(row["content"], redact_content)
            total += count
        events.append(row)
    if not total:
        return None
    counts.append(total)
    return replace(item, session=session, events=tuple(events))


def redact_trash(store: TrashStore, client: DBClient | None = None) -> tuple[int, int]:
    """Redact every likely secret in this history's trash; how many, and in how many batch files.

    A restore of the same batch running at that moment in another process may write back what it read
    before (the trash has no lock of its own across processes): run it when no app restores."""
    counts: list[int] = []
    files = 0
    for batch in store.batches(client):
        if store.rewrite(batch.name, lambda item: _redact_session(item, counts)):
            files += 1
    return sum(counts), files
