"""The Secrets screen: findings listed masked, Enter shows the session, x redacts after a warning."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable
from uiutil import SIZE, settle, wait_for

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from test_secrets import AWS, GHP

from dasshh_history.screens.secrets import ConfirmRedactScreen, SecretsScreen

AT = "2026-03-14 12:00:00.000000"


def secrets_db(path: Path) -> Path:
    calls = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "index": 0,
             "function": {"name": "run_shell_command", "arguments": json.dumps({"command": f"export GH={GHP}"})}}]}
    rows = [("e1", "i", "s-keys", AT, json.dumps({"role": "user", "content": f"my AWS key is {AWS}"})),
            ("e2", "i", "s-keys", AT, json.dumps(calls)),
            ("e3", "i", "s-clean", AT, json.dumps({"role": "user", "content": "nothing secret here"}))]
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR REFERENCES sessions(id),"
        " created_at DATETIME, content JSON);"
    )
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s-clean', 'A clean session', ?, ?)", (AT, "2026-03-14 13:00:00"))
        conn.execute("INSERT INTO sessions VALUES ('s-keys', 'Set up the deploy keys', ?, ?)", (AT, AT))
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


def cells(screen: SecretsScreen) -> list[list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]


async def open_screen(pilot) -> SecretsScreen:
    await settle(pilot)
    await pilot.press("P")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SecretsScreen) and pilot.app.screen.findings)
    # The table measures its rows when idle: under load a dialog pushed before that left its header unmeasured.
    table = pilot.app.screen.query_one(DataTable)

    def measured() -> bool:  # every column as wide as its widest cell
        rows = [table.get_row_at(row) for row in range(table.row_count)]
        return bool(rows) and all(column.content_width >= max(cell_len(str(cells[i])) for cells in rows)
                                  for i, column in enumerate(table.columns.values()))

    def drawn() -> bool:  # and drawn so: the header's labels start where the first row's cells do (under load
        # a frame once had the rows drawn at their widths, the header still at its labels' widths)
        header, first = ("".join(segment.text for segment in table.render_line(y)) for y in (0, 1))
        labels = [str(column.label) for column in table.columns.values()]
        values = [str(cell) for cell in table.get_row_at(0)]
        return all(header.find(f" {label}") == first.find(f" {value}") for label, value in zip(labels, values))

    await wait_for(pilot, lambda: measured() and drawn())
    await settle(pilot)
    return pilot.app.screen


@pytest.mark.asyncio
async def test_lists_masked_and_enter_shows_the_session(tmp_path: Path, make_app):
    app = make_app(secrets_db(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        assert cells(screen) == [["Set up the deploy keys", "content", "AWS access key", "AKIA…Y1U3"],
                                 ["Set up the deploy keys", "arguments", "GitHub token", "ghp_…q7R8"]]
        assert app.browser.session_list.current.id == "s-clean"  # the newest, highlighted at start
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await wait_for(pilot, lambda: app.browser.session_list.current.id == "s-keys")
        timeline = app.browser.timeline  # the second finding's event (the tool call) selected, focused
        await wait_for(pilot, lambda: timeline.has_focus and timeline.cursor >= 0
                       and getattr(timeline.blocks[timeline.cursor], "entry", None) is not None
                       and timeline.blocks[timeline.cursor].entry.event_id == "e2")


@pytest.mark.asyncio
async def test_redact_asks_then_rewrites_the_history(tmp_path: Path, make_app):
    path = secrets_db(tmp_path / "h.db")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRedactScreen))
        assert "cannot be undone" in str(app.screen.query_one("#redact-warning").render())
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen))
        assert GHP.encode() in path.read_bytes()  # kept
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRedactScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen) and not app.screen.findings
                       and "No likely secret" in str(app.screen.query_one("#secrets-status").render()))
    conn = sqlite3.connect(path)
    contents = dict(conn.execute("SELECT id, content FROM events").fetchall())
    conn.close()
    assert json.loads(contents["e1"]) == {"role": "user", "content": "my AWS key is [REDACTED:aws]"}
    assert GHP.encode() not in path.read_bytes() and AWS.encode() not in path.read_bytes()
    cache = path.with_suffix(".search.db")  # updated in place, not discarded
    assert cache.exists() and [f.name for f in tmp_path.iterdir() if GHP.encode() in f.read_bytes()
                               or AWS.encode() in f.read_bytes()] == []


def test_snapshot_secrets_screen(snap_compare, tmp_path: Path, make_app):
    async def run_before(pilot) -> None:
        await open_screen(pilot)

    assert snap_compare(make_app(secrets_db(tmp_path / "h.db")), terminal_size=SIZE, run_before=run_before)


def test_snapshot_confirm_redact(snap_compare, tmp_path: Path, make_app):
    async def run_before(pilot) -> None:
        await open_screen(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmRedactScreen))
        await settle(pilot)

    assert snap_compare(make_app(secrets_db(tmp_path / "h.db")), terminal_size=SIZE, run_before=run_before)


async def open_keys_session(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    app.browser.session_list.highlighted = [s.id for s in app.browser.session_list.summaries].index("s-keys")
    await settle(pilot)
    await wait_for(pilot, lambda: app.browser.displayed_session_id == "s-keys" and app.browser.timeline.complete)


def timeline_text(app) -> str:
    return "\n".join(block.search_text for block in app.browser.timeline.blocks)


@pytest.mark.asyncio
async def test_the_timeline_masks_secrets_until_revealed(tmp_path: Path, make_app):
    app = make_app(secrets_db(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_keys_session(pilot)
        text = timeline_text(app)
        assert "AKIA…Y1U3" in text and "ghp_…q7R8" in text  # in the arguments' JSON too, unescaped
        assert AWS not in text and GHP not in text
        await pilot.press("M")
        await wait_for(pilot, lambda: AWS in timeline_text(app) and GHP in timeline_text(app))
        await pilot.press("M")
        await wait_for(pilot, lambda: AWS not in timeline_text(app) and "AKIA…Y1U3" in timeline_text(app))


def test_snapshot_masked_timeline(snap_compare, tmp_path: Path, make_app):
    assert snap_compare(make_app(secrets_db(tmp_path / "h.db")), terminal_size=SIZE, run_before=open_keys_session)


@pytest.mark.asyncio
async def test_titles_are_masked_in_the_list_and_the_timeline_until_revealed(tmp_path: Path, make_app):
    path = secrets_db(tmp_path / "h.db")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE sessions SET detail = ? WHERE id = 's-keys'", (f"deploy with {GHP}",))
    conn.close()
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await open_keys_session(pilot)
        sessions = app.browser.session_list
        row = [s.id for s in sessions.summaries].index("s-keys")
        assert sessions.row_text(row).startswith("deploy with ghp_…q7R8")
        assert str(app.browser.timeline.border_title) == "deploy with ghp_…q7R8"
        await pilot.press("M")
        await wait_for(pilot, lambda: sessions.row_text(row).startswith(f"deploy with {GHP}"))
        assert str(app.browser.timeline.border_title) == f"deploy with {GHP}"


@pytest.mark.asyncio
async def test_the_session_shown_is_read_again_after_a_redaction(tmp_path: Path, make_app):
    """Redacting rewrites events in place (same count, same rowids): the timeline shown reads them again."""
    app = make_app(secrets_db(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_keys_session(pilot)
        assert "AKIA…Y1U3" in timeline_text(app)
        await open_screen(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRedactScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen) and not app.screen.findings)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.browser)
        await wait_for(pilot, lambda: "[REDACTED:aws]" in timeline_text(app) and "[REDACTED:github]" in timeline_text(app))
        assert "AKIA…Y1U3" not in timeline_text(app) and app.browser.displayed_session_id == "s-keys"


@pytest.mark.asyncio
async def test_the_trash_is_listed_and_redacted_too(tmp_path: Path, make_app):
    """A deleted session's secrets wait in the trash: listed (Enter says so) and redacted with the rest."""
    from dasshh_history.data.client import DBClient
    from dasshh_history.data.trash_store import TrashStore, default_trash_dir

    path = secrets_db(tmp_path / "h.db")
    client = DBClient(db_path=path)
    try:
        TrashStore(default_trash_dir(), path).delete(client, ["s-keys"])
    finally:
        client.dispose()
    trash = default_trash_dir()
    assert any(GHP.encode() in f.read_bytes() for f in trash.iterdir())
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        assert cells(screen) == [["Set up the deploy keys", "trash · content", "AWS access key", "AKIA…Y1U3"],
                                 ["Set up the deploy keys", "trash · arguments", "GitHub token", "ghp_…q7R8"]]
        assert "0 likely secrets in 0 events and 0 titles, and 2 in the trash" in str(
            screen.query_one("#secrets-status").render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # nothing to show in the history
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmRedactScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen) and not app.screen.findings
                       and "No likely secret" in str(app.screen.query_one("#secrets-status").render()))
    assert [f.name for f in trash.iterdir() if GHP.encode() in f.read_bytes() or AWS.encode() in f.read_bytes()] == []
