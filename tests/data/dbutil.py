"""Helpers for the data-layer tests: raw SQL the way dasshh writes it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

#: The schema exactly as dasshh's SQLAlchemy models create it.
DASSHH_SCHEMA = """
CREATE TABLE sessions (
    id VARCHAR NOT NULL,
    detail VARCHAR,
    created_at DATETIME,
    updated_at DATETIME,
    PRIMARY KEY (id)
);
CREATE TABLE events (
    id VARCHAR NOT NULL,
    invocation_id VARCHAR,
    session_id VARCHAR,
    created_at DATETIME,
    content JSON,
    PRIMARY KEY (id),
    FOREIGN KEY(session_id) REFERENCES sessions (id)
);
"""


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dasshh_database(path: Path, sessions: list[tuple], events: list[tuple]) -> Path:
    """A database written with raw SQL, the way dasshh writes it."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(DASSHH_SCHEMA)
        with conn:
            conn.executemany("INSERT INTO sessions VALUES (?, ?, ?, ?)", sessions)
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", events)
    finally:
        conn.close()
    return path
