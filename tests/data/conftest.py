"""Fixtures for the data-layer tests: real SQLite files in temporary directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.db"


@pytest.fixture
def client(db_path: Path) -> Iterator[DBClient]:
    client = DBClient(db_path=db_path)
    yield client
    client.dispose()


@pytest.fixture
def service(client: DBClient) -> SessionService:
    return SessionService(client)
