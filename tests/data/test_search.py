"""The full-text index: what it finds, in which order, and how it keeps in step with other writers."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import dasshh_database, digest, rows

from dasshh_history.data import trash
from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex, default_cache_path, searchable_text
from dasshh_history.data.search.schema import SCHEMA_VERSION
from dasshh_history.domain.facts import NO_FACTS
from dasshh_history.domain.query import SearchQuery


def event(eid: str, sid: str, when: str, content: object, inv: str = "inv") -> tuple:
    return (eid, inv, sid, when, json.dumps(content))


SESSIONS = [
    ("s-old", "Fix the flaky test", "2025-01-01 10:00:00", "2025-01-01 10:05:00"),
    ("s-new", "Nginx config", "2025-02-01 10:00:00", "2025-02-01 10:05:00"),
    ("s-mid", "Disk space", "2025-01-15 10:00:00", "2025-01-15 10:05:00"),
]
EVENTS = [
    event("e1", "s-old", "2025-01-01 10:00:00", {"role": "user", "content": "Why does test_parser fail on CI?"}),
    event("e2", "s-old", "2025-01-01 10:00:00", {
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "index": 0,
                        "function": {"name": "run_shell_command", "arguments": '{"command": "pytest -x tests/flaky"}'}}],
    }),
    event("e3", "s-old", "2025-01-01 10:00:00", {
        "role": "tool", "tool_call_id": "c1", "name": "run_shell_command",
        "content": json.dumps({"exit_code": 1, "stdout": "FAILED test_timezone\nAssertionError"}, indent=2),
    }),
    event("e4", "s-new", "2025-02-01 10:00:00", {"role": "user", "content": "Show the nginx location for /api"}),
    event("e5", "s-new", "2025-02-01 10:00:00", {"role": "assistant", "content": "Use a **location** block; the firewall is fine."}),
    event("e6", "s-mid", "2025-01-15 10:00:00", {"role": "user", "content": "The firewall blocks port 443"}),
]


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return dasshh_database(tmp_path / "history.db", SESSIONS, EVENTS)


@pytest.fixture
def index(history: Path, tmp_path: Path) -> Iterator[SearchIndex]:
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=tmp_path / "cache" / "search.db")
    index.sync()
    yield index
    index.close()
    client.dispose()


@pytest.fixture
def make_index(history: Path, tmp_path: Path) -> Iterator:
    """Indexes of the history in cache files of their own (not synced yet), closed after the test."""
    client = DBClient(db_path=history)
    made: list[SearchIndex] = []

    def make(name: str = "search.db") -> SearchIndex:
        made.append(SearchIndex(client, path=tmp_path / name))
        return made[-1]

    yield make
    for index in made:
        index.close()
    client.dispose()


def found(index: SearchIndex, text: str) -> list[str]:
    return index.search(SearchQuery.parse(text)).session_ids


def test_finds_titles_messages_tool_arguments_and_results(index: SearchIndex):
    assert found(index, "flaky test ") == ["s-old"]  # title (and arguments)
    assert found(index, "test_parser ") == ["s-old"]  # user message
    assert found(index, "pytest ") == ["s-old"]  # tool arguments (JSON inside a string)
    assert found(index, "AssertionError ") == ["s-old"]  # tool result, after a "\n" escape
    assert found(index, "exit_code ") == ["s-old"]  # keys of a tool result
    assert found(index, "location ") == ["s-new"]


def test_newest_first_words_anded_phrases_and_case(index: SearchIndex):
    assert found(index, "FIREWALL ") == ["s-new", "s-mid"]
    assert found(index, "firewall port ") == ["s-mid"]
    assert found(index, '"blocks port"') == ["s-mid"]
    assert found(index, '"port blocks"') == []
    assert found(index, "fire") == ["s-new", "s-mid"]  # the word being typed is a prefix


def test_words_may_match_in_different_events_of_a_session(index: SearchIndex):
    assert found(index, "pytest timezone ") == ["s-old"]  # tool arguments + tool result
    assert found(index, "disk firewall ") == ["s-mid"]  # title + user message
    assert found(index, "nginx port ") == []  # in two different sessions


def test_structure_is_not_searchable(index: SearchIndex):
    assert found(index, "user ") == []
    assert found(index, "assistant ") == []
    assert found(index, "function ") == []


@pytest.mark.parametrize("text", ['"', "*", "NEAR(", "a OR", ")(", "^", "-x", "col:val", "\\", "'"])
def test_hostile_queries_never_raise(index: SearchIndex, text: str):
    assert isinstance(found(index, text), list)


def test_snippets_show_the_first_matching_event_or_the_title(index: SearchIndex):
    result = index.search(SearchQuery.parse("firewall "))
    snippets = index.snippets(result, result.session_ids)
    assert snippets == {
        "s-new": "Use a location block; the firewall is fine.",  # as read, without its Markdown
        "s-mid": "The firewall blocks port 443",
    }
    result = index.search(SearchQuery.parse("nginx config "))
    assert index.snippets(result, ["s-new"]) == {"s-new": "Nginx config"}  # only the title has both words


def test_the_history_is_never_written(history: Path, tmp_path: Path):
    before = digest(history)
    client = DBClient(db_path=history)  # creates the browser's indexes the first time
    client.dispose()
    before = digest(history)
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=tmp_path / "search.db")
    index.sync()
    found(index, "firewall")
    index.close()
    client.dispose()
    assert digest(history) == before


def change_history(history: Path) -> None:
    """Another writer: a new session mentioning the firewall, s-old renamed and s-mid deleted."""
    conn = sqlite3.connect(history)
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s-4', 'Kubernetes pods', '2025-03-01 10:00:00', '2025-03-01 10:00:00')")
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                     event("e7", "s-4", "2025-03-01 10:00:00", {"role": "user", "content": "restart the firewall"}))
        conn.execute("UPDATE sessions SET detail = 'Renamed session', updated_at = '2025-03-02 00:00:00' WHERE id = 's-old'")
        conn.execute("DELETE FROM events WHERE session_id = 's-mid'")
        conn.execute("DELETE FROM sessions WHERE id = 's-mid'")
    conn.close()


def test_keeps_in_step_with_another_writer(index: SearchIndex, history: Path):
    change_history(history)
    result = index.sync()
    assert (result.added, result.titles) == (1, 3)  # s-4 new, s-old renamed, s-mid gone with its events
    assert found(index, "firewall ") == ["s-4", "s-new"]
    assert found(index, "kubernetes ") == ["s-4"]
    assert found(index, "renamed ") == ["s-old"]
    assert found(index, "flaky test ") == ["s-old"]  # still in its tool call
    assert found(index, "fix ") == []  # the old title is gone
    assert not index.sync()  # nothing more to do


def test_a_reused_rowid_is_not_taken_for_the_old_event(index: SearchIndex, history: Path):
    conn = sqlite3.connect(history)
    with conn:
        conn.execute("DELETE FROM events WHERE id = 'e6'")  # the last rowid
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                     event("e8", "s-mid", "2025-01-15 10:00:00", {"role": "user", "content": "quota exceeded"}))
    assert rows(history, "SELECT rowid FROM events WHERE id = 'e8'") == [(6,)]
    conn.close()
    index.sync()
    assert found(index, "port ") == []
    assert found(index, "quota ") == ["s-mid"]


def test_an_undone_delete_is_searchable_again(index: SearchIndex):
    client = index.client
    deleted = trash.delete_session(client, session_id="s-mid")
    assert deleted is not None
    index.sync()
    assert found(index, "firewall ") == ["s-new"]
    trash.restore(client, deleted)
    index.sync()
    assert found(index, "firewall ") == ["s-new", "s-mid"]


def test_stale_word_segments_are_skipped_then_rebuilt_away(
    index: SearchIndex, history: Path, monkeypatch: pytest.MonkeyPatch
):
    change_history(history)
    index.sync()
    dead = rows(index.path, "SELECT count(*) FROM segs WHERE dead")[0][0]
    assert dead == 3  # s-old's old title, s-mid's title and its events
    assert found(index, "fix ") == [] and found(index, "disk ") == [] and found(index, "port ") == []
    before = {text: found(index, text) for text in ["firewall ", "renamed ", "flaky ", "pytest ", "kube", "nginx "]}
    monkeypatch.setattr("dasshh_history.data.search.sync.STALE_SEGMENTS", 0)
    index.sync()  # over the threshold now: ``words`` is made again from ``fts``
    assert rows(index.path, "SELECT count(*) FROM segs WHERE dead") == [(0,)]
    assert {text: found(index, text) for text in before} == before
    assert before["firewall "] == ["s-4", "s-new"] and before["renamed "] == ["s-old"]


def test_results_are_the_same_after_the_tables_are_optimized(make_index, monkeypatch):
    plain = make_index("plain.db")
    plain.sync()
    monkeypatch.setattr("dasshh_history.data.search.sync.OPTIMIZE_AFTER", 1)
    optimized = make_index("optimized.db")
    optimized.sync()
    for text in ["firewall ", "fire", "f", '"blocks port"', "pytest timezone ", "nginx config "]:
        assert found(optimized, text) == found(plain, text), text


def test_prefixes_looked_up_ahead_give_the_same_results(make_index, history: Path):
    cold, warm = make_index("cold.db"), make_index("warm.db")
    cold.sync()
    warm.sync()
    warm.warm(should_stop=lambda: False)
    for text in ["f", "n", "d", "t", "fi", "fire"]:
        assert found(warm, text) == found(cold, text), text
    change_history(history)  # what was looked up ahead is dropped with the next change to the index
    warm.sync()
    cold.sync()
    assert found(warm, "k") == found(cold, "k") == ["s-4"]


def test_a_long_session_is_indexed_in_several_segments(make_index, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("dasshh_history.data.search.sync.SEGMENT_TEXT", 10)
    index = make_index()
    index.sync()
    assert rows(index.path, "SELECT count(*) FROM segs WHERE seg >> 20 = 1 AND NOT title") == [(3,)]  # s-old's events
    assert found(index, "pytest timezone ") == ["s-old"]  # in two of them


def test_kept_answers_follow_changes_made_by_other_connections(index: SearchIndex, history: Path, tmp_path: Path):
    assert found(index, "firewall ") == ["s-new", "s-mid"]
    assert found(index, "kubernetes ") == []
    # The list order comes from the history: another writer makes s-mid the newest.
    conn = sqlite3.connect(history)
    with conn:
        conn.execute("UPDATE sessions SET updated_at = '2025-09-01 00:00:00' WHERE id = 's-mid'")
    conn.close()
    assert found(index, "firewall ") == ["s-mid", "s-new"]
    # Another process brings the same cache file up to date: this index's kept term answers are dropped.
    change_history(history)
    other = SearchIndex(index.client, path=index.path)
    other.sync()
    other.close()
    assert found(index, "kubernetes ") == ["s-4"]


def test_progress_is_reported_while_building(make_index, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 2)
    seen: list[tuple[int, int]] = []
    make_index().sync(lambda done, total: seen.append((done, total)))
    assert seen == [(2, 6), (4, 6), (6, 6)]


def test_a_stopped_build_resumes(make_index, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 2)
    index = make_index()
    calls = iter([False, True])
    assert index.sync(should_stop=lambda: next(calls, True)).added == 2
    assert index.indexed_events() == 2
    assert index.sync().added == 4
    assert found(index, "firewall ") == ["s-new", "s-mid"]


def test_an_unwritable_cache_falls_back_to_memory(history: Path, tmp_path: Path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=blocker / "search.db")
    index.sync()
    assert str(index.path) == ":memory:"
    assert found(index, "firewall ") == ["s-new", "s-mid"]
    index.close()
    client.dispose()


def test_an_index_of_another_layout_is_rebuilt(history: Path, tmp_path: Path):
    cache = tmp_path / "search.db"
    conn = sqlite3.connect(cache)
    conn.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); INSERT INTO meta VALUES ('schema', 'old');")
    conn.close()
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=cache)
    index.sync()
    assert found(index, "firewall ") == ["s-new", "s-mid"]
    index.close()
    client.dispose()


def test_a_tool_result_stored_as_a_json_string_is_searched_without_its_escapes(tmp_path: Path):
    """dasshh stores a tool's text result ``json.dumps``-ed: a quoted string with ``\\n`` and ``\\"`` in it."""
    result = json.dumps('PRETTY_NAME="Debian GNU/Linux 12"\nNAME="Debian"\n', indent=2)
    history = dasshh_database(tmp_path / "history.db", [SESSIONS[0]], [
        event("e1", "s-old", "2025-01-01 10:00:00", {"role": "tool", "tool_call_id": "c1", "name": "read_file",
                                                      "content": result}),
    ])
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=tmp_path / "search.db")
    index.sync()
    try:
        assert found(index, "NAME ") == ["s-old"]  # escaped, it was indexed as "nNAME"
        assert found(index, '"GNU Linux 12"') == ["s-old"]
        result = index.search(SearchQuery.parse("NAME "))
        snippet = index.snippets(result, ["s-old"])["s-old"]
        assert "\\" not in snippet and 'NAME="Debian"' in snippet, snippet
    finally:
        index.close()
        client.dispose()


def test_a_cache_of_an_earlier_version_is_rebuilt(history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A cache written before the extracted text changed (version 3: JSON string literals indexed with their
    escapes) is thrown away and built again, so that what it holds is extracted as it is now."""
    cache = tmp_path / "search.db"
    client = DBClient(db_path=history)
    with monkeypatch.context() as patch:  # a cache with other text in it...
        patch.setattr("dasshh_history.data.search.sync.read_event", lambda raw: ("stale", NO_FACTS))
        index = SearchIndex(client, path=cache)
        index.sync()
        index.close()
    index = SearchIndex(client, path=cache)
    index.sync()
    assert found(index, "stale ") == ["s-new", "s-mid", "s-old"]  # ...is kept while its version is current
    index.close()
    conn = sqlite3.connect(cache)
    with conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")  # ...and rebuilt once it is not
    conn.close()
    index = SearchIndex(client, path=cache)
    index.sync()
    assert found(index, "stale ") == [] and found(index, "firewall ") == ["s-new", "s-mid"]
    assert rows(cache, "SELECT value FROM meta WHERE key = 'schema'") == [(SCHEMA_VERSION,)]
    index.close()
    client.dispose()


def test_default_cache_path_is_per_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    one, two = default_cache_path(tmp_path / "a.db"), default_cache_path(tmp_path / "b.db")
    assert one.parent == tmp_path / "cache" / "dasshh-history"
    assert one != two


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"role": "user", "content": "hello"}', "hello"),
        ('{"role": "user", "content": [{"type": "text", "text": "part one"}]}', "part one"),
        ("not json at all", "not json at all"),
        (b"\xff\xfebinary", "\ufffd\ufffdbinary"),
        (None, ""),
        ("[" * 5000 + "]" * 5000, "[" * 5000 + "]" * 5000),  # too deep to parse: indexed as text
        (json.dumps({"role": "tool", "tool_call_id": "c1", "name": "read_file",
                     "content": json.dumps('PRETTY_NAME="Debian"\nNAME=x', indent=2)}), 'read_file\nPRETTY_NAME="Debian"\nNAME=x'),
        (json.dumps({"role": "tool", "content": json.dumps('{"exit_code": 0}')}), "exit_code\n0"),  # JSON in the string
        (json.dumps({"role": "user", "content": '"quoted" and more'}), '"quoted" and more'),  # not a literal
        (json.dumps({"role": "user", "content": '"unclosed'}), '"unclosed'),
    ],
    ids=["message", "parts", "not-json", "binary", "null", "too-deep", "quoted-string", "quoted-json", "quote-start",
         "unclosed-quote"],
)
def test_searchable_text_of_any_stored_value(raw: object, expected: str):
    assert searchable_text(raw) == expected


BROAD_TEXTS = ["f", "fi", "fir", "firewall ", "firewall", "fix ", "k", "kubernetes ", "the ", "t", "n", "renamed ",
               "pytest ", "p", "disk ", "port ", "flaky test ", '"blocks port"', "1"]


def test_broad_words_and_prefixes_are_kept_and_patched_with_what_changed_since(
    make_index, history: Path, monkeypatch: pytest.MonkeyPatch
):
    plain = make_index("plain.db")
    plain.sync()
    assert rows(plain.path, "SELECT count(*) FROM broad") == [(0,)]  # nothing is broad in six events
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)  # now every word and prefix is
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_MAX", 10_000)
    broad = make_index("broad.db")
    broad.sync()
    kept = {expr for (expr,) in rows(broad.path, "SELECT expr FROM broad")}
    assert {'"f"*', '"fi"*', '"fir"*', '"firewall"', '"the"', '"1"'} <= kept
    assert rows(broad.path, "SELECT count(*) FROM changed") == [(0,)]
    for text in BROAD_TEXTS:
        assert found(broad, text) == found(plain, text), text
    # The kept answers are what is searched: spoilt on purpose, one gives nothing.
    spoilt = sqlite3.connect(broad.path)
    with spoilt:
        spoilt.execute("UPDATE broad SET marks = ? WHERE expr = '\"nginx\"'", (zlib.compress(b""),))
    spoilt.close()
    assert found(broad, "nginx ") == [] and found(plain, "nginx ") == ["s-new"]
    # Another writer: a new session, a rename, a deletion.  Kept answers are patched with what changed.
    change_history(history)
    plain.sync()
    broad.sync()
    assert rows(broad.path, "SELECT session FROM changed ORDER BY session") == [(1,), (3,), (4,)]
    assert rows(broad.path, "SELECT count(*) FROM broad") == [(len(kept),)]  # not worked out again
    for text in BROAD_TEXTS:
        assert found(broad, text) == found(plain, text), text
    assert found(broad, "fix ") == [] and found(broad, "k") == ["s-4"] and found(broad, "disk ") == []
    # Once too much changed, they are worked out again.
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_CHANGED", 2)
    broad.sync()
    assert rows(broad.path, "SELECT count(*) FROM changed") == [(0,)]
    assert found(broad, "nginx ") == ["s-new"]  # the spoilt answer is gone with the old ones
    for text in BROAD_TEXTS:
        assert found(broad, text) == found(plain, text), text


def test_a_history_that_grows_gets_its_broad_answers(make_index, history: Path, monkeypatch: pytest.MonkeyPatch):
    index = make_index()
    index.sync()
    assert rows(index.path, "SELECT value FROM meta WHERE key = 'broad'") == [("0",)]  # nothing broad yet
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)  # the history grew...
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_CHANGED", 2)
    change_history(history)  # ...by more sessions than BROAD_CHANGED: noted, so due again
    index.sync()
    assert rows(index.path, "SELECT count(*) FROM broad")[0][0] > 0
    assert rows(index.path, "SELECT count(*) FROM changed") == [(0,)]
    assert found(index, "firewall ") == ["s-4", "s-new"] and found(index, "k") == ["s-4"]


def test_a_stopped_working_out_of_broad_answers_leaves_none_half_made(
    make_index, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)
    index = make_index()
    asked = iter([False, False, True])  # indexing goes on, the broad answers are stopped after one
    index.sync(should_stop=lambda: next(asked, True))
    assert rows(index.path, "SELECT count(*) FROM broad") == [(0,)]
    assert rows(index.path, "SELECT count(*) FROM meta WHERE key = 'broad'") == [(0,)]  # still due
    assert found(index, "firewall ") == ["s-new", "s-mid"]
    index.sync()
    assert rows(index.path, "SELECT count(*) FROM broad")[0][0] > 0
    assert found(index, "firewall ") == ["s-new", "s-mid"]


def add_far_session(history: Path, rowid: int) -> None:
    conn = sqlite3.connect(history)
    with conn:
        conn.execute("INSERT INTO sessions (rowid, id, detail, created_at, updated_at) VALUES "
                     "(?, 's-far', 'Faraway firewall', '2025-01-20 10:00:00', '2025-01-20 10:00:00')", (rowid,))
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                     event("e9", "s-far", "2025-01-20 10:00:00", {"role": "user", "content": "kubernetes"}))
    conn.close()


@pytest.mark.parametrize("rowid", [70_000, 2_000_000, 2**22, 2**40, 2**62])
def test_sessions_with_large_rowids_are_found_or_left_out(index: SearchIndex, history: Path, rowid: int):
    """Rowids are read as characters up to about a million, as decimal text past that; from 2**22 on
    (never made by dasshh) the session is left out of the index, and nothing else is."""
    add_far_session(history, rowid)
    index.sync()
    far = ["s-far"] if rowid < 2**22 else []
    assert found(index, "firewall ") == ["s-new", *far, "s-mid"]
    assert found(index, "kube") == far
    assert found(index, "firewall fara") == far
    assert index.indexed_events() == 6 + len(far)
    assert not index.sync()  # and the next sync has nothing to do


@pytest.mark.parametrize("rowid", [70_000, 2_000_000])
def test_broad_answers_worked_out_before_any_search_hold_large_rowids(
    make_index, history: Path, monkeypatch: pytest.MonkeyPatch, rowid: int
):
    add_far_session(history, rowid)
    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)
    index = make_index()
    index.sync()  # the broad answers are worked out here, before anything was searched
    assert rows(index.path, "SELECT count(*) FROM broad WHERE expr = '\"firewall\"'") == [(1,)]
    assert found(index, "firewall ") == ["s-new", "s-far", "s-mid"]
    assert found(index, "k") == ["s-far"]


def test_a_sync_started_while_another_works_waits_for_it_and_the_history_stays_writable(
    make_index, history: Path, monkeypatch: pytest.MonkeyPatch
):
    """The app starts a new sync when the history changes, while the last one may still be stopping.
    And while the cache is being written (here: in the long transaction of the broad answers), dasshh
    can write its history: the cache's transactions take no lock on it."""
    import threading

    monkeypatch.setattr("dasshh_history.data.search.broad.BROAD_DOCS", 1)
    index = make_index()
    inside, release = threading.Event(), threading.Event()

    def held() -> bool:  # the first sync stops between two broad lookups, its transaction open
        if index._conn.in_transaction:
            inside.set()
            release.wait(5)
        return False

    errors: list[BaseException] = []

    def run(should_stop) -> None:
        try:
            index.sync(should_stop=should_stop)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=run, args=(held,))
    first.start()
    assert inside.wait(5)
    change_history(history)  # within sqlite3's 5 s timeout; it used to fail with "database is locked"
    second = threading.Thread(target=run, args=(lambda: False,))
    second.start()
    second.join(0.3)
    assert second.is_alive()  # waiting for the first
    release.set()
    first.join(5)
    second.join(5)
    assert errors == []
    assert found(index, "firewall ") == ["s-4", "s-new"] and found(index, "fix ") == []
    assert rows(index.path, "SELECT count(*), count(DISTINCT event_rowid) FROM docs") == [(6, 6)]
