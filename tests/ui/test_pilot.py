"""Pilot tests: drive the app by keys and check the screen state and the database."""

from __future__ import annotations

import gc
import io
import sqlite3
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Label
from uiutil import plain_title, said, settle, wait_for

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.domain.text import one_line
from dasshh_history.screens.confirm_delete import ConfirmDeleteScreen
from dasshh_history.screens.help import HelpScreen, keys_table
from dasshh_history.screens.rename import RenameScreen
from dasshh_history.widgets.blocks import ToolResultBlock


def db_rows(path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, args).fetchall()


def session_ids_newest_first(path: Path) -> list[str]:
    return [row[0] for row in db_rows(path, "SELECT id FROM sessions ORDER BY updated_at DESC, rowid ASC")]


async def test_start_lists_sessions_newest_first_with_recent_highlighted(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        listed = [s.id for s in app.browser.session_list.summaries]
        assert listed == session_ids_newest_first(demo_db)
        assert app.browser.session_list.highlighted == 0
        assert app.browser.session_list.border_title == f"Sessions ({len(listed)}) · by last update"
        assert app.focused is app.browser.session_list
        kinds = {block.kind for block in app.browser.timeline.blocks}
        assert {"header", "user"} <= kinds
        recent = SessionService(app.client).get_recent_session()
        assert app.browser.session_list.current.id == recent.id
        assert plain_title(app.browser.timeline) == one_line(recent.detail, 120)


async def test_moving_the_highlight_shows_that_sessions_timeline(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first_blocks = app.browser.timeline.blocks
        await pilot.press("j")
        await settle(pilot)
        second = app.browser.session_list.current
        assert app.browser.session_list.highlighted == 1
        assert app.browser.timeline.blocks is not first_blocks
        expected = len(SessionService(app.client).get_events(session_id=second.id))
        shown = {b.entry.event_id for b in app.browser.timeline.blocks if b.kind != "header"}
        assert len(shown) == expected > 0, "every event of the newly highlighted session is shown"
        assert plain_title(app.browser.timeline) == one_line(second.detail, 120)
        await pilot.press("G")
        await settle(pilot)
        assert app.browser.session_list.highlighted == len(app.browser.session_list.summaries) - 1
        await pilot.press("g")
        await settle(pilot)
        assert app.browser.session_list.highlighted == 0


async def test_rename_saves_through_the_database_and_keeps_the_highlight(demo_db, make_app):
    app = make_app(demo_db)
    before = db_rows(demo_db, "SELECT rowid, * FROM sessions ORDER BY rowid")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        target = app.browser.session_list.current
        await pilot.press("tab", "G")  # into the timeline, to its end: renaming keeps that place
        await settle(pilot)
        timeline_place = (app.browser.timeline.cursor, app.browser.timeline.scroll_y)
        assert timeline_place[1] > 0, "the session is long enough to scroll"
        await pilot.press("shift+tab")
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RenameScreen)
        field = app.screen.query_one(Input)
        assert field.value == " ".join(target.detail.split())
        field.value = "Renamed by the test"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, RenameScreen)
        # Only the title changed: updated_at (what dasshh opens by) and every other value stay.
        after = db_rows(demo_db, "SELECT rowid, * FROM sessions ORDER BY rowid")
        assert [row for row in after if row[1] != target.id] == [row for row in before if row[1] != target.id]
        (old,) = [row for row in before if row[1] == target.id]
        assert [row for row in after if row[1] == target.id] == [(*old[:2], "Renamed by the test", *old[3:])]
        # The session keeps its place in the list, the timeline its place in the session.
        assert app.browser.session_list.current.id == target.id
        assert app.browser.session_list.highlighted == 1
        assert app.browser.session_list.current.detail == "Renamed by the test"
        assert plain_title(app.browser.timeline) == "Renamed by the test"
        assert (app.browser.timeline.cursor, app.browser.timeline.scroll_y) == timeline_place


async def test_cancelled_rename_changes_nothing(demo_db, make_app):
    before = db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid")
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one(Input).value = "not saved"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RenameScreen)
    assert db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid") == before


async def test_blank_title_is_refused_with_a_message(demo_db, make_app):
    before = db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid")
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        app.screen.query_one(Input).value = "   "
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RenameScreen)
        assert "empty" in str(app.screen.query_one("#rename-error", Label).render())
    assert db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid") == before


async def test_delete_removes_session_and_events_and_moves_to_the_neighbour(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        ids = [s.id for s in app.browser.session_list.summaries]
        target = app.browser.session_list.current
        assert db_rows(demo_db, "SELECT count(*) FROM events WHERE session_id = ?", target.id)[0][0] > 0
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDeleteScreen)
        await pilot.press("y")
        await settle(pilot)
        assert db_rows(demo_db, "SELECT count(*) FROM sessions WHERE id = ?", target.id) == [(0,)]
        assert db_rows(demo_db, "SELECT count(*) FROM events WHERE session_id = ?", target.id) == [(0,)]
        assert [s.id for s in app.browser.session_list.summaries] == [i for i in ids if i != target.id]
        assert app.browser.session_list.current.id == ids[2]
        assert app.browser.session_list.highlighted == 1


async def test_deleting_the_last_session_highlights_the_one_before(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        ids = [s.id for s in app.browser.session_list.summaries]
        await pilot.press("delete")
        await settle(pilot)
        await pilot.click("#delete")
        await settle(pilot)
        assert session_ids_newest_first(demo_db) == ids[:-1]
        assert app.browser.session_list.current.id == ids[-2]


async def test_cancelled_delete_changes_nothing(demo_db, make_app):
    before_sessions = db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid")
    before_events = db_rows(demo_db, "SELECT count(*) FROM events")
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for cancel in ("n", "escape"):
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDeleteScreen)
            await pilot.press(cancel)
            await settle(pilot)
            assert not isinstance(app.screen, ConfirmDeleteScreen)
        assert len(app.browser.session_list.summaries) == len(before_sessions)
    assert db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid") == before_sessions
    assert db_rows(demo_db, "SELECT count(*) FROM events") == before_events


async def test_long_tool_result_expands_and_collapses(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        summaries = app.browser.session_list.summaries
        for index in range(len(summaries)):
            app.browser.session_list.highlighted = index
            await settle(pilot)
            expandable = [i for i, b in enumerate(app.browser.timeline.blocks) if isinstance(b, ToolResultBlock) and app.browser.timeline.can_expand(i)]
            if expandable:
                break
        else:
            raise AssertionError("the demo has no long tool result")
        await pilot.press("enter")
        assert app.focused is app.browser.timeline
        while app.browser.timeline.cursor != expandable[0]:
            await pilot.press("j")
        before = app.browser.timeline.virtual_size.height
        await pilot.press("enter")
        await settle(pilot)
        assert expandable[0] in app.browser.timeline.expanded
        assert app.browser.timeline.virtual_size.height > before
        await pilot.press("enter")
        await settle(pilot)
        assert expandable[0] not in app.browser.timeline.expanded


async def test_help_lists_every_key(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(keys_table(app.screen.sections))
        text = console.export_text()
        for word in ("Rename", "Delete", "Quit", "Expand/collapse", "Command palette"):
            assert word in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_titles_are_shown_literally_never_as_markup(tmp_path, make_app):
    path = tmp_path / "markup.db"
    client = DBClient(db_path=path)
    service = SessionService(client)
    session = service.new_session("[b]bold[/b] [@click=app.quit]quit[/] \x1b[31mred")
    service.add_event(invocation_id="i", session_id=session.id, content={"role": "user", "content": "[red]x[/red]"})
    client.dispose()
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.browser.session_list.row_text(0).startswith("[b]bold[/b] [@click=app.quit]quit[/] red\n")
        assert plain_title(app.browser.timeline).startswith("[b]bold[/b] [@click=app.quit]quit[/] red")
        await pilot.click("#sessions")
        await settle(pilot)
        assert app.is_running


async def test_no_history_yet_is_shown_empty_and_nothing_is_created(tmp_path):
    from dasshh_history.app import HistoryApp

    missing = tmp_path / "home" / ".dasshh" / "db" / "dasshh.db"
    client = DBClient(url="sqlite://")  # what the command line opens when the file does not exist
    app = HistoryApp(client, history_path=missing, search_path=tmp_path / "search.db")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert app.browser.session_list.summaries == []
            lines = [app.browser.timeline.render_line(y).text for y in range(app.browser.timeline.size.height)]
            assert f"{missing};" in "".join(line.strip() for line in lines), "the empty state names the history"
            for key in ("slash", "r", "d", "u", "e", "c"):
                await pilot.press(key)
                await settle(pilot)
                assert app.screen is app.screen_stack[0], key
            assert app.browser.search_bar.display is False
            assert app.is_running
    finally:
        client.dispose()
    assert list(tmp_path.iterdir()) == [], "no file or folder is created"


async def test_empty_database_shows_the_empty_state(tmp_path, make_app):
    app = make_app(tmp_path / "empty.db")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.browser.session_list.summaries == []
        assert plain_title(app.browser.timeline) == "No sessions"
        await pilot.press("r")
        await pilot.press("d")
        await settle(pilot)
        assert not isinstance(app.screen, (RenameScreen, ConfirmDeleteScreen))


async def test_unchanged_title_writes_nothing(demo_db, make_app):
    before = db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid")
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, RenameScreen)
    assert db_rows(demo_db, "SELECT * FROM sessions ORDER BY rowid") == before


async def test_a_long_list_reads_only_the_rows_it_shows(tmp_path, make_app):
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.demo import DEMO_NOW, write_large_history
    from dasshh_history.widgets.session_list import PAGE_SIZE

    path = write_large_history(tmp_path / "large.db", sessions=450, events_per_session=3, now=DEMO_NOW)
    expected = session_ids_newest_first(path)
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        session_list = app.browser.session_list
        assert session_list.total == 450
        assert session_list.border_title == "Sessions (450) · by last update"
        assert len(session_list.summaries) == PAGE_SIZE, "only the first page is read at start"
        assert app.browser.displayed_session_id == expected[0]
        await pilot.press("end")
        await settle(pilot)
        assert session_list.highlighted == 449
        assert session_list.current.id == expected[-1]
        assert app.browser.displayed_session_id == expected[-1]
        assert session_list.row_text(449).startswith(one_line(HistoryReader(app.client).list_summaries()[-1].detail))
        await pilot.press("pageup")
        await settle(pilot)
        assert session_list.highlighted < 449
        assert session_list.current.id == expected[session_list.highlighted]
        # Deleting in the middle of a long list keeps the highlight at the same place, on the next session.
        index = session_list.highlighted
        await pilot.press("d", "y")
        await settle(pilot)
        assert session_list.total == 449
        assert session_list.highlighted == index
        assert session_list.current.id == expected[index + 1]
        assert db_rows(path, "SELECT count(*) FROM sessions WHERE id = ?", expected[index]) == [(0,)]


async def test_a_long_session_streams_in_completely_and_in_order(tmp_path, make_app):
    from dasshh_history.demo import DEMO_NOW, write_large_history
    from dasshh_history.domain.parse import build_timeline
    from dasshh_history.widgets.blocks import build_blocks

    path = write_large_history(tmp_path / "long.db", sessions=3, big_session_events=1_200, big_result_bytes=20_000,
                               now=DEMO_NOW)
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        timeline = app.browser.timeline
        expected = build_blocks(build_timeline(app.service.get_events(session_id=app.browser.displayed_session_id)), None)
        assert timeline.complete
        assert len(expected) > 1_200
        assert [type(b) for b in timeline.blocks] == [type(b) for b in expected]
        assert [getattr(b, "entry", None) for b in timeline.blocks] == [getattr(b, "entry", None) for b in expected]
        await pilot.press("enter", "end")
        last = max(i for i, b in enumerate(timeline.blocks) if b.selectable)
        assert timeline.cursor == last
        assert timeline.scroll_y == timeline.max_scroll_y > 0


async def test_end_while_a_session_is_read_follows_it_to_its_last_block():
    from textual.app import App

    from dasshh_history.domain.parse import build_timeline
    from dasshh_history.widgets.blocks import build_blocks
    from dasshh_history.widgets.timeline import Timeline

    rows = [
        type("Row", (), {"id": f"e{i}", "invocation_id": f"i{i // 2}", "created_at": None,
                         "content": {"role": "user" if i % 2 == 0 else "assistant", "content": f"message {i}"}})()
        for i in range(200)
    ]
    blocks = build_blocks(build_timeline(rows), None)

    class One(App[None]):
        def compose(self):
            yield Timeline()

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.show_blocks(blocks[:30], complete=False)
        timeline.focus()
        await pilot.press("end")
        assert timeline.cursor == 29 and not timeline.complete
        timeline.append_blocks(blocks[30:100], complete=False)
        await pilot.pause()
        assert timeline.cursor == 98  # block 99 heads an invocation: not selectable
        timeline.append_blocks(blocks[100:], complete=True)
        await pilot.pause()
        assert timeline.cursor == len(blocks) - 1
        assert timeline.scroll_y == timeline.max_scroll_y > 0
        # Moving away stops the following.
        timeline.show_blocks(blocks[:30], complete=False)
        await pilot.press("end", "up")
        timeline.append_blocks(blocks[30:], complete=True)
        await pilot.pause()
        assert timeline.cursor == 28


async def test_u_undoes_the_last_delete_with_every_byte_back(demo_db, make_app):
    def snapshot() -> tuple[list[tuple], list[tuple]]:
        return (
            db_rows(demo_db, "SELECT rowid, * FROM sessions ORDER BY rowid"),
            db_rows(demo_db, "SELECT rowid, *, typeof(content) FROM events ORDER BY rowid"),
        )

    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        before = snapshot()
        await pilot.press("u")  # nothing deleted yet
        await settle(pilot)
        assert said(app)[-1] == "Nothing to undo: the trash holds no deleted session."
        await pilot.press("j", "j")
        await settle(pilot)
        victim = app.browser.session_list.current
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")  # confirm
        await settle(pilot)
        assert db_rows(demo_db, "SELECT count(*) FROM sessions WHERE id = ?", victim.id) == [(0,)]
        assert any("press u to undo" in str(n.message) for n in app._notifications)
        await pilot.press("u")
        await settle(pilot)
        assert snapshot() == before
        assert app.browser.session_list.current.id == victim.id
        await pilot.press("u")  # nothing more to undo: the delete was undone, not never made
        await settle(pilot)
        assert snapshot() == before
        assert said(app)[-1] == "Nothing left to undo: every deleted session is back."


async def test_e_exports_markdown_to_a_new_file_in_the_current_directory(demo_db, make_app, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        current = app.browser.session_list.current
        for _ in range(2):  # a second export never overwrites the first: e offers the next free name
            await pilot.press("e")
            await wait_for(pilot, lambda: app.screen is not app.browser)
            await settle(pilot)
            await pilot.press("enter")  # the name offered, in the current directory
            await wait_for(pilot, lambda: app.screen is app.browser)
            await settle(pilot)
    files = sorted(out.iterdir(), key=lambda p: len(p.name))
    assert len(files) == 2, files
    first, second = files
    assert first.name.endswith("-clean-the-pip-cache-only-please.md") and second.name == first.stem + "-2.md"
    assert first.read_text() == second.read_text()
    text = first.read_text()
    assert current.detail in text
    assert text.count("### You") == 2 and "```json" in text  # both questions, tool calls as fenced JSON
    assert any(f"Exported to {first}" == str(n.message) for n in app._notifications)


async def test_c_copies_the_session_as_markdown(demo_db, make_app):
    from dasshh_history.services.exporting import export_session

    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        expected = export_session(app.client, app.browser.session_list.current.id, "md", tz=app.tz)
        assert app.clipboard == expected
        assert said(app)[-1].startswith("Sent to the terminal's clipboard (OSC 52): “Clean the pip cache only, please.”")


async def test_the_list_is_filled_before_the_first_frame(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)):
        # No pause: the first page is read in on_mount, not in a worker.
        assert app.browser.session_list.total == len(session_ids_newest_first(demo_db))
        assert app.browser.session_list.current.id == session_ids_newest_first(demo_db)[0]


async def test_a_worker_finishing_after_the_app_closed_changes_nothing(demo_db, make_app):
    import threading

    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
    called: list[str] = []
    errors: list[BaseException] = []

    def late_worker() -> None:  # a timeline load whose last batch arrives after the app closed
        try:
            app.browser._ui(called.append, "late")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=late_worker)
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and called == [] and errors == []


async def test_full_garbage_collections_wait_for_a_pause_while_the_app_runs(demo_db, make_app):
    before = gc.get_threshold()
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert gc.get_threshold()[2] >= 1 << 30  # Python no longer starts them by itself
        seen = app._collector._last_input
        await pilot.press("down")
        assert app._collector._last_input > seen  # keys count as input
    assert gc.get_threshold() == before


async def test_the_timeline_is_in_insertion_order_when_created_at_goes_backwards(tmp_path, make_app):
    """Two dasshh windows on one session: run B (started later) wrote between two messages of run A."""
    import json

    from exportutil import dasshh_database

    run_a, run_b = "2026-11-30 10:00:00.000000", "2026-11-30 10:00:04.000000"
    events = [
        ("e1", "i1", "s", run_a, json.dumps({"role": "user", "content": "from A"})),
        ("e2", "i1", "s", run_a, json.dumps({"role": "assistant", "content": "reply to A"})),
        ("e3", "i2", "s", run_b, json.dumps({"role": "user", "content": "from B"})),
        ("e4", "i2", "s", run_b, json.dumps({"role": "assistant", "content": "reply to B"})),
        ("e5", "i3", "s", run_a, json.dumps({"role": "user", "content": "from A again"})),
    ]
    path = dasshh_database(tmp_path / "h.db", [("s", "from A again", run_a, "2026-11-30 10:01:00")], events)
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = [b.entry.event_id for b in app.browser.timeline.blocks if b.kind != "header"]
        assert shown == ["e1", "e2", "e3", "e4", "e5"]


async def test_browsing_and_searching_write_nothing_to_the_history(demo_db, make_app):
    """Only what the user asks is written: moving, opening, searching and copying leave every byte as it was."""
    from exportutil import digest

    DBClient(db_path=demo_db).dispose()  # the first open adds the browser's indexes
    before = digest(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "enter", "G", "escape", "slash", "n", "g", "i", "n", "x")
        await settle(pilot)
        assert app.browser.session_list.total >= 1
        await pilot.press("enter", "n", "escape", "escape", "c", "question_mark", "escape")
        await settle(pilot)
    assert digest(demo_db) == before
