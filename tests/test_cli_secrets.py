"""``secrets`` and ``redact``: findings listed masked, and redaction that leaves no byte of a secret behind."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from exportutil import dasshh_database, digest

from dasshh_history import cli

sys.path.insert(0, str(Path(__file__).parent / "domain"))
from test_secrets import AWS, GHP, JWT, RSA, STRIPE

PASSWORD = "Tr0ub4dor&3x"


def call(call_id: str, command: str) -> str:
    return json.dumps({"role": "assistant", "content": None, "tool_calls": [{
        "id": call_id, "type": "function", "index": 0,
        "function": {"name": "run_shell_command", "arguments": json.dumps({"command": command})}}]})


def result(call_id: str, value: object) -> str:
    return json.dumps({"role": "tool", "tool_call_id": call_id, "name": "run_shell_command",
                       "content": json.dumps(value)})


SESSIONS = [
    ("s-keys", f"deploy with {STRIPE}", "2025-01-01 10:00:00", "2025-01-03 10:00:00"),
    ("s-clean", "nothing to see", "2025-01-02 10:00:00", "2025-01-02 10:00:00"),
    ("s-hostile", "hostile rows", "2025-01-01 09:00:00", "2025-01-01 09:00:00"),
]
EVENTS = [
    ("e1", "i1", "s-keys", "2025-01-01 10:00:00", json.dumps({"role": "user", "content": f"my key is {AWS} – ok?"},
                                                               ensure_ascii=False)),
    ("e2", "i1", "s-keys", "2025-01-01 10:00:00", call("c1", f"export GITHUB_TOKEN={GHP} && gh auth status")),
    ("e3", "i1", "s-keys", "2025-01-01 10:00:00", result("c1", {"exit_code": 0, "stdout": f"{RSA}\nPASSWORD={PASSWORD}\n"})),
    ("e4", "i2", "s-clean", "2025-01-02 10:00:00", json.dumps({"role": "user", "content": "how do I sort_key=lambda"})),
    ("e5", "i3", "s-hostile", "2025-01-01 09:00:00", '{"role": "user", "content": "truncated ' + JWT),
    ("e6", "i3", "s-hostile", "2025-01-01 09:00:00", ("blob " + GHP).encode()),
    ("e7", "i3", "s-hostile", "2025-01-01 09:00:00", None),
    ("e8", "i3", "s-hostile", "2025-01-01 09:00:00", json.dumps({"role": "user", "content": "x" * 200_000})),
]
SECRETS = [AWS, GHP, RSA.split("\n")[1], STRIPE, PASSWORD, JWT]


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = dasshh_database(tmp_path / "history.db", SESSIONS, EVENTS)
    conn = sqlite3.connect(path)  # a few secrets in freed pages already: deleted rows are not our business
    conn.close()
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def table_checksum(path: Path, table: str, where: str) -> str:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT rowid, * FROM {table} WHERE {where} ORDER BY rowid").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def files_holding(folder: Path, secret: str) -> list[str]:
    """Files under ``folder`` whose raw bytes hold ``secret`` (as written, or JSON-escaped once or twice)."""
    needles = {secret.encode(), json.dumps(secret)[1:-1].encode(), json.dumps(json.dumps(secret))[3:-3].encode()}
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                  and any(needle in p.read_bytes() for needle in needles))


def test_secrets_lists_every_finding_masked(history: Path, capsys):
    before = digest(history)
    status, out, err = run(capsys, "--db", str(history), "secrets", "--json")
    assert status == 0
    found = [(r["session_id"], r["event_id"], r["field"], r["kind"], r["masked"]) for r in json.loads(out)]
    assert found == [
        ("s-keys", None, "title", "stripe", "sk_live_…p7dc"),
        ("s-keys", "e1", "content", "aws", "AKIA…Y1U3"),
        ("s-keys", "e2", "arguments", "github", "ghp_…q7R8"),
        ("s-keys", "e3", "result", "private-key", "-----BEGIN RSA PRIVATE KEY-----…"),
        ("s-keys", "e3", "result", "password", "…"),
        ("s-hostile", "e5", "content", "jwt", "eyJ…w5c"[:4] + JWT[-4:]),
        ("s-hostile", "e6", "content", "github", "ghp_…q7R8"),
    ]
    for secret in SECRETS:
        assert secret not in out
    assert "7 likely secrets in 5 events and 1 title of 2 sessions" in err
    assert digest(history) == before  # read-only
    status, out, _ = run(capsys, "--db", str(history), "secrets")
    assert out.splitlines()[0].split() == ["SESSION", "EVENT", "FIELD", "KIND", "SECRET"]
    assert len(out.splitlines()) == 8 and all(secret not in out for secret in SECRETS)
    status, out, err = run(capsys, "--db", str(history), "secrets", "--json", "deploy")
    assert {r["session_id"] for r in json.loads(out)} == {"s-keys"}
    assert digest(history) == before


def test_search_snippets_show_secrets_masked(history: Path, capsys):
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "key")
    snippets = [r["snippet"] for r in json.loads(out)]
    assert any("AKIA…Y1U3" in s for s in snippets), snippets
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "auth status")
    assert [r["snippet"] for r in json.loads(out)] == [
        "run_shell_command command export GITHUB_TOKEN=ghp_…q7R8 && gh auth status"]
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "PASSWORD")  # in a private key's result
    snippets += [r["snippet"] for r in json.loads(out)]
    for secret in SECRETS:
        assert all(secret not in snippet for snippet in snippets)  # (titles are shown as stored)


def test_redact_is_a_dry_run_without_yes(history: Path, capsys):
    before = digest(history)
    status, out, _ = run(capsys, "--db", str(history), "redact")
    assert status == 0 and "Nothing was written" in out and "--yes" in out
    assert digest(history) == before


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_redact_leaves_no_byte_of_a_secret(history: Path, tmp_path: Path, capsys, journal: str):
    conn = sqlite3.connect(history)
    conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.close()
    run(capsys, "--db", str(history), "search", "deploy")  # the search cache holds every word now
    run(capsys, "--db", str(history), "secrets")
    assert files_holding(tmp_path / "cache", GHP)  # (the test can see a copy)
    others = table_checksum(history, "events", "id NOT IN ('e1', 'e2', 'e3', 'e5', 'e6')")
    other_sessions = table_checksum(history, "sessions", "id != 's-keys'")
    conn = sqlite3.connect(history)
    before = conn.execute("SELECT rowid, id, session_id, created_at, invocation_id, typeof(content) "
                          "FROM events ORDER BY rowid").fetchall()
    conn.close()

    (cache,) = [p for p in (tmp_path / "cache").rglob("search-*.db")]
    inode = cache.stat().st_ino

    status, out, err = run(capsys, "--db", str(history), "redact", "--yes")
    assert status == 0, err
    assert "Redacted 7 secrets in 5 events and 1 titles" in out

    # The cache is updated in place, not discarded: no byte of a secret left in it (nor anywhere), before
    # anything could build it again; it still holds every event and finds the other words at once.
    assert cache.stat().st_ino == inode
    for secret in SECRETS:
        assert files_holding(tmp_path, secret) == [], secret
    conn = sqlite3.connect(cache)
    try:
        assert conn.execute("SELECT count(*) FROM docs WHERE doc > 0").fetchone() == (8,)
        assert conn.execute("SELECT count(*) FROM secret_findings").fetchone() == (0,)
        assert conn.execute("SELECT value FROM meta WHERE key LIKE '%_due'").fetchall() == []
    finally:
        conn.close()
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "sort_key")
    assert [r["id"] for r in json.loads(out)] == ["s-clean"]
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "REDACTED")
    assert sorted(r["id"] for r in json.loads(out)) == ["s-hostile", "s-keys"]  # indexed again
    _, out, _ = run(capsys, "--db", str(history), "search", "--json", "gh auth status")
    assert [r["id"] for r in json.loads(out)] == ["s-keys"]
    assert cache.stat().st_ino == inode

    assert table_checksum(history, "events", "id NOT IN ('e1', 'e2', 'e3', 'e5', 'e6')") == others
    assert table_checksum(history, "sessions", "id != 's-keys'") == other_sessions
    conn = sqlite3.connect(history)
    try:
        after = conn.execute("SELECT rowid, id, session_id, created_at, invocation_id, typeof(content) "
                             "FROM events ORDER BY rowid").fetchall()
        contents = dict(conn.execute("SELECT id, content FROM events").fetchall())
        title = conn.execute("SELECT detail FROM sessions WHERE id = 's-keys'").fetchone()[0]
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    assert after == before and check == "ok"
    assert title == "deploy with [REDACTED:stripe]"
    assert json.loads(contents["e1"]) == {"role": "user", "content": "my key is [REDACTED:aws] – ok?"}
    assert "–" in contents["e1"]  # written as it was (not as \\u2013)
    arguments = json.loads(json.loads(contents["e2"])["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"command": "export GITHUB_TOKEN=[REDACTED:github] && gh auth status"}
    assert json.loads(json.loads(contents["e3"])["content"]) == {
        "exit_code": 0, "stdout": "[REDACTED:private-key]\nPASSWORD=[REDACTED:password]\n"}
    assert contents["e5"] == '{"role": "user", "content": "truncated [REDACTED:jwt]'  # still not JSON
    assert contents["e6"] == b"blob [REDACTED:github]"  # still a BLOB

    # No byte of any secret in the history, its WAL or journal, or our cache (rebuilt by a search).
    run(capsys, "--db", str(history), "search", "deploy")
    run(capsys, "--db", str(history), "secrets")
    for secret in SECRETS:
        assert files_holding(tmp_path, secret) == [], secret
    status, out, err = run(capsys, "--db", str(history), "secrets", "--json")
    assert json.loads(out) == []


def test_redact_one_session(history: Path, capsys):
    status, out, _ = run(capsys, "--db", str(history), "redact", "--yes", "--session", "s-hos")
    assert status == 0 and "Redacted 2 secrets in 2 events and 0 titles" in out
    _, out, _ = run(capsys, "--db", str(history), "secrets", "--json")
    assert {r["session_id"] for r in json.loads(out)} == {"s-keys"}


def test_secrets_and_redact_cover_the_trash(history: Path, tmp_path: Path, capsys):
    """A deleted session waits in the trash (a copy we keep): listed by ``secrets``, redacted by ``redact``."""
    from dasshh_history.data.client import DBClient
    from dasshh_history.data.trash_store import TrashStore, default_trash_dir

    client = DBClient(db_path=history)
    try:
        TrashStore(default_trash_dir(), history).delete(client, ["s-keys"])
    finally:
        client.dispose()
    trash = default_trash_dir()
    assert files_holding(trash, GHP) and files_holding(trash, STRIPE)  # (the test can see the copies)

    _, out, err = run(capsys, "--db", str(history), "secrets", "--json")
    records = json.loads(out)
    in_trash = [(r["session_id"], r["event_id"], r["field"], r["kind"], r["masked"]) for r in records if r["in_trash"]]
    assert in_trash == [
        ("s-keys", None, "title", "stripe", "sk_live_…p7dc"),
        ("s-keys", "e1", "content", "aws", "AKIA…Y1U3"),
        ("s-keys", "e2", "arguments", "github", "ghp_…q7R8"),
        ("s-keys", "e3", "result", "private-key", "-----BEGIN RSA PRIVATE KEY-----…"),
        ("s-keys", "e3", "result", "password", "…"),
    ]
    assert {r["session_id"] for r in records if not r["in_trash"]} == {"s-hostile"} and "5 in the trash" in err
    _, out, _ = run(capsys, "--db", str(history), "secrets", "hostile")  # a query: the trash is not searched
    assert "In the trash" not in out

    before = digest(history)
    status, out, _ = run(capsys, "--db", str(history), "redact")  # dry run: nothing written, the trash either
    assert status == 0 and "and 5 in the trash" in out and digest(history) == before
    assert files_holding(trash, GHP)

    status, out, err = run(capsys, "--db", str(history), "redact", "--yes")
    assert status == 0, err
    assert "Redacted 5 secrets in the trash (1 file rewritten)" in out
    for secret in SECRETS:
        assert files_holding(tmp_path, secret) == [], secret
    _, out, _ = run(capsys, "--db", str(history), "secrets", "--json")
    assert json.loads(out) == []

    # Restored, the session is whole and redacted: every value kept its shape.
    client = DBClient(db_path=history)
    try:
        store = TrashStore(default_trash_dir(), history)
        (batch,) = store.batches(client)
        store.restore(client, batch.name)
    finally:
        client.dispose()
    conn = sqlite3.connect(history)
    try:
        contents = dict(conn.execute("SELECT id, content FROM events WHERE session_id = 's-keys'").fetchall())
        title = conn.execute("SELECT detail FROM sessions WHERE id = 's-keys'").fetchone()[0]
    finally:
        conn.close()
    assert title == "deploy with [REDACTED:stripe]"
    assert json.loads(contents["e1"]) == {"role": "user", "content": "my key is [REDACTED:aws] – ok?"}
    arguments = json.loads(json.loads(contents["e2"])["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"command": "export GITHUB_TOKEN=[REDACTED:github] && gh auth status"}
