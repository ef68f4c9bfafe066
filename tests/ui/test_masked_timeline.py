"""Masked secrets in the timeline: shown masked (``ghp_…q7R8``) and drawn apart in every kind of block, until M.

The style is looked for in the drawn segments (reverse, from ``timeline--secret``); the invisible marks that
carry it (domain/secret_marks.py) never reach the screen, and text that looks like a mark is never styled.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from uiutil import settle, wait_for

sys.path.insert(0, str(Path(__file__).parents[1] / "domain"))
from test_secrets import AWS, GHP, RSA, STRIPE

from dasshh_history.domain.secret_marks import CLOSE, OPEN

AT = "2026-03-14 12:00:00.000000"
SIZE = (110, 48)
# What a mark looks like, without its random part: data holding it is shown as it is.
FAKE_MARKS = "\u2062\u2061\u2064\u2061\u2064" + "ghp_…q7R8" + "\u2063\u2061\u2064"


def write_history(path: Path) -> Path:
    """A session with a secret in each kind of block, and one whose text only looks masked."""
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "index": 0,
            "function": {"name": "run_shell_command",
                         "arguments": json.dumps({"command": f"export GH={GHP} && gh auth status",
                                                  "env": {"STRIPE": STRIPE}})}}]}
    result = {"role": "tool", "tool_call_id": "c1", "name": "run_shell_command",
              "content": json.dumps({"stdout": f"token: {GHP}\nLogged in", "exit_code": 0})}
    reply = {"role": "assistant", "content": f"Your key `{AWS}` works:\n\n```bash\naws configure set key {AWS}\n```\n"}
    rows = [
        ("e0", "i1", "s-keys", AT, json.dumps({"role": "system", "content": f"Deploy with {STRIPE}."})),
        ("e1", "i1", "s-keys", AT, json.dumps({"role": "user", "content": f"my AWS key is {AWS}, use it"})),
        ("e2", "i1", "s-keys", AT, json.dumps(call)),
        ("e3", "i1", "s-keys", AT, json.dumps(result)),
        ("e4", "i1", "s-keys", AT, json.dumps(reply)),
        ("f1", "i2", "s-fake", AT, json.dumps({"role": "user", "content": f"looks masked: ghp_…q7R8 {FAKE_MARKS} end"})),
        ("f2", "i2", "s-fake", AT, json.dumps({"role": "assistant", "content": None, "tool_calls": [
            {"id": "c2", "type": "function", "index": 0, "function": {
                "name": "run_shell_command", "arguments": json.dumps({"command": f"echo {FAKE_MARKS}"})}}]})),
    ]
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR REFERENCES sessions(id),"
        " created_at DATETIME, content JSON);"
    )
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s-fake', ?, ?, ?)", (f"fake {FAKE_MARKS}", AT, "2026-03-14 11:00:00"))
        conn.execute("INSERT INTO sessions VALUES ('s-keys', ?, ?, ?)", (f"deploy with {GHP}", AT, AT))
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


async def open_session(pilot, session_id: str) -> None:
    await settle(pilot)
    app = pilot.app
    app.browser.session_list.highlighted = [s.id for s in app.browser.session_list.summaries].index(session_id)
    await settle(pilot)
    await wait_for(pilot, lambda: app.browser.displayed_session_id == session_id and app.browser.timeline.complete)


def drawn(timeline, index: int) -> list[list]:
    """Block ``index`` as drawn: its lines of segments."""
    return [list(strip) for strip in timeline._strips(index)]


def text_of(lines: list[list]) -> str:
    return "\n".join("".join(segment.text for segment in line) for line in lines)


def styled(lines: list[list]) -> list[str]:
    """The runs of text drawn as masked secrets (reversed, in the foreground colour), joined across segments
    and lines (a tool call's name is reversed too, in its own colour)."""
    runs, current = [], ""
    for line in lines:
        for segment in line:
            style = segment.style
            if style is not None and style.reverse and style.color == SECRET.color:
                current += segment.text
            elif current:
                runs.append(current)
                current = ""
    return runs + ([current] if current else [])


SECRET = None  # the style of a masked secret, set when the app runs (see secret_style)


def secret_style(app):
    global SECRET
    SECRET = app.browser.timeline.get_component_rich_style("timeline--secret", partial=True)
    assert SECRET.reverse and SECRET.color is not None


def by_kind(timeline) -> dict[str, list[list]]:
    return {block.kind: drawn(timeline, index) for index, block in enumerate(timeline.blocks) if block.selectable}


MASKED = {
    "system": ["sk_live_…p7dc"],
    "user": ["AKIA…Y1U3"],
    "tool_call": ["ghp_…q7R8", "sk_live_…p7dc"],
    "tool_result": ["ghp_…q7R8"],
    "assistant": ["AKIA…Y1U3", "AKIA…Y1U3"],
}


@pytest.mark.asyncio
async def test_every_kind_of_block_draws_masked_secrets_apart_until_m(tmp_path: Path, make_app):
    app = make_app(write_history(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_session(pilot, "s-keys")
        secret_style(app)
        timeline = app.browser.timeline
        blocks = by_kind(timeline)
        assert set(blocks) == set(MASKED)
        for kind, masked in MASKED.items():
            text = text_of(blocks[kind])
            assert [run.strip() for run in styled(blocks[kind])] == masked, kind
            assert all(value in text for value in masked), kind
            assert AWS not in text and GHP not in text and STRIPE not in text, kind
            assert "\u2062" not in text and "\u2063" not in text and "\u2061" not in text, kind  # no mark drawn
        # The stored form (J) of the call: its JSON with the secret masked, unescaped, drawn apart.
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_call")
        await pilot.press("J")
        await settle(pilot)
        raw = drawn(timeline, timeline.cursor)
        assert "ghp_…q7R8" in text_of(raw) and [run.strip() for run in styled(raw)] == ["ghp_…q7R8", "sk_live_…p7dc"]
        # The conversation view (t): the call's line shows the command's masked token apart.
        await pilot.press("t")
        await settle(pilot)
        line = drawn(timeline, timeline.cursor)
        assert "ghp_…q7R8" in text_of(line) and "ghp_…q7R8" in "".join(styled(line))
        await pilot.press("t")
        await pilot.press("M")
        await wait_for(pilot, lambda: GHP in text_of(drawn(timeline, 2)) or GHP in text_of(drawn(timeline, 3)))
        blocks = by_kind(timeline)
        for kind in MASKED:
            assert styled(blocks[kind]) == [], kind
        assert AWS in text_of(blocks["user"]) and STRIPE in text_of(blocks["system"])
        assert GHP in text_of(blocks["tool_result"]) and AWS in text_of(blocks["assistant"])
        await pilot.press("M")
        await wait_for(pilot, lambda: styled(by_kind(timeline)["user"]) == ["AKIA…Y1U3"])
        assert AWS not in text_of(by_kind(timeline)["user"])


@pytest.mark.asyncio
async def test_y_copies_the_masked_text_without_marks(tmp_path: Path, make_app):
    app = make_app(write_history(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_session(pilot, "s-keys")
        timeline = app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if b.kind == "user")
        copied: list[str] = []
        app.copy_to_clipboard = copied.append
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(copied))
        assert copied == ["my AWS key is AKIA…Y1U3, use it"]


@pytest.mark.asyncio
async def test_text_that_looks_masked_or_marked_is_never_styled(tmp_path: Path, make_app):
    app = make_app(write_history(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_session(pilot, "s-fake")
        secret_style(app)
        timeline = app.browser.timeline
        blocks = by_kind(timeline)
        assert set(blocks) == {"user", "tool_call"}
        for kind, lines in blocks.items():
            assert styled(lines) == [], kind
            assert "ghp_…q7R8" in text_of(lines), kind  # shown as it is
        assert "looks masked: ghp_…q7R8" in text_of(blocks["user"])
        assert FAKE_MARKS in text_of(blocks["user"])  # data's own invisible characters are kept, not taken for marks


def test_marks_are_random_and_invisible():
    from rich.cells import cell_len

    assert cell_len(OPEN + "x" + CLOSE) == 1
    assert OPEN not in FAKE_MARKS and len(OPEN) == len(CLOSE) == 33


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
def test_snapshot_masked_secrets_in_every_kind_of_block(snap_compare, tmp_path: Path, make_app, theme: str):
    async def run_before(pilot) -> None:
        pilot.app.theme = theme
        await open_session(pilot, "s-keys")
        timeline = pilot.app.browser.timeline
        timeline.focus()
        timeline.cursor = next(i for i, b in enumerate(timeline.blocks) if b.kind == "tool_call")
        await settle(pilot)

    assert snap_compare(make_app(write_history(tmp_path / "h.db")), terminal_size=SIZE, run_before=run_before)


@pytest.mark.asyncio
async def test_titles_in_the_list_draw_masked_secrets_apart_until_m(tmp_path: Path, make_app):
    app = make_app(write_history(tmp_path / "h.db"))
    async with app.run_test(size=SIZE) as pilot:
        await open_session(pilot, "s-keys")
        secret_style(app)
        sessions = app.browser.session_list
        rows = {s.id: n for n, s in enumerate(sessions.summaries)}

        def title_line(session_id: str) -> list:
            return [list(sessions.render_line(rows[session_id] * 2))]

        line = title_line("s-keys")
        assert "deploy with ghp_…q7R8" in text_of(line) and styled(line) == ["ghp_…q7R8"]
        assert "\u2062" not in text_of(line) and sessions.row_text(rows["s-keys"]).startswith("deploy with ghp_…q7R8")
        fake = title_line("s-fake")
        assert styled(fake) == [] and "fake " in text_of(fake)  # looks masked, holds mark-like characters: as is
        await pilot.press("M")
        await wait_for(pilot, lambda: f"deploy with {GHP[:12]}" in text_of(title_line("s-keys")))  # cut to the pane
        assert styled(title_line("s-keys")) == []


@pytest.mark.asyncio
async def test_a_masked_secret_wrapped_over_two_lines_is_styled_on_both_and_the_frame_is_not(tmp_path: Path, make_app):
    path = tmp_path / "h.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR REFERENCES sessions(id),"
        " created_at DATETIME, content JSON);"
    )
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s-rsa', 'a key', ?, ?)", (AT, AT))
        conn.execute("INSERT INTO events VALUES ('e1', 'i', 's-rsa', ?, ?)",
                     (AT, json.dumps({"role": "user", "content": f"here is my key, please keep it safe: {RSA}"})))
    conn.close()
    app = make_app(path)
    async with app.run_test(size=(70, 30)) as pilot:
        await open_session(pilot, "s-rsa")
        secret_style(app)
        lines = by_kind(app.browser.timeline)["user"]
        runs = [run for line in lines for run in styled([line])]
        # Wrapped: both halves styled, nothing of the frame or padding (the line ends "│" after spaces).
        assert len(runs) == 2 and " ".join(runs) == "-----BEGIN RSA PRIVATE KEY-----…", runs
        assert "MIIE" not in text_of(lines)
