"""Finding the likely credentials in a history and redacting them: what ``secrets``, ``redact`` and the
Secrets screen call.

Scanning is incremental (the findings are kept in the search cache file, see
:mod:`~dasshh_history.data.search.findings`); redacting rewrites dasshh's rows
(:mod:`~dasshh_history.data.redact`) and then updates the search cache, which
held the old text too: the redacted events and titles are indexed again, their
findings dropped, and the file rewritten so that no byte of the old text stays
(:func:`~dasshh_history.data.search.purge.scrub`); search keeps working without
a rebuild.  A cache that cannot be opened or updated is discarded instead
(zeroed and removed, built again when next needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.data.redact import Redacted, discard_cache, redact
from dasshh_history.data.search.findings import Finding, SecretFindings
from dasshh_history.data.search.index import SearchIndex
from dasshh_history.data.search.purge import mark_scrub_due, scrub, unmark_scrub_due
from dasshh_history.data.search.schema import default_cache_path
from dasshh_history.data.trash_secrets import TrashFinding, find_in_trash, redact_trash
from dasshh_history.data.trash_store import TrashStore, default_trash_dir
from dasshh_history.domain.secrets import KINDS
from dasshh_history.errors import DB_ERRORS

__all__ = ["Finding", "Redacted", "SecretsService", "TrashFinding", "finding_record", "trash_record"]


class SecretsService:
    """The findings of one history (read-only on it) and their redaction (with a client that may write)."""

    def __init__(self, client: DBClient, cache_path: Path | None = None, *, trash_dir: Path | None = None) -> None:
        if client.db_path is None:
            raise ValueError("secrets need a database file")
        self.client = client
        self.cache_path = cache_path or default_cache_path(client.db_path)
        self.trash_dir = trash_dir
        self._findings: SecretFindings | None = None

    def _open(self) -> SecretFindings:
        if self._findings is None:
            self._findings = SecretFindings(self.cache_path, self.client.db_path)
        return self._findings

    def scan(self, progress: Callable[[int, int], object] | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> int:
        """Scan the events not scanned yet; how many were."""
        return self._open().scan(progress, should_stop)

    def findings(self, session_ids: Iterable[str] | None = None) -> list[Finding]:
        """Every finding (of the sessions in ``session_ids``, when given), scanning what is new first."""
        self.scan()
        return self._open().findings(set(session_ids) if session_ids is not None else None)

    def redact(self, findings: Iterable[Finding], writer: DBClient) -> Redacted:
        """Redact the secrets of these findings' events and titles with ``writer`` (a client that may write
        the same file), then update the search cache (see the module's doc).  Cannot be undone."""
        findings = list(findings)
        rowids = [f.event_rowid for f in findings if f.event_rowid is not None]
        sessions = [f.session_id for f in findings if f.event_rowid is None]
        self.close()
        index = self._cache_index()
        try:
            if index is not None:
                try:  # noted first: an update stopped midway is finished by the next purge
                    mark_scrub_due(index, rowids, sessions)
                except DB_ERRORS:
                    index.close()
                    index = None
            done = redact(writer, rowids, sessions)
            self.cache_updated = None
            if index is not None and not done.secrets:
                unmark_scrub_due(index)
            elif done.secrets:
                self.cache_updated = self._update_cache(index, done)
        finally:
            if index is not None:
                index.close()
        return done

    #: After :meth:`redact`: True when the search cache was updated in place, False when it was discarded,
    #: None when there was none (or nothing was redacted).
    cache_updated: bool | None = None

    def _cache_index(self) -> SearchIndex | None:
        """The search index on our cache file, when there is one and it opens; None otherwise (then there
        is no copy to update, or the file is discarded)."""
        if str(self.cache_path) == ":memory:" or not self.cache_path.exists():
            return None
        try:
            return SearchIndex(self.client, path=self.cache_path)
        except (*DB_ERRORS, OSError):
            return None

    def _update_cache(self, index: SearchIndex | None, done: Redacted) -> bool | None:
        """Scrub the cache (True); discard it when it cannot be (False; the index is closed first)."""
        if index is not None:
            try:
                scrub(index, done.event_rowids, done.session_ids)
                return True
            except DB_ERRORS:
                index.close()
        if str(self.cache_path) == ":memory:" or not self.cache_path.exists():
            return None
        discard_cache(self.cache_path)
        return False

    def trash_findings(self, trash_dir: Path | None = None) -> list[TrashFinding]:
        """Every likely secret in this history's trash (deleted sessions kept until they expire)."""
        return find_in_trash(self._trash(trash_dir), self.client)

    def redact_trash(self, trash_dir: Path | None = None) -> tuple[int, int]:
        """Redact every likely secret in this history's trash, each batch file rewritten; how many secrets,
        in how many files.  Cannot be undone."""
        return redact_trash(self._trash(trash_dir), self.client)

    def _trash(self, trash_dir: Path | None) -> TrashStore:
        return TrashStore(trash_dir or self.trash_dir or default_trash_dir(), self.client.db_path)

    def close(self) -> None:
        if self._findings is not None:
            self._findings.close()
            self._findings = None


def finding_record(finding: Finding) -> dict[str, object]:
    """A finding as JSON for scripts (``secrets --json``)."""
    return {
        "session_id": finding.session_id,
        "event_id": finding.event_id,
        "event_rowid": finding.event_rowid,
        "field": finding.field,
        "path": finding.path,
        "kind": finding.kind,
        "kind_name": KINDS.get(finding.kind, finding.kind),
        "start": finding.start,
        "end": finding.stop,
        "masked": finding.masked,
        "in_trash": False,
    }


def trash_record(finding: TrashFinding) -> dict[str, object]:
    """A finding in the trash as JSON (``secrets --json``): ``in_trash``, with its batch and no rowid."""
    return {
        "session_id": finding.session_id,
        "event_id": finding.event_id,
        "event_rowid": None,
        "field": finding.field,
        "path": finding.path,
        "kind": finding.kind,
        "kind_name": KINDS.get(finding.kind, finding.kind),
        "masked": finding.masked,
        "in_trash": True,
        "trash_batch": finding.batch,
    }
