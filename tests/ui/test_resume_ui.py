"""R: the highlighted session becomes the one dasshh opens next; then dasshh starts in this terminal, or we say how."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from datetime import UTC
from pathlib import Path

import pytest
from uiutil import SIZE, said, settle, wait_for

from dasshh_history import cli
from dasshh_history.app import HistoryApp
from dasshh_history.data import client as client_module
from dasshh_history.data.client import DBClient
from dasshh_history.data.session import SessionService
from dasshh_history.demo import DEMO_NOW
from dasshh_history.services.resume import ResumeOutcome

DASSHH_RECENT = "SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 1"


def recent(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute(DASSHH_RECENT).fetchone()[0]


def updated(path: Path) -> dict[str, object]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT id, updated_at FROM sessions"))


@pytest.fixture
def fake_dasshh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``dasshh`` on PATH that notes the session dasshh's own query would open (in ``ran.txt``)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "dasshh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sqlite3, sys\n"
        f"db = sqlite3.connect({str(tmp_path / 'demo.db')!r})\n"
        f"row = db.execute({DASSHH_RECENT!r}).fetchone()\n"
        f"open({str(tmp_path / 'ran.txt')!r}, 'w').write(row[0] + ' ' + repr(sys.argv[1:]))\n"
        "sys.exit(3)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return script


def app_on(path: Path, *, as_dasshhs: bool) -> HistoryApp:
    """The app on ``path``; with ``as_dasshhs`` it is told that this is dasshh's own file."""
    return HistoryApp(DBClient(db_path=path), clock=lambda: DEMO_NOW, tz=UTC,
                      search_path=path.with_suffix(".search.db"), history_path=path if as_dasshhs else None)


async def test_r_makes_the_session_dasshhs_next_and_exits_to_start_dasshh(demo_db, fake_dasshh, monkeypatch, tmp_path):
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", demo_db)  # the history is dasshh's own file
    before = updated(demo_db)
    app = app_on(demo_db, as_dasshhs=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        chosen = app.browser.session_list.current.id
        assert recent(demo_db) != chosen
        await pilot.press("R")
        await wait_for(pilot, lambda: app.return_value is not None)
    app.client.dispose()
    outcome = app.return_value
    assert isinstance(outcome, ResumeOutcome) and outcome.launch == str(fake_dasshh)
    after = updated(demo_db)
    assert {sid for sid in before if before[sid] != after[sid]} == {chosen}
    assert recent(demo_db) == chosen
    client = DBClient(db_path=demo_db)
    assert SessionService(client).get_recent_session().id == chosen
    client.dispose()
    # What the command line does next, once Textual gave the terminal back: run dasshh; its status is ours.
    assert cli.start_dasshh(outcome.launch) == 3
    assert (tmp_path / "ran.txt").read_text() == f"{chosen} []"


async def test_without_dasshh_on_path_it_says_what_to_run(demo_db, monkeypatch, tmp_path):
    monkeypatch.setattr(client_module, "DEFAULT_DB_PATH", demo_db)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    app = app_on(demo_db, as_dasshhs=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        chosen = app.browser.session_list.current
        await pilot.press("R")
        await wait_for(pilot, lambda: any("Run dasshh" in text for text in said(app)))
        await settle(pilot)
        assert app.is_running and app.return_value is None
        message = said(app)[-1]
        assert message.startswith(f"“{chosen.detail}” is now the session dasshh opens: its last update was set to")
        assert "(R is the only action that changes it)" in message and message.endswith("(it is not on PATH here).")
        # The list is read again: by last update, the session is first now.
        assert app.browser.session_list.current.id == chosen.id and app.browser.session_list.highlighted == 0
    app.client.dispose()
    assert recent(demo_db) == chosen.id


async def test_another_file_than_dasshhs_is_changed_but_dasshh_not_started(demo_db, fake_dasshh, tmp_path):
    app = app_on(demo_db, as_dasshhs=True)  # DEFAULT_DB_PATH is not this file
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j", "R")
        await wait_for(pilot, lambda: any("not this file" in text for text in said(app)))
        assert app.is_running and app.return_value is None
        chosen = app.browser.session_list.current.id
    app.client.dispose()
    assert recent(demo_db) == chosen
    assert not (tmp_path / "ran.txt").exists()


async def test_r_on_the_session_dasshh_opens_changes_nothing(demo_db, make_app):
    before = updated(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")  # the first: the one dasshh opens
        await wait_for(pilot, lambda: any("already is the session dasshh opens" in text for text in said(app)))
    assert updated(demo_db) == before


def test_the_command_line_starts_dasshh_after_the_app_exits(demo_db, fake_dasshh, monkeypatch, tmp_path):
    """``browse``: run_app returns the dasshh to start; it is run after the app (and its database) are closed."""
    calls: list[str] = []

    def run_app(client, search_path=None, history=None, config=None, trash_dir=None):
        calls.append("app")
        return str(fake_dasshh)

    monkeypatch.setattr(cli, "run_app", run_app)
    monkeypatch.setattr(cli, "has_terminal", lambda: True)
    assert cli.main(["--db", str(demo_db)]) == 3
    assert calls == ["app"] and (tmp_path / "ran.txt").exists()


def test_a_dasshh_that_cannot_start_is_a_one_line_error(tmp_path, capsys):
    assert cli.start_dasshh(str(tmp_path / "missing")) == 1
    assert "cannot start" in capsys.readouterr().err


async def test_r_on_a_read_only_history_says_why_and_changes_nothing(demo_db):
    before = updated(demo_db)
    client = DBClient(url=f"sqlite:///file:{demo_db}?mode=ro&uri=true")
    app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("j", "R")
            await wait_for(pilot, lambda: any("Could not resume the session" in text for text in said(app)))
            assert any("read-only" in text for text in said(app)) and app.is_running
    finally:
        client.dispose()
    assert updated(demo_db) == before


async def test_the_time_r_sets_is_said_in_local_time(demo_db, monkeypatch, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    kolkata = ZoneInfo("Asia/Kolkata")
    app = HistoryApp(DBClient(db_path=demo_db), clock=lambda: DEMO_NOW, tz=kolkata,
                     search_path=demo_db.with_suffix(".search.db"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        chosen = app.browser.session_list.current.id
        await pilot.press("R")
        await wait_for(pilot, lambda: any("is now the session dasshh opens" in text for text in said(app)))
        message = next(text for text in said(app) if "is now the session dasshh opens" in text)
    app.client.dispose()
    stored = datetime.fromisoformat(updated(demo_db)[chosen]).replace(tzinfo=UTC)
    local = stored.astimezone(kolkata).strftime("%Y-%m-%d %H:%M")
    assert f"its last update was set to {local} (R is the only" in message
    assert stored.strftime("%Y-%m-%d %H:%M") != local  # 5 h 30 apart: the zone is applied


async def test_help_and_palette_list_the_new_keys(demo_db, make_app):
    from dasshh_history.screens.help import HelpScreen

    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = {keys: text for _, section in app.screen.sections for keys, text in section}
        assert rows["space"].startswith("Mark or unmark the highlighted session")
        assert rows["*"] == "Mark every session of the list (a search's results)"
        assert rows["R"].startswith("Make the session the one dasshh opens at its next start")
        escapes = [text for keys, text in app.screen.sections[0][1] if keys == "esc"]  # anywhere
        assert [text.split(" (")[0] for text in escapes] == ["Clear the marks", "Clear search"]  # marks first
        commands = {command.title for command in app.get_system_commands(app.browser)}
        assert "Resume in dasshh" in commands
