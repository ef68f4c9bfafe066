"""Hostile rows: every one is shown literally or as a marked broken entry, and the app stays usable."""

from __future__ import annotations

import json
import re
import sqlite3
import time

from exportutil import stored_json
from hostile_db import MARKUP, ORPHANS, SESSIONS, write_hostile
from textual.widgets import Footer
from uiutil import settle

from dasshh_history.services import exporting
from dasshh_history.widgets.blocks import RawBlock
from dasshh_history.widgets.session_list import SessionList
from dasshh_history.widgets.timeline import Timeline

# What must never reach the screen: C0/C1 controls (ESC, NUL, CR, BEL...), bidi overrides, zero-width characters.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def screen_lines(widget) -> list[str]:
    """The lines a widget hands to the compositor, as text."""
    return ["".join(segment.text for segment in widget.render_line(y)) for y in range(widget.size.height)]


def dirty(lines: list[str]) -> list[str]:
    return [line for line in lines if FORBIDDEN.search(line)]


def shown_event_ids(app) -> set[str]:
    return {block.entry.event_id for block in app.browser.timeline.blocks if hasattr(block, "entry")}


async def show_session(pilot, session_id: str) -> None:
    app = pilot.app
    ids = [s.id for s in app.browser.session_list.summaries]
    app.browser.session_list.highlighted = ids.index(session_id)
    await settle(pilot)
    deadline = time.monotonic() + 10  # a hang detector, not a timing target (those are in bench/)
    while not (app.browser.displayed_session_id == session_id and app.browser.timeline.complete):
        assert time.monotonic() < deadline, f"{session_id} never finished loading"
        await pilot.pause(0.05)


async def test_every_hostile_row_is_shown_literally_and_the_app_stays_usable(tmp_path, make_app):
    path = write_hostile(tmp_path / "hostile.db")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert {s.id for s in app.browser.session_list.summaries} == set(SESSIONS)  # the orphan makes no session
        list_lines = screen_lines(app.browser.session_list)
        assert any(MARKUP.split()[2] in line for line in list_lines)  # "[@click=app.quit]quit[/]", literally
        assert dirty(list_lines) == []
        for session_id, (_detail, _created, _updated, events) in SESSIONS.items():
            await show_session(pilot, session_id)
            assert shown_event_ids(app) == {event_id for event_id, _ in events}, session_id
            timeline = app.browser.timeline
            for index, block in enumerate(timeline.blocks):  # everything open: the huge and deep parts too
                if timeline.can_expand(index):
                    timeline.toggle(index)
            timeline.focus()
            for key in ("end", "home"):
                await pilot.press(key)
                await pilot.pause()
                assert app.browser.displayed_session_id == session_id
                assert dirty(screen_lines(timeline)) == [], (session_id, key)
            app.browser.session_list.focus()
            title = timeline.border_title or ""
            assert "\x1b" not in str(title)
        # Markup came through as text, in the title and in every kind of block.
        await show_session(pilot, "markup")
        text = "\n".join(screen_lines(app.browser.timeline))
        assert "[@click=app.quit]quit[/]" in text and "[b]bold[/b]" in text
        assert "漢字" in text
        # Clicking the literal [@click=app.quit] in the list and in the timeline does nothing.
        await pilot.click(SessionList, offset=(10, 1))
        await pilot.click(Timeline, offset=(20, 3))
        await settle(pilot)
        assert app.is_running
        # Broken rows are marked as such, not hidden.
        await show_session(pilot, "shapes")
        raw = {block.entry.event_id for block in app.browser.timeline.blocks if isinstance(block, RawBlock)}
        assert {"null", "invalid-json", "blob", "deep"} <= raw
        # Search snippets are drawn from the same text: literal, and clean.
        await pilot.press("slash")
        for char in "pwned":
            await pilot.press(char)
        await settle(pilot)
        assert app.browser.session_list.total == 1 and app.browser.session_list.current.id == "markup"
        lines = screen_lines(app.browser.session_list)
        assert dirty(lines) == [] and any("[@click=app.quit]" in line for line in lines)
        await pilot.press("escape")
        await settle(pilot)
        # Still answering keys after the huge session.
        await show_session(pilot, "huge")
        await pilot.press("tab", "end", "home", "shift+tab", "down")
        await settle(pilot)
        assert app.is_running and app.query_one(Footer)


def test_every_hostile_session_exports_with_its_contents_as_stored(tmp_path):
    from dasshh_history.data.client import DBClient

    path = write_hostile(tmp_path / "hostile.db")
    client = DBClient(db_path=path)
    try:
        for session_id, (_detail, _created, _updated, events) in SESSIONS.items():
            exported = json.loads(exporting.export_session(client, session_id, "json"))
            by_id = {event["id"]: event for event in exported["events"]}
            assert len(by_id) == len(exported["events"]) and set(by_id) == {event_id for event_id, _ in events}
            for event_id, stored in events:
                event = by_id[event_id]
                if isinstance(stored, str):
                    ok, expected = stored_json(stored)  # JSON up to MAX_JSON_DEPTH levels, on every Python
                    if not ok:
                        assert event["content_raw"] == stored and event["content_error"], event_id
                        continue
                    assert event["content"] == expected, event_id
                elif stored is None:
                    assert event["content"] is None
                else:
                    assert "content_error" in event, event_id
            markdown = exporting.export_session(client, session_id, "md")
            assert not re.search("[\x00-\x08\x0b-\x1f\x7f\x9b\x9d]", markdown), session_id
        with sqlite3.connect(path) as conn:  # the orphan is still stored, untouched
            assert conn.execute("SELECT count(*) FROM events WHERE id = ?", (ORPHANS[0][0],)).fetchone() == (1,)
    finally:
        client.dispose()
