"""Snapshot tests: every state of the UI, on demo data, at a fixed size, clock and time zone.

After a deliberate UI change run ``pytest --snapshot-update`` and open every changed SVG.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from uiutil import SIZE, settle

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.widgets.blocks import ToolResultBlock


def first_session_with(app, predicate) -> int:
    """Index in the list of the first session whose timeline has a block matching ``predicate``."""
    from dasshh_history.domain.parse import build_timeline
    from dasshh_history.widgets.blocks import build_blocks

    for index, summary in enumerate(app.session_list.summaries):
        blocks = build_blocks(build_timeline(app.service.get_events(session_id=summary.id)), app.tz)
        if any(predicate(block) for block in blocks):
            return index
    raise AssertionError("no session matches")


async def open_session(pilot, predicate) -> None:
    await settle(pilot)
    app = pilot.app
    app.session_list.highlighted = first_session_with(app, predicate)
    await settle(pilot)


def test_startup_on_demo_data(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=settle)


def test_every_event_kind(snap_compare, demo_db, make_app):
    """A session holding user, assistant, tool call, tool result and raw (system) blocks."""

    async def run_before(pilot):
        await open_session(pilot, lambda block: block.kind == "raw")
        pilot.app.timeline.focus()
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=(120, 60), run_before=run_before)


def test_invalid_tool_arguments_are_marked(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, lambda block: block.kind == "tool_call" and not block.entry.arguments_valid)
        timeline = pilot.app.timeline
        timeline.focus()
        target = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_call" and not b.entry.arguments_valid)
        timeline.cursor = target
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def _expandable(block) -> bool:
    return isinstance(block, ToolResultBlock) and block.expandable


def test_tool_result_collapsed(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, _expandable)
        timeline = pilot.app.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if _expandable(b))
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def test_tool_result_expanded(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, _expandable)
        timeline = pilot.app.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if _expandable(b))
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def test_rename_modal(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["r"], run_before=settle)


def test_rename_refuses_blank_title(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("backspace", "space", "space", "enter")  # the prefilled title starts selected
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def test_delete_confirmation(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["d"], run_before=settle)


def test_empty_state(snap_compare, tmp_path: Path, make_app):
    assert snap_compare(make_app(tmp_path / "empty.db"), terminal_size=SIZE, run_before=settle)


def test_help_screen(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["question_mark"], run_before=settle)


def test_narrow_terminal(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=(80, 24), run_before=settle)


def test_markup_and_escapes_shown_literally(snap_compare, tmp_path: Path, make_app):
    path = tmp_path / "hostile.db"
    client = DBClient(db_path=path)
    service = SessionService(client)
    session = service.new_session("[b]not bold[/b] [@click=app.quit]click[/] \x1b[31mnot red\x1b[0m")
    service.add_event(
        invocation_id="inv",
        session_id=session.id,
        content={"role": "user", "content": "[bold red]literal[/] \x1b]0;title\x07 \u202eevil\u202c ok"},
    )
    client.dispose()
    with sqlite3.connect(path) as conn:  # a fixed time, so the snapshot is stable
        conn.execute("UPDATE sessions SET created_at = '2026-03-14 12:00:00.000000', updated_at = '2026-03-14 12:00:00.000000'")
        conn.execute("UPDATE events SET created_at = '2026-03-14 12:00:00.000000'")
    assert snap_compare(make_app(path), terminal_size=(100, 20), run_before=settle)
