"""Finding the likely credentials in a history and redacting them: what ``secrets``, ``redact`` and the
Secrets screen call.

Scanning is incremental (the findings are kept in the search cache file, see
:mod:`~dasshh_history.data.search.findings`); redacting rewrites dasshh's rows
(:mod:`~dasshh_history.data.redact`) and then discards the search cache,
which held the old text too: the next search builds it again, the next scan
starts over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.data.redact import Redacted, discard_cache, redact
from dasshh_history.data.search.findings import Finding, SecretFindings
from dasshh_history.data.search.schema import default_cache_path
from dasshh_history.domain.secrets import KINDS

__all__ = ["Finding", "Redacted", "SecretsService", "finding_record"]


class SecretsService:
    """The findings of one history (read-only on it) and their redaction (with a client that may write)."""

    def __init__(self, client: DBClient, cache_path: Path | None = None) -> None:
        if client.db_path is None:
            raise ValueError("secrets need a database file")
        self.client = client
        self.cache_path = cache_path or default_cache_path(client.db_path)
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
        the same file), then discard the search cache.  Cannot be undone."""
        findings = list(findings)
        done = redact(writer, [f.event_rowid for f in findings if f.event_rowid is not None],
                      [f.session_id for f in findings if f.event_rowid is None])
        if done.secrets:
            self.close()
            discard_cache(self.cache_path)
        return done

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
    }
