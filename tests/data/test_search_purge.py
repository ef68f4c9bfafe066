"""After a purge, no byte of a deleted session's text remains in the search cache files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from dbutil import dasshh_database

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.purge import purge
from dasshh_history.domain.query import SearchQuery

WORD = "zebracornflake"


def history(path: Path) -> Path:
    def user(eid: str, sid: str, text: str) -> tuple:
        return (eid, "i", sid, "2025-01-01 10:00:00", json.dumps({"role": "user", "content": text}))

    return dasshh_database(path, [("s1", f"title {WORD}x", "2025-01-01 10:00:00", "2025-01-01 10:00:00"),
                                  ("s2", "kept", "2025-01-02 10:00:00", "2025-01-02 10:00:00")],
                           [user("e1", "s1", f"the {WORD} secret"), user("e2", "s2", "nginx firewall"),
                            user("e3", "s1", f"again {WORD}")])


def holding(folder: Path, word: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and word.encode() in p.read_bytes())


@pytest.mark.parametrize("purged", [False, True])
def test_a_purge_leaves_no_byte_of_deleted_text(tmp_path: Path, purged: bool):
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db)
    cache = tmp_path / "cache"
    index = SearchIndex(client, path=cache / "search.db")
    try:
        index.sync()
        assert index.search(SearchQuery.parse(WORD)).session_ids == ["s1"]
        conn = sqlite3.connect(db)
        with conn:
            conn.execute("DELETE FROM events WHERE session_id = 's1'")
            conn.execute("DELETE FROM sessions WHERE id = 's1'")
        conn.close()
        index.sync()
        assert index.search(SearchQuery.parse(WORD)).session_ids == []
        if purged:
            purge(index)
            assert holding(cache, WORD) == []
            assert index.search(SearchQuery.parse("firewall")).session_ids == ["s2"]
        else:
            assert holding(cache, WORD)  # (without it the words stay: the test can see them)
    finally:
        index.close()
        client.dispose()
