"""What the marks of the session list need read: every session (``*``), which marks are left, the marked summaries."""

from __future__ import annotations

from collections.abc import Sequence

from dasshh_history.data import selection
from dasshh_history.data.browse import HistoryReader
from dasshh_history.domain.values import SessionSummary


def every_session_id(reader: HistoryReader) -> list[str]:
    return selection.every_id(reader.db_client)


def existing_ids(reader: HistoryReader, ids: Sequence[str]) -> set[str]:
    return selection.existing_ids(reader.db_client, ids)


def marked_summaries(reader: HistoryReader, ids: Sequence[str]) -> list[SessionSummary]:
    """The summaries (message counts included) of the sessions of ``ids`` that exist, in the order of ``ids``."""
    summaries: list[SessionSummary] = []
    for part in selection.chunks(ids):
        summaries.extend(reader.list_summaries_by_ids(part))
    return summaries
