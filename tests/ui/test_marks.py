"""Marks: space and * mark sessions, Escape clears them first, d and e act on every marked session at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_live_refresh import write_from_another_process
from uiutil import SIZE, plain_title, said, settle, wait_for

from dasshh_history.domain.order import ListOrder
from dasshh_history.screens.confirm_delete import ConfirmDeleteManyScreen, ConfirmDeleteScreen
from dasshh_history.screens.export_dialog import ExportFolderScreen
from dasshh_history.widgets.session_list import MARK


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of both tables, every column as (typeof, hex), in rowid order."""
    with sqlite3.connect(path) as conn:
        result = {}
        for table in ("sessions", "events"):
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            selected = ", ".join(f"typeof({c}), hex({c})" for c in columns)
            result[table] = conn.execute(f"SELECT rowid, {selected} FROM {table} ORDER BY rowid").fetchall()
        return result


def listed(app) -> list[str]:
    return [s.id for s in app.browser.session_list.summaries]


def marked(app) -> list[str]:
    return app.browser.session_list.marked_ids


async def test_space_marks_and_moves_on_the_row_and_title_show_it_and_escape_clears(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sessions = app.browser.session_list
        ids = listed(app)
        title = plain_title(sessions)
        assert title == "Sessions (12) · by last update"
        await pilot.press("space", "space", "j", "space")
        await settle(pilot)
        assert marked(app) == [ids[0], ids[1], ids[3]]
        assert sessions.highlighted == 4  # space moves on
        assert plain_title(sessions) == "Sessions (12) · 3 marked · by last update"
        assert [sessions.row_text(i).startswith(MARK) for i in range(5)] == [True, True, False, True, False]
        # Drawn: a bar in the left margin and the tick before the title, on marked rows only.
        first = "".join(segment.text for segment in sessions.render_line(0))
        third = "".join(segment.text for segment in sessions.render_line(4))
        assert first.startswith("▌" + MARK) and not third.startswith("▌")
        await pilot.press("k", "space")  # unmarks the fourth
        await settle(pilot)
        assert marked(app) == [ids[0], ids[1]] and plain_title(sessions) == "Sessions (12) · 2 marked · by last update"
        await pilot.press("escape")
        await settle(pilot)
        assert marked(app) == [] and plain_title(sessions) == title
        assert not sessions.row_text(0).startswith(MARK)


async def test_escape_clears_the_marks_before_the_search_and_star_marks_the_results(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sessions = app.browser.session_list
        first = listed(app)[0]
        await pilot.press("space")
        await pilot.press("slash", *"nginx")
        await wait_for(pilot, lambda: plain_title(sessions).startswith("Search ("))
        await settle(pilot)
        results = list(app.browser.listed_ids)
        assert 0 < len(results) < 12 and first not in results
        await pilot.press("tab")  # to the list: * is a key there, a letter in the box
        await settle(pilot)
        await pilot.press("asterisk")
        await wait_for(pilot, lambda: len(marked(app)) == 1 + len(results))
        assert marked(app) == [first, *results]
        assert plain_title(sessions) == f"Search ({len(results)}) · {1 + len(results)} marked · by last update"
        await pilot.press("escape")  # marks first: the search stays
        await settle(pilot)
        assert marked(app) == [] and app.browser.search_query.text == "nginx"
        await pilot.press("escape")  # then the search
        await settle(pilot)
        assert app.browser.search_query.text == "" and sessions.total == 12


async def test_star_marks_every_session_even_rows_not_read_yet(tmp_path, make_app):
    from dasshh_history.demo import DEMO_NOW, write_demo

    path = write_demo(tmp_path / "many.db", now=DEMO_NOW)
    with sqlite3.connect(path) as conn:  # 212 sessions: pages of 40 rows, most never drawn
        conn.executemany("INSERT INTO sessions VALUES (?, ?, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
                         [(f"extra-{n:03}", f"Extra {n}") for n in range(200)])
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        await wait_for(pilot, lambda: len(marked(app)) == 212)
        with sqlite3.connect(path) as conn:
            assert set(marked(app)) == {row[0] for row in conn.execute("SELECT id FROM sessions")}
        assert plain_title(app.browser.session_list) == "Sessions (212) · 212 marked · by last update"


async def test_marks_survive_sorting_and_live_refresh_and_a_deleted_one_drops_out(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ids = listed(app)
        await pilot.press("space", "j", "space", "j", "space")
        await settle(pilot)
        assert marked(app) == [ids[0], ids[2], ids[4]]
        await pilot.press("s", "s", "s")  # by size
        await wait_for(pilot, lambda: ListOrder.SIZE.label in plain_title(app.browser.session_list))
        await settle(pilot)
        sessions = app.browser.session_list
        assert marked(app) == [ids[0], ids[2], ids[4]]
        by_size = listed(app)
        assert [sessions.row_text(i).startswith(MARK) for i in range(12)] == [sid in marked(app) for sid in by_size]
        # Another process writes a session and deletes a marked one.
        write_from_another_process(
            demo_db,
            ("INSERT INTO sessions VALUES ('new', 'Written meanwhile', '2026-03-14 15:00:00', '2026-03-14 15:00:00')",
             []),
            ("DELETE FROM events WHERE session_id = ?", [ids[2]]),
            ("DELETE FROM sessions WHERE id = ?", [ids[2]]),
        )
        await wait_for(pilot, lambda: marked(app) == [ids[0], ids[4]])
        await settle(pilot)
        assert "new" in listed(app) and ids[2] not in listed(app)
        assert plain_title(sessions) == "Sessions (12) · 2 marked · by size"


async def test_d_with_marks_asks_once_naming_sessions_and_messages_and_u_brings_them_all_back(demo_db, make_app):
    before = dump(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sessions = app.browser.session_list
        chosen = [sessions.summary_at(i) for i in (1, 2, 5)]
        for index in (1, 2, 5):
            sessions.highlighted = index
            await pilot.press("space")
        await settle(pilot)
        messages = sum(s.event_count for s in chosen)
        assert messages > 3
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteManyScreen))
        text = " ".join(str(label.render()) for label in app.screen.query("Label"))
        assert "Delete 3 sessions?" in text
        assert str(app.screen.query_one("#delete-title").render()) == f"3 sessions · {messages} messages"
        await pilot.press("n")  # keeps them
        await wait_for(pilot, lambda: app.screen is app.browser)
        assert dump(demo_db) == before and len(marked(app)) == 3
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteManyScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: sessions.total == 9)
        await settle(pilot)
        with sqlite3.connect(demo_db) as conn:
            gone = [s.id for s in chosen]
            marks = ",".join("?" * 3)
            assert conn.execute(f"SELECT count(*) FROM sessions WHERE id IN ({marks})", gone).fetchone() == (0,)
            assert conn.execute(f"SELECT count(*) FROM events WHERE session_id IN ({marks})", gone).fetchone() == (0,)
        assert said(app)[-1] == f"Deleted 3 sessions with {messages} messages · press u to undo"
        await wait_for(pilot, lambda: marked(app) == [])  # the deleted sessions' marks drop out
        await pilot.press("u")
        await wait_for(pilot, lambda: sessions.total == 12)
        await settle(pilot)
        assert dump(demo_db) == before  # every byte, every rowid


async def test_d_without_marks_still_deletes_the_highlighted_one(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDeleteScreen))
        assert not isinstance(app.screen, ConfirmDeleteManyScreen)


@pytest.fixture
def out(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_e_with_marks_exports_the_marked_sessions_into_a_folder(demo_db, make_app, out):
    from dasshh_history.services.exporting import export_session

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        ids = listed(app)
        await pilot.press("j", "space", "j", "j", "space")  # marks the 2nd and the 5th (space moves on)
        await settle(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportFolderScreen))
        await settle(pilot)
        assert "Export 2 sessions as Markdown" in str(app.screen.query_one("#export-heading").render())
        assert str(app.screen.query_one("#export-subject").render()) == "The 2 marked sessions"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await settle(pilot)
        folder = out / "dasshh-export-2026-03-14"
        assert said(app)[-1] == f"Exported 2 sessions to {folder}"
        written = sorted(path.read_bytes() for path in folder.iterdir())
        expected = sorted(export_session(app.client, sid, "md", tz=app.tz).encode() for sid in (ids[1], ids[4]))
        assert written == expected


async def test_escape_in_the_narrow_timeline_goes_back_before_clearing_marks(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(60, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "enter")
        await settle(pilot)
        assert app.focused is app.browser.timeline
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is app.browser.session_list and len(marked(app)) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert marked(app) == []
