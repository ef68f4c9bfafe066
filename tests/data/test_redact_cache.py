"""After a redaction the search cache is updated in place: the redacted events and titles indexed again, their
findings dropped, no byte of the old text left in the cache files, and search working without a rebuild."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from dbutil import dasshh_database

from dasshh_history.data.client import DBClient
from dasshh_history.data.redact import redact
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.findings import SecretFindings
from dasshh_history.data.search.purge import PURGE_KEY, mark_scrub_due, purge, scrub
from dasshh_history.domain.query import SearchQuery

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from test_secrets import GHP, STRIPE

AT = "2025-01-01 10:00:00"


def history(path: Path) -> Path:
    def user(eid: str, sid: str, text: str) -> tuple:
        return (eid, "i", sid, AT, json.dumps({"role": "user", "content": text}))

    filler = [user(f"f{n}", "s2", f"nginx firewall note {n} " + "lorem ipsum " * 40) for n in range(200)]
    return dasshh_database(path, [("s1", f"deploy with {STRIPE}", AT, AT), ("s2", "kept", AT, "2025-01-02 10:00:00")],
                           [user("e1", "s1", f"export GH={GHP} zebracornflake"), *filler,
                            user("e2", "s1", "plain words kept")])


def holding(folder: Path, secret: str) -> list[str]:
    """Cache files holding ``secret`` as written or lower-cased (as FTS5 keeps its words)."""
    needles = {secret.encode(), secret.lower().encode(), secret.split("_", 1)[1].lower().encode()}
    return sorted(p.name for p in folder.iterdir() if p.is_file() and any(n in p.read_bytes() for n in needles))


def redact_history(db: Path) -> tuple[tuple[int, ...], tuple[str, ...]]:
    writer = DBClient(db_path=db)
    try:
        conn = sqlite3.connect(db)
        (rowid,) = conn.execute("SELECT rowid FROM events WHERE id = 'e1'").fetchone()
        conn.close()
        done = redact(writer, [rowid], ["s1"])
    finally:
        writer.dispose()
    assert done.secrets == 2
    return done.event_rowids, done.session_ids


@pytest.mark.parametrize("scrubbed", [False, True])
def test_a_scrub_leaves_no_byte_of_the_secret_and_search_keeps_working(tmp_path: Path, scrubbed: bool):
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db)
    cache = tmp_path / "cache"
    index = SearchIndex(client, path=cache / "search.db")
    findings = SecretFindings(cache / "search.db", db)
    try:
        index.sync()
        findings.scan()
        assert {f.kind for f in findings.findings()} == {"github", "stripe"}
        assert holding(cache, GHP) and holding(cache, STRIPE)  # (the test can see a copy)
        docs = index.indexed_events()
        findings.close()
        rowids, sessions = redact_history(db)
        if not scrubbed:  # indexed again only: the old words stay in the file
            with index._lock:
                changed = index._changed_rows(rowids)
                index._write(lambda conn: index._reindex_changed(conn, changed))
            assert holding(cache, GHP)
            return
        assert scrub(index, rowids, sessions) == 1
        assert holding(cache, GHP) == [] and holding(cache, STRIPE) == []
        assert index.indexed_events() == docs  # not built again
        assert index.search(SearchQuery.parse("zebracornflake")).session_ids == ["s1"]  # the rest of the event
        assert index.search(SearchQuery.parse("REDACTED")).session_ids == ["s1"]
        assert index.search(SearchQuery.parse("in:title REDACTED")).session_ids == ["s1"]
        assert index.search(SearchQuery.parse("firewall")).session_ids == ["s2"]
        assert index.search(SearchQuery.parse("ghp")).session_ids == []
        findings = SecretFindings(cache / "search.db", db)
        assert findings.scan() == 0 and findings.findings() == []  # nothing to scan again, nothing left
    finally:
        findings.close()
        index.close()
        client.dispose()


def test_a_redaction_whose_cache_update_stopped_is_finished_by_the_next_purge(tmp_path: Path):
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db)
    cache = tmp_path / "cache"
    index = SearchIndex(client, path=cache / "search.db")
    try:
        index.sync()
        conn = sqlite3.connect(db)
        (rowid,) = conn.execute("SELECT rowid FROM events WHERE id = 'e1'").fetchone()
        conn.close()
        mark_scrub_due(index, [rowid], ["s1"])
        redact_history(db)  # then the process is killed: the cache is not updated
        assert holding(cache, GHP)
        assert index._conn.execute("SELECT value FROM meta WHERE key = ?", (PURGE_KEY,)).fetchone() == ("1",)
        purge(index)  # the app's next start hands the purge owed to a builder
        assert holding(cache, GHP) == [] and holding(cache, STRIPE) == []
        assert index.search(SearchQuery.parse("REDACTED")).session_ids == ["s1"]
        assert index._conn.execute("SELECT count(*) FROM meta WHERE key LIKE '%_due'").fetchone() == (0,)
    finally:
        index.close()
        client.dispose()
