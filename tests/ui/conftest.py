"""Fixtures for the UI tests: demo data written in the test, a fixed clock and time zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest

from dasshh_history.app import HistoryApp
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW, write_demo


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    return write_demo(tmp_path / "demo.db", now=DEMO_NOW)


@pytest.fixture
def make_app() -> Iterator:
    clients: list[DBClient] = []

    def make(path: Path) -> HistoryApp:
        client = DBClient(db_path=path)
        clients.append(client)
        return HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC, search_path=path.with_suffix(".search.db"))

    yield make
    for client in clients:
        client.dispose()


@pytest.fixture
def tool_app(tmp_path: Path, make_app) -> HistoryApp:
    """The app on the history of agent sessions in ``tool_history`` (shell, file, failed and error results)."""
    from tool_history import write_tool_history

    return make_app(write_tool_history(tmp_path / "tools.db"))
