"""A long session's end shows right after its first screen, before the rest is read: End shows the last event at once.

The app-level tests hold the session's read after its first batch (the
reader is instrumented), so that what they see is what shows before the rest
of the session is read; then they let it go and check that the timeline ends
up as a plain read builds it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from uiutil import settle

from dasshh_history.data.browse import HistoryReader
from dasshh_history.demo import DEMO_NOW, write_large_history
from dasshh_history.domain.parse import build_timeline
from dasshh_history.widgets.blocks import ToolCallBlock, ToolResultBlock, build_blocks
from dasshh_history.widgets.timeline_loader import FIRST as FIRST_BATCH
from dasshh_history.widgets.timeline_loader import LONG

EVENTS = 2_000  # a long session: its end is read first
assert EVENTS > LONG


# -- the timeline alone ----------------------------------------------------------------------------


def _rows(count: int, needles: tuple[int, ...] = ()) -> list:
    return [
        type("Row", (), {"id": f"e{i}", "invocation_id": f"i{i // 2}", "created_at": None,
                         "content": {"role": "user" if i % 2 == 0 else "assistant",
                                     "content": f"message {i}" + (" needle" if i in needles else "")}})()
        for i in range(count)
    ]


def _one_timeline_app():
    from textual.app import App

    from dasshh_history.widgets.timeline import Timeline

    class One(App[None]):
        def compose(self):
            yield Timeline()

    return One()


def _on_screen(timeline, index: int) -> int:
    """The row of the view a block starts at."""
    return timeline.block_region(index)[0] - round(timeline.scroll_y)


async def test_the_end_shown_first_stays_in_view_while_the_middle_fills_in():
    from dasshh_history.widgets.timeline import Timeline

    blocks = build_blocks(build_timeline(_rows(400)), None)  # 3 blocks an invocation: header, user, reply
    again = build_blocks(build_timeline(_rows(400)), None)  # the same events, read again
    head, cut = 30, 540
    app = _one_timeline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.show_blocks(blocks[:head], complete=False)
        timeline.focus()
        await pilot.press("end")
        timeline.show_end(blocks[cut:])
        await pilot.pause()
        assert [b.kind for b in timeline.blocks[head - 1:head + 2]] == ["assistant", "gap", "header"]
        assert timeline.cursor == len(timeline.blocks) - 1 and timeline.blocks[-1] is blocks[-1]
        assert timeline.scroll_y == timeline.max_scroll_y > 0
        timeline.append_blocks(blocks[head:300], complete=False)  # they go before the gap
        await pilot.pause()
        assert timeline.blocks == blocks[:300] + timeline.blocks[300:301] + blocks[cut:]
        assert timeline.cursor == len(timeline.blocks) - 1
        assert timeline.scroll_y == timeline.max_scroll_y
        # Off the end, the block under the cursor stays where it is on screen while the rest comes in.
        await pilot.press("up", "up", "up")
        chosen = timeline.blocks[timeline.cursor]
        row = _on_screen(timeline, timeline.cursor)
        timeline.append_blocks(blocks[300:cut], complete=False)
        await pilot.pause()
        assert timeline.blocks[timeline.cursor] is chosen
        assert _on_screen(timeline, timeline.cursor) == row
        timeline.append_blocks(again[cut:], complete=True)  # the end, read again, takes the place of the one shown
        await pilot.pause()
        assert timeline.complete
        assert timeline.blocks == blocks[:cut] + again[cut:]
        assert timeline.blocks[timeline.cursor].entry == chosen.entry
        assert _on_screen(timeline, timeline.cursor) == row
        await pilot.press("home")
        assert timeline.cursor == 1 and timeline.scroll_y == 0


async def test_a_search_goes_to_the_first_match_not_to_one_in_the_end_shown_first():
    from dasshh_history.widgets.timeline import Timeline

    blocks = build_blocks(build_timeline(_rows(400, needles=(250, 390))), None)
    head, cut = 30, 540
    app = _one_timeline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.show_blocks(blocks[:head], complete=False)
        timeline.set_search(re.compile("needle"), seek=True)
        timeline.show_end(blocks[cut:])
        await pilot.pause()
        assert timeline.cursor == 1  # the match in the end is not the first one
        timeline.append_blocks(blocks[head:cut], complete=False)
        await pilot.pause()
        assert timeline.blocks[timeline.cursor].entry.event_id == "e250"


async def test_the_session_read_again_while_its_end_is_shown_keeps_the_cursor_on_its_event():
    from dasshh_history.widgets.timeline import Timeline

    blocks = build_blocks(build_timeline(_rows(400)), None)
    again = build_blocks(build_timeline(_rows(400)), None)
    app = _one_timeline_app()
    async with app.run_test(size=(80, 24)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.show_blocks(blocks[:30], complete=False)
        timeline.show_end(blocks[540:])
        timeline.focus()
        await pilot.press("end", "up", "up")
        chosen = timeline.blocks[timeline.cursor]
        timeline.show_blocks(again, complete=True, keep_place=True)  # a live refresh
        await pilot.pause()
        assert timeline.complete and timeline.blocks == again
        assert timeline.blocks[timeline.cursor].entry == chosen.entry


# -- the app, the session's read held after its first batch --------------------------------------------------


@pytest.fixture
def long_history(tmp_path: Path) -> Path:
    return write_large_history(tmp_path / "long.db", sessions=3, big_session_events=EVENTS, big_result_bytes=5_000,
                               now=DEMO_NOW)


class HeldRead:
    """Instruments HistoryReader: a session's batches stop after the first until released (or fail then)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, session_id: str, *, fail: bool = False) -> None:
        self.yielded: list[int] = []  # rows of each batch handed to the loader
        self.held = threading.Event()  # the read waits after its first batch
        self.go = threading.Event()
        original = HistoryReader.iter_event_batches
        held = self

        def iter_event_batches(reader, *, session_id: str, **sizes):
            batches = original(reader, session_id=session_id, **sizes)
            try:
                for number, batch in enumerate(batches):
                    if number == 1 and session_id == held.session_id:
                        held.held.set()
                        held.go.wait(20)
                        if fail:
                            raise sqlite3.OperationalError("disk I/O error")
                    held.yielded.append(len(batch))
                    yield batch
            finally:
                batches.close()

        self.session_id = session_id
        monkeypatch.setattr(HistoryReader, "iter_event_batches", iter_event_batches)


def _newest_session(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id FROM sessions ORDER BY updated_at DESC LIMIT 1").fetchone()[0]


def _events(path: Path, session_id: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, content FROM events WHERE session_id = ? ORDER BY rowid", (session_id,))
        return [(event_id, json.loads(content)) for event_id, content in rows]


def _screen(timeline) -> str:
    return "\n".join(timeline.render_line(y).text for y in range(timeline.size.height))


def _structure(blocks) -> list[tuple]:
    """Kinds, entries and call numbers of blocks, to compare with a plain read's."""
    return [
        (block.kind, getattr(getattr(block, "entry", None), "event_id", None),
         block.number if isinstance(block, ToolCallBlock) else
         block.call_number if isinstance(block, ToolResultBlock) else None)
        for block in blocks
    ]


async def _wait_until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await pilot.pause(0.01)


async def test_end_right_after_opening_a_long_session_shows_its_last_event_before_the_rest_is_read(
    long_history, make_app, monkeypatch
):
    session_id = _newest_session(long_history)
    events = _events(long_history, session_id)
    assert len(events) == EVENTS
    last_id, last = events[-1]
    last_words = last["content"].split("**")[0].strip()  # the reply's first words, drawn as they are
    read = HeldRead(monkeypatch, session_id)
    app = make_app(long_history)
    async with app.run_test(size=(120, 36)) as pilot:
        try:
            timeline = app.browser.timeline
            await _wait_until(pilot, read.held.is_set, "the read waits after its first batch")
            await pilot.press("enter", "end")  # open it (into its timeline), to its end
            await _wait_until(pilot, lambda: last_words in _screen(timeline), "the last event on screen")
            assert read.yielded == [FIRST_BATCH]  # shown before the rest of the session was read
            assert not timeline.complete
            assert timeline.cursor == len(timeline.blocks) - 1
            assert timeline.blocks[timeline.cursor].entry.event_id == last_id
            # The end's calls and results are numbered as in the whole session already.
            expected = _structure(build_blocks(build_timeline(app.service.get_events(session_id=session_id)), None))
            gap = [block.kind for block in timeline.blocks].index("gap")
            end = _structure(timeline.blocks[gap + 1:])
            assert any(number for _kind, _id, number in end)
            assert end == expected[-len(end):]
            read.go.set()
            await settle(pilot)
            assert timeline.complete
            assert sum(read.yielded) == EVENTS
            assert _structure(timeline.blocks) == expected
            assert timeline.cursor == len(timeline.blocks) - 1  # still on the last event
            assert timeline.scroll_y == timeline.max_scroll_y > 0
            assert last_words in _screen(timeline)
        finally:
            read.go.set()  # before the app stops, or its worker waits on


async def test_home_and_scrolling_up_after_end_reach_the_first_event(long_history, make_app, monkeypatch):
    session_id = _newest_session(long_history)
    events = _events(long_history, session_id)
    first_words, last_words = events[0][1]["content"], events[-1][1]["content"].split("**")[0].strip()
    read = HeldRead(monkeypatch, session_id)
    app = make_app(long_history)
    async with app.run_test(size=(120, 36)) as pilot:
        try:
            timeline = app.browser.timeline
            await _wait_until(pilot, read.held.is_set, "the read waits after its first batch")
            await pilot.press("enter", "end")
            await _wait_until(pilot, lambda: last_words in _screen(timeline), "the last event on screen")
            await pilot.press("home")
            assert first_words in _screen(timeline)
            assert timeline.cursor == 1 and timeline.blocks[1].entry.event_id == events[0][0]
            # Scrolling up from the end passes the gap, then reaches the first event.
            await pilot.press("end")
            assert last_words in _screen(timeline)
            for _ in range(200):
                if timeline.scroll_y == 0:
                    break
                await pilot.press("pageup")
            assert timeline.scroll_y == 0 and first_words in _screen(timeline)
            # Once the whole session is read, End and scrolling up from it still work.
            read.go.set()
            await settle(pilot)
            await pilot.press("end")
            assert last_words in _screen(timeline)
            assert timeline.blocks[timeline.cursor].entry.event_id == events[-1][0]
            await pilot.press("pageup")
            assert 0 < timeline.scroll_y < timeline.max_scroll_y
            await pilot.press("home")
            assert first_words in _screen(timeline)
        finally:
            read.go.set()  # before the app stops, or its worker waits on


async def test_a_read_failing_after_the_end_was_shown_is_reported_and_ends_the_timeline_there(
    long_history, make_app, monkeypatch
):
    session_id = _newest_session(long_history)
    read = HeldRead(monkeypatch, session_id, fail=True)
    app = make_app(long_history)
    async with app.run_test(size=(120, 36)) as pilot:
        try:
            timeline = app.browser.timeline
            await _wait_until(pilot, read.held.is_set, "the read waits after its first batch")
            await _wait_until(pilot, lambda: "gap" in [b.kind for b in timeline.blocks], "the end shown early")
            read.go.set()
            await settle(pilot)
            assert any("Could not read events: " in str(n.message) for n in app._notifications)
            assert timeline.complete
            first = build_blocks(build_timeline(app.service.get_events(session_id=session_id)[:FIRST_BATCH]), None)
            shown = _structure(timeline.blocks)
            assert "gap" not in [kind for kind, _id, _number in shown]  # the end shown early went with it
            assert shown == _structure(first)[:len(shown)]
        finally:
            read.go.set()  # before the app stops, or its worker waits on
