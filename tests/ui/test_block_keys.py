"""y copies the selected block's text, v pages it and V the whole session (a script as the pager), keeping the place."""

from __future__ import annotations

import contextlib
import shlex
import sys
import tempfile
from datetime import UTC
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey
from tool_history import write_tool_history
from uiutil import SIZE, said, settle, wait_for

from dasshh_history.app import HistoryApp
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW
from dasshh_history.services.exporting import export_session

SENT = "to the terminal's clipboard (OSC 52)."


@pytest.fixture
def tool_app(tmp_path: Path):
    client = DBClient(db_path=write_tool_history(tmp_path / "tools.db"))
    yield HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC, search_path=tmp_path / "search.db")
    client.dispose()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch) -> Path:
    """Where the pager's temporary files go during the test (to see that none is left)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def fake_pager(tmp_path: Path, monkeypatch) -> Path:
    """``PAGER``: a script that keeps what it was given (the text, the file's mode and path) in ``tmp_path/seen``."""
    seen = tmp_path / "seen"
    seen.mkdir()
    script = (
        "import os, shutil, stat, sys; seen, path = sys.argv[1:]; "
        "shutil.copyfile(path, os.path.join(seen, 'text')); "
        "mode = lambda p: oct(stat.S_IMODE(os.stat(p).st_mode)); "
        "open(os.path.join(seen, 'mode'), 'w').write(mode(path)); "
        "open(os.path.join(seen, 'folder_mode'), 'w').write(mode(os.path.dirname(path))); "
        "open(os.path.join(seen, 'path'), 'w').write(path)"
    )
    # The app gives the file as the last argument: sys.argv is ['-c', seen, file].
    monkeypatch.setenv("PAGER", shlex.join([sys.executable, "-c", script, str(seen)]))
    return seen


def suspend_in_tests(app) -> None:
    """Textual cannot suspend a headless app (``SuspendNotSupported``): here suspending does nothing."""
    app.suspend = contextlib.nullcontext


def index_of(app, kind: str, call_id: str | None = None) -> int:
    return next(i for i, block in enumerate(app.browser.timeline.blocks)
                if block.kind == kind and (call_id is None or block.entry.call_id == call_id))


async def select(pilot, kind: str, call_id: str | None = None) -> None:
    """Open the highlighted session's timeline and select its first block of ``kind``."""
    app = pilot.app
    await settle(pilot)
    if app.focused is not app.browser.timeline:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.focused is app.browser.timeline)
    app.browser.timeline.cursor = index_of(app, kind, call_id)
    await settle(pilot)


def place(app) -> tuple:
    """Where the user is: the session shown, the list's highlight, the timeline's cursor and scroll."""
    browser = app.browser
    return browser.displayed_session_id, browser.session_list.highlighted, browser.timeline.cursor, browser.timeline.scroll_y


@pytest.mark.parametrize(("kind", "call_id", "expected", "label"), [
    ("tool_result", "c2",  # {"exit_code": 0, "stdout": DF, "stderr": ""}, stored as JSON with indent=2
     "exit_code: 0\nstdout:\n"
     "  Filesystem      Size  Used Avail Use% Mounted on\n"
     "  /dev/nvme0n1p2  468G  402G   43G  91% /\n"
     "  tmpfs            16G  1.2G   15G   8% /tmp\n"
     "stderr: (empty)", "the result of run_shell_command (6 lines)"),
    ("tool_result", "c1",  # a string result: its own lines, no quotes or escapes
     'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian',
     "the result of read_file (4 lines)"),
    ("tool_call", "c3", "run_shell_command\njournalctl -p err -n 5 --no-pager\ntimeout: 10",
     "the call to run_shell_command (3 lines)"),
    ("tool_call", "c1", "read_file\npath: /etc/os-release", "the call to read_file (2 lines)"),
    ("tool_call", "c4", 'read_file\n{"path": "/var/lo', "the call to read_file (2 lines)"),  # cut off: as stored
    ("user", None, "What is this machine, and how full is its disk?", "your message (1 line)"),
    ("assistant", None, "Debian 12; the root disk is **91% full**.", "the assistant's reply (1 line)"),  # Markdown source
    ("system", None, "You are dasshh, a helpful assistant.\nUse tools when you need to.", "the system prompt (2 lines)"),
])
async def test_y_copies_the_selected_blocks_text(tool_app, kind, call_id, expected, label):
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, kind, call_id)
        await pilot.press("y")
        await wait_for(pilot, lambda: tool_app.clipboard != "")
        assert tool_app.clipboard == expected
        assert said(tool_app)[-1].startswith(f"Sent {label} {SENT}")


async def test_y_and_v_are_offered_in_the_timeline_only(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The footer's keys, those it leaves out for room included.
        keys = lambda: {key.action for key in tool_app.browser.query(FooterKey)}  # noqa: E731
        assert "copy_block" not in keys() and "screen.view_session" in keys()
        await pilot.press("y")  # the list has the focus: no block is selected there
        await settle(pilot)
        assert tool_app.clipboard == "" and said(tool_app) == []
        await select(pilot, "user")
        await wait_for(pilot, lambda: {"copy_block", "view_block"} <= keys())
        await pilot.press("question_mark")  # under a dialog, not offered (nor done)
        await wait_for(pilot, lambda: tool_app.screen is not tool_app.browser)
        await wait_for(pilot, lambda: "copy_block" not in keys())
        await pilot.press("y")
        await settle(pilot)
        assert tool_app.clipboard == ""


async def test_v_pages_the_selected_block_and_comes_back_to_the_same_place(tool_app, fake_pager, private_tmp):
    suspend_in_tests(tool_app)
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "tool_result", "c3")
        before = place(tool_app)
        assert before[3] > 0  # scrolled: the place to come back to is not the top
        await pilot.press("v")
        await wait_for(pilot, lambda: (fake_pager / "path").exists())
        await settle(pilot)
        assert (fake_pager / "text").read_text() == "exit_code: 1\nstdout: (empty)\nstderr: Failed to open journal: Permission denied"
        assert place(tool_app) == before
        assert tool_app.screen is tool_app.browser and tool_app.focused is tool_app.browser.timeline
    # A file only its owner can read, in a folder of its own, both gone once the pager exits.
    assert (fake_pager / "mode").read_text() == "0o600" and (fake_pager / "folder_mode").read_text() == "0o700"
    shown = Path((fake_pager / "path").read_text())
    assert shown.name == "tool-result.txt" and shown.parent.parent == private_tmp
    assert list(private_tmp.iterdir()) == []


async def test_shift_v_pages_the_session_as_exported(tool_app, fake_pager, private_tmp):
    suspend_in_tests(tool_app)
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "assistant")
        before = place(tool_app)
        await pilot.press("V")
        await wait_for(pilot, lambda: (fake_pager / "path").exists())
        await settle(pilot)
        expected = export_session(tool_app.client, "s-tools", "md", tz=UTC)
        assert (fake_pager / "text").read_text() == expected
        assert Path((fake_pager / "path").read_text()).name == "2026-03-14-what-is-this-machine.md"
        assert place(tool_app) == before
    assert list(private_tmp.iterdir()) == []


async def test_the_pager_is_less_when_pager_is_unset_and_a_missing_one_is_said(tool_app, monkeypatch, private_tmp):
    suspend_in_tests(tool_app)
    runs = []
    monkeypatch.setattr("subprocess.run", lambda command, **kw: runs.append(command) or _Done(0))
    monkeypatch.setenv("PAGER", "")
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "user")
        await pilot.press("v")
        await wait_for(pilot, lambda: runs)
        assert runs[0][:2] == ["less", "-R"] and runs[0][2].endswith("message.md")
        monkeypatch.undo()
        suspend_in_tests(tool_app)
        monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
        monkeypatch.setenv("PAGER", "/nonexistent/pager --flag")
        await pilot.press("v")
        await wait_for(pilot, lambda: "not found" in said(tool_app)[-1])
        assert said(tool_app)[-1] == "Cannot open the pager: /nonexistent/pager not found (set PAGER to the pager to use)"
        assert tool_app.is_running
    assert list(private_tmp.iterdir()) == []


class _Done:
    def __init__(self, returncode: int) -> None:
        self.returncode = returncode


async def test_a_terminal_that_cannot_be_handed_over_is_said(tool_app, fake_pager):
    """Under a pilot Textual cannot suspend: said, no crash, no pager run."""
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "user")
        await pilot.press("v")
        await wait_for(pilot, lambda: said(tool_app))
        assert said(tool_app)[-1].startswith("Cannot open the pager: this terminal cannot be handed over")
        assert not (fake_pager / "path").exists() and tool_app.is_running


async def test_ctrl_c_in_the_pager_does_not_end_the_app(tool_app, tmp_path, monkeypatch):
    """The pager shares the terminal: Ctrl+C there reaches the app too, which must let it pass."""
    suspend_in_tests(tool_app)
    done = tmp_path / "done"
    monkeypatch.setenv("PAGER", f"sh -c 'kill -INT $PPID; sleep 0.2; touch {shlex.quote(str(done))}' --")
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "user")
        await pilot.press("v")
        await wait_for(pilot, done.exists)
        await settle(pilot)
        assert tool_app.is_running and said(tool_app) == []


async def test_no_control_sequence_stored_reaches_the_pager(tmp_path, make_app, fake_pager):
    """less -R acts on escape sequences: the session paged (and each block) holds none of those stored."""
    import re

    from hostile_db import write_hostile

    forbidden = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
    app = make_app(write_hostile(tmp_path / "hostile.db"))
    suspend_in_tests(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sessions = app.browser.session_list
        sessions.highlighted = next(i for i, s in enumerate(sessions.summaries) if s.id == "markup")
        await settle(pilot)
        await pilot.press("V")
        await wait_for(pilot, lambda: (fake_pager / "path").exists())
        paged = (fake_pager / "text").read_text()
        assert "red" in paged and "[b]bold[/b]" in paged and not forbidden.search(paged)
        blocks = [block for block in app.browser.timeline.blocks if block.selectable]
        assert len(blocks) == 4 and not any(forbidden.search(block.copy_text) for block in blocks)


@pytest.mark.parametrize(("value", "command"), [
    (None, ["less", "-R"]),
    ("", ["less", "-R"]),
    ("  ", ["less", "-R"]),
    ("most", ["most"]),
    ("less -R +G", ["less", "-R", "+G"]),
    ("'/opt/my pager/bin/p' --x", ["/opt/my pager/bin/p", "--x"]),
])
def test_pager_command(value, command):
    from dasshh_history.screens.pager import pager_command

    assert pager_command({} if value is None else {"PAGER": value}) == command


async def test_a_pager_that_is_no_command_line_is_said(tool_app, monkeypatch):
    suspend_in_tests(tool_app)
    monkeypatch.setenv("PAGER", "less 'unclosed")
    async with tool_app.run_test(size=SIZE) as pilot:
        await select(pilot, "user")
        await pilot.press("v")
        await wait_for(pilot, lambda: said(tool_app))
        assert said(tool_app)[-1] == "Cannot open the pager: PAGER is not a command line (No closing quotation)"
