"""The services without a UI: the list's reads, the actions' outcomes, the index keeper's error said once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sortutil import EXPECTED, KIWI, write_sorted_history

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.demo import DEMO_NOW, write_demo
from dasshh_history.domain.order import ListOrder
from dasshh_history.domain.query import SearchQuery
from dasshh_history.services.actions import GONE, Actions
from dasshh_history.services.index_keeper import IndexKeeper
from dasshh_history.services.listing import PAGE_SIZE, Listing


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DBClient, Path]]:
    path = write_demo(tmp_path / "demo.db", now=DEMO_NOW)
    client = DBClient(db_path=path)
    yield client, path
    client.dispose()


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def listing_of(client: DBClient, tmp_path: Path) -> Listing:
    return Listing(SessionService(client), HistoryReader(client), IndexKeeper(client, tmp_path / "search.db"))


def test_the_list_starts_on_the_session_dasshh_opens(demo, tmp_path):
    client, path = demo
    read = listing_of(client, tmp_path).read(SearchQuery.parse(""), prefer_recent=True)
    newest_first = [r[0] for r in rows(path, "SELECT id FROM sessions ORDER BY updated_at DESC, rowid ASC")]
    assert read.result is None and read.total == len(newest_first) == 12
    assert read.index == 0 and [s.id for s in read.pages[0]] == newest_first
    counts = dict(rows(path, "SELECT session_id, count(*) FROM events GROUP BY session_id"))
    assert {s.id: s.event_count for s in read.pages[0]} == {sid: counts.get(sid, 0) for sid in newest_first}
    assert read.source(3, 2) == read.pages[0][3:5]


def test_the_highlight_follows_its_session_or_stays_at_its_place(demo, tmp_path):
    client, path = demo
    listing = listing_of(client, tmp_path)
    target = rows(path, "SELECT id FROM sessions ORDER BY updated_at DESC, rowid ASC")[7][0]
    assert listing.read(SearchQuery.parse(""), highlight_id=target).index == 7
    assert listing.read(SearchQuery.parse(""), highlight_id="gone", keep_index=5).index == 5
    assert listing.read(SearchQuery.parse(""), keep_index=500).index == 11
    assert PAGE_SIZE > 12


def test_a_search_lists_the_matching_sessions_with_snippets(demo, tmp_path):
    client, path = demo
    listing = listing_of(client, tmp_path)
    listing.index.sync()
    read = listing.read(SearchQuery.parse("nginx"))
    assert read.result is not None and read.total >= 1
    assert all("nginx" in (s.snippet or "").lower() or "nginx" in (s.detail or "").lower() for s in read.pages[0])
    assert listing.read(SearchQuery.parse("nginx"), cancelled=lambda: True) is None


def test_rename_outcome_and_database(demo):
    client, path = demo
    actions = Actions(client)
    summary = HistoryReader(client).list_summaries(limit=2)[1]
    before = rows(path, "SELECT updated_at FROM sessions WHERE id = ?", summary.id)
    outcome = actions.rename(summary, "New name")
    assert (outcome.message, outcome.severity, outcome.reload, outcome.highlight_id, outcome.keep_scroll) == (
        "Renamed to “New name”", "information", True, summary.id, True)
    assert rows(path, "SELECT detail, updated_at FROM sessions WHERE id = ?", summary.id) == [("New name", before[0][0])]
    gone = actions.rename(type(summary)("nope", None, None, None, 0), "x")
    assert (gone.message, gone.severity) == (GONE, "warning")


def test_delete_then_undo_puts_every_row_back(demo):
    client, path = demo
    actions = Actions(client)
    before = rows(path, "SELECT rowid, * FROM events ORDER BY rowid") + rows(path, "SELECT rowid, * FROM sessions")
    assert not actions.can_undo
    nothing = actions.undo()
    assert (nothing.message, nothing.severity) == ("Nothing to undo: the trash holds no deleted session.", "warning")
    assert actions.nothing_to_undo == nothing.message
    summary = HistoryReader(client).list_summaries(limit=1)[0]
    deleted = actions.delete(summary, 0)
    assert deleted.reload and deleted.keep_index == 0 and "press u to undo" in deleted.message
    assert rows(path, "SELECT count(*) FROM sessions WHERE id = ?", summary.id) == [(0,)]
    assert actions.can_undo
    restored = actions.undo()
    assert restored.highlight_id == summary.id and restored.message.startswith("Restored")
    assert rows(path, "SELECT rowid, * FROM events ORDER BY rowid") + rows(path, "SELECT rowid, * FROM sessions") == before
    assert not actions.can_undo
    left = actions.undo()  # every delete undone: not "no session was deleted"
    assert (left.message, left.severity) == ("Nothing left to undo: every deleted session is back.", "warning")
    assert actions.nothing_to_undo == left.message


def test_export_and_copy_outcomes(demo, tmp_path):
    client, _ = demo
    actions = Actions(client)
    summary = HistoryReader(client).list_summaries(limit=1)[0]
    exported = actions.export(summary, tmp_path)
    written = Path(exported.message.removeprefix("Exported to "))
    assert written.parent == tmp_path and written.read_text(encoding="utf-8").startswith("# ")
    copied = actions.copy(summary)
    assert copied.clipboard == written.read_text(encoding="utf-8")
    lines = copied.clipboard.count(chr(10)) + 1
    # Sent, not "copied": a terminal that ignores OSC 52 drops it without a word.
    assert copied.message.startswith("Sent to the terminal's clipboard (OSC 52): “")
    assert f"as Markdown ({lines:,} lines)." in copied.message and "set -g set-clipboard on" in copied.message
    assert "Copied" not in copied.message


def test_export_sessions_writes_each_to_a_new_file_and_never_overwrites(demo, tmp_path):
    client, _path = demo
    actions = Actions(client)
    ids = [s.id for s in SessionService(client).list_sessions()]
    folder = tmp_path / "all"
    seen = []
    outcome = actions.export_sessions(None, folder, progress=lambda done, total: seen.append((done, total)))
    assert outcome.message == f"Exported {len(ids)} sessions to {folder}" and outcome.severity == "information"
    assert seen == [(n, len(ids)) for n in range(len(ids) + 1)]
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert len(first) == len(ids)
    # Two of them, one deleted meanwhile, into the same folder: new names, nothing replaced.
    outcome = actions.export_sessions([ids[0], "gone", ids[1]], folder)
    assert outcome.message == f"Exported 2 sessions to {folder} (1 session deleted meanwhile)"
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert len(after) == len(ids) + 2 and {name: after[name] for name in first} == first
    # Stopped between two sessions.
    outcome = actions.export_sessions(ids, tmp_path / "stopped", cancelled=lambda: len(list((tmp_path / "stopped").iterdir())) >= 3)
    assert outcome.message == f"Export stopped: 3 sessions of {len(ids)} written to {tmp_path / 'stopped'}"
    assert outcome.severity == "warning"


def test_export_sessions_folder_errors_are_raised_before_anything_is_written(demo, tmp_path):
    client, _path = demo
    actions = Actions(client)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        actions.export_sessions(None, tmp_path / "file")
    with pytest.raises(FileNotFoundError):
        actions.export_sessions(None, tmp_path / "missing" / "folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db", "file"]


def test_a_title_in_any_script_names_the_exported_file(demo, tmp_path):
    client, _ = demo
    actions = Actions(client)
    summary = HistoryReader(client).list_summaries(limit=1)[0]
    actions.rename(summary, "日本語のメモ 🚀")
    exported = actions.export(summary, tmp_path)
    written = Path(exported.message.removeprefix("Exported to "))
    assert written.name.endswith("-日本語のメモ.md") and written.parent == tmp_path, written
    assert written.read_text(encoding="utf-8").startswith("# 日本語のメモ 🚀")


def test_the_index_keeper_says_a_failing_sync_once_and_remembers_it_is_behind(demo, tmp_path, monkeypatch):
    client, _ = demo
    keeper = IndexKeeper(client, tmp_path / "search.db")
    assert keeper.available and not keeper.is_open
    assert keeper.sync().changed and keeper.is_open

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(type(keeper.open()), "sync", locked)
    first, second = keeper.sync(), keeper.sync()
    assert first.failed and first.error == "Could not index for search: the database is locked by another program; try again"
    assert second.failed and second.error is None  # said once
    assert keeper.behind
    monkeypatch.undo()
    keeper.behind = False
    assert not keeper.sync().failed
    assert keeper.sync().error is None
    keeper.close()
    assert not IndexKeeper(DBClient(url="sqlite://")).available


def test_a_rename_is_searchable_at_once_and_after_a_restart(demo, tmp_path):
    """Our rename keeps updated_at, by which the index's sync finds changed titles: the index is told instead."""
    client, path = demo
    cache = tmp_path / "search.db"
    keeper = IndexKeeper(client, cache)
    keeper.sync()
    summary = HistoryReader(client).list_summaries(limit=3)[2]  # not the most recent: its date says nothing
    found = lambda index, words: index.open().search(SearchQuery.parse(words)).session_ids  # noqa: E731
    assert summary.id not in found(keeper, "zanzibar in:title")
    Actions(client, index=keeper).rename(summary, "Zanzibar notes")
    keeper.sync()
    assert found(keeper, "zanzibar in:title") == [summary.id]
    assert found(keeper, "zanzibar") == [summary.id]
    keeper.close()
    again = IndexKeeper(client, cache)  # the next run, the title already in the cache
    again.sync()
    assert found(again, "zanzibar") == [summary.id]
    again.close()

    # Renamed in a run that never opened the index: the first sync of the next run reads it.
    Actions(client).rename(summary, "Quokka notes")
    third = IndexKeeper(client, tmp_path / "fresh.db")
    third.sync()
    assert found(third, "quokka") == [summary.id]
    third.close()


@pytest.mark.parametrize("order", list(ListOrder))
def test_the_list_and_a_search_in_each_order(tmp_path, order):
    path = write_sorted_history(tmp_path / "sorted.db")
    client = DBClient(db_path=path)
    listing = listing_of(client, tmp_path)
    try:
        read = listing.read(SearchQuery.parse(""), order=order, highlight_id="e")
        assert read.order is order and read.total == 10 and read.title == f"Sessions (10) · {order.label}"
        assert [s.id for s in read.pages[0]] == EXPECTED[order]
        assert read.index == EXPECTED[order].index("e")  # the highlight follows its session
        assert [s.id for s in read.source(3, 4)] == EXPECTED[order][3:7]  # pages are windows of the order
        assert {s.id: s.event_count for s in read.pages[0]}["h"] == 7
        listing.index.sync()
        found = listing.read(SearchQuery.parse("kiwi"), order=order, highlight_id="d")
        assert found.title == f"Search (5) · {order.label}"
        assert found.result.session_ids == [sid for sid in EXPECTED[order] if sid in KIWI]
        assert [s.id for s in found.pages[0]] == found.result.session_ids
        assert all("kiwi" in s.snippet for s in found.pages[0])
        assert found.index == found.result.session_ids.index("d")
    finally:
        listing.close()
        listing.index.close()
        client.dispose()


def test_a_session_deleted_since_the_order_was_read_keeps_its_row(tmp_path):
    path = write_sorted_history(tmp_path / "sorted.db")
    client = DBClient(db_path=path)
    listing = listing_of(client, tmp_path)
    try:
        read = listing.read(SearchQuery.parse(""), order=ListOrder.SIZE)
        SessionService(client).delete_session(session_id="b")
        rows_now = read.source(0, 3)
        assert [(s.id, s.detail) for s in rows_now] == [("h", "Session H"), ("b", "(deleted)"), ("e", "Session E")]
        again = listing.read(SearchQuery.parse(""), order=ListOrder.SIZE, keep_index=1)
        assert again.total == 9
        assert [s.id for s in again.pages[0]] == [sid for sid in EXPECTED[ListOrder.SIZE] if sid != "b"]
    finally:
        listing.close()
        listing.index.close()
        client.dispose()
