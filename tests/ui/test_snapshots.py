"""Snapshot tests: every state of the UI, on demo data, at a fixed size, clock and time zone.

After a deliberate UI change run ``pytest --snapshot-update`` and open every changed SVG.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tool_history import write_tool_history
from uiutil import SIZE, settle

from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.widgets.blocks import Look, ToolResultBlock


def first_session_with(app, predicate) -> int:
    """Index in the list of the first session whose timeline has a block matching ``predicate``."""
    from dasshh_history.domain.parse import build_timeline
    from dasshh_history.widgets.blocks import build_blocks

    for index, summary in enumerate(app.browser.session_list.summaries):
        blocks = build_blocks(build_timeline(app.service.get_events(session_id=summary.id)), app.tz)
        if any(predicate(block) for block in blocks):
            return index
    raise AssertionError("no session matches")


async def open_session(pilot, predicate) -> None:
    await settle(pilot)
    app = pilot.app
    app.browser.session_list.highlighted = first_session_with(app, predicate)
    await settle(pilot)


def test_startup_on_demo_data(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=settle)


def every_kind_db(path: Path) -> Path:
    """One session holding every kind of event, written with raw SQL at fixed times."""
    at = "2026-03-14 12:00:00.000000"
    args = json.dumps({"path": "/etc/hosts"})
    contents = [
        {"role": "system", "content": "You are dasshh, a helpful terminal assistant."},
        {"role": "user", "content": "What is in /etc/hosts, and why did the second call fail?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_ok", "type": "function", "index": 0, "function": {"name": "read_file", "arguments": args}},
            {"id": "call_cut", "type": "function", "index": 1,
             "function": {"name": "read_file", "arguments": '{"path": "/etc/ho'}},
        ]},
        {"role": "tool", "tool_call_id": "call_ok", "name": "read_file",
         "content": json.dumps({"content": "127.0.0.1 localhost"}, indent=2)},
        {"role": "tool", "tool_call_id": "call_cut", "name": "read_file", "content": "error: bad arguments"},
        {"role": "tool", "tool_call_id": "call_gone", "name": "run_shell_command", "content": json.dumps({"ok": 1})},
        {"role": "assistant", "content": "## Answer\n\n| host | ip |\n| --- | --- |\n| localhost | `127.0.0.1` |\n\n"
                                         "```bash\ncat /etc/hosts\n```"},
        {"role": "narrator", "content": "an unknown role"},
    ]
    rows = [(f"e{n}", "inv", "s1", at, json.dumps(c)) for n, c in enumerate(contents)]
    rows.append(("e99", "inv", "s1", at, '{"role": "user", "content": "cut off mid-wri'))
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR REFERENCES sessions(id),"
        " created_at DATETIME, content JSON);"
    )
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s1', 'Every kind of event', ?, ?)", (at, at))
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


def test_every_event_kind(snap_compare, tmp_path: Path, make_app):
    """User, reply (Markdown table and code), calls (valid and cut off), results (JSON, text, orphan), raw rows."""

    async def run_before(pilot):
        await settle(pilot)
        pilot.app.browser.timeline.focus()
        await settle(pilot)

    app = make_app(every_kind_db(tmp_path / "kinds.db"))
    assert snap_compare(app, terminal_size=(120, 72), run_before=run_before)


def test_invalid_tool_arguments_are_marked(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, lambda block: block.kind == "tool_call" and not block.entry.arguments_valid)
        timeline = pilot.app.browser.timeline
        timeline.focus()
        target = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_call" and not b.entry.arguments_valid)
        timeline.cursor = target
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def _expandable(block) -> bool:
    return isinstance(block, ToolResultBlock) and block.expandable(Look(80))


def test_tool_result_collapsed(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, _expandable)
        timeline = pilot.app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if isinstance(b, ToolResultBlock) and timeline.can_expand(i))
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)


def test_tool_result_expanded(snap_compare, demo_db, make_app):
    async def run_before(pilot):
        await open_session(pilot, _expandable)
        timeline = pilot.app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if isinstance(b, ToolResultBlock) and timeline.can_expand(i))
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


def test_export_dialog(snap_compare, demo_db, make_app, tmp_path: Path, monkeypatch):
    """e asks where: the name e has always chosen, in the current directory (under the home folder, shown as ~)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes").mkdir()
    monkeypatch.chdir(tmp_path / "notes")
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["e"], run_before=settle)


def test_delete_confirmation(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["d"], run_before=settle)


def test_empty_state(snap_compare, tmp_path: Path, make_app):
    assert snap_compare(make_app(tmp_path / "empty.db"), terminal_size=SIZE, run_before=settle)


def test_help_screen(snap_compare, demo_db, make_app):
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, press=["question_mark"], run_before=settle)


def test_narrow_terminal(snap_compare, demo_db, make_app):
    """Below 100 columns the footer leaves out what does not fit (here Undo delete), keeping Help and Quit."""
    assert snap_compare(make_app(demo_db), terminal_size=(80, 24), run_before=settle)


def test_one_pane_session_list(snap_compare, demo_db, make_app):
    """Below 70 columns one pane shows at a time: first the session list, the whole width."""
    assert snap_compare(make_app(demo_db), terminal_size=(60, 30), run_before=settle)


def test_one_pane_timeline(snap_compare, demo_db, make_app):
    """Below 70 columns, Enter shows the highlighted session's timeline in place of the list."""

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=(60, 30), run_before=run_before)


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


def test_search_results_and_highlighted_matches(snap_compare, demo_db, make_app):
    async def search(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"pip cache")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=search)


def test_search_with_no_match(snap_compare, demo_db, make_app):
    async def search(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"kubernetes")
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=search)


# -- tool output (issue: read what the tools did) -------------------------------------------------------


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_tool_output_every_kind(snap_compare, tmp_path: Path, make_app, theme: str):
    """System prompt, a file read as text, a shell result with stdout and stderr, a failed command, an error
    dict, a long folded result, replies: each kind in its colour, on a dark and a light theme."""

    async def run_before(pilot):
        pilot.app.theme = theme
        await settle(pilot)
        timeline = pilot.app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_result")
        await settle(pilot)

    app = make_app(write_tool_history(tmp_path / "tools.db"))
    assert snap_compare(app, terminal_size=(110, 96), run_before=run_before)


def test_conversation_view(snap_compare, tmp_path: Path, make_app):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.browser.timeline.focus()
        await pilot.press("t")
        await settle(pilot)

    app = make_app(write_tool_history(tmp_path / "tools.db"))
    assert snap_compare(app, terminal_size=(110, 34), run_before=run_before)


def test_stored_form_of_a_result(snap_compare, tmp_path: Path, make_app):
    async def run_before(pilot):
        await settle(pilot)
        timeline = pilot.app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_result")
        await pilot.press("J")
        await settle(pilot)

    app = make_app(write_tool_history(tmp_path / "tools.db"))
    assert snap_compare(app, terminal_size=(110, 34), run_before=run_before)
