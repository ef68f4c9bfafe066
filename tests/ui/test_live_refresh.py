"""Changes written by another process (dasshh in another terminal) show up while the app is open."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from uiutil import settle

WRITER = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=5)
with conn:
    for sql, args in json.loads(sys.argv[2]):
        conn.execute(sql, args)
conn.close()
"""


def write_from_another_process(db: Path, *statements: tuple[str, list]) -> None:
    subprocess.run([sys.executable, "-c", WRITER, str(db), json.dumps(statements)], check=True, timeout=30)


async def wait_for(pilot, condition, timeout: float = 4.0) -> float:
    """Seconds until ``condition()`` held (fails after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "the change did not show in time"
        await pilot.pause(0.05)
    return time.monotonic() - start


def message(role: str, text: str) -> str:
    return json.dumps({"role": role, "content": text})


async def test_a_session_written_by_another_process_appears_and_the_highlight_stays(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)
        highlighted = app.browser.session_list.current.id
        write_from_another_process(
            demo_db,
            ("INSERT INTO sessions VALUES ('new-session', 'Written by dasshh meanwhile', "
             "'2026-03-10 12:00:00', '2099-01-01 00:00:00')", []),
            ("INSERT INTO events VALUES ('new-event', 'inv', 'new-session', '2026-03-10 12:00:00', ?)",
             [message("user", "hello from the other terminal")]),
        )
        waited = await wait_for(pilot, lambda: app.browser.session_list.total == 13)
        assert waited < 2.5
        await settle(pilot)
        assert app.browser.session_list.summary_at(0).detail == "Written by dasshh meanwhile"
        assert app.browser.session_list.current.id == highlighted  # now one row further down
        assert app.browser.session_list.highlighted == 3


async def test_events_added_to_the_shown_session_appear_in_its_timeline(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.browser.displayed_session_id
        before = len(app.browser.timeline.blocks)
        cursor = app.browser.timeline.cursor
        write_from_another_process(
            demo_db,
            ("INSERT INTO events VALUES ('late-1', 'late-inv', ?, '2099-01-01 00:00:00', ?)",
             [shown, message("user", "one more question")]),
            ("INSERT INTO events VALUES ('late-2', 'late-inv', ?, '2099-01-01 00:00:00', ?)",
             [shown, message("assistant", "one more answer")]),
        )
        await wait_for(pilot, lambda: len(app.browser.timeline.blocks) > before)
        await settle(pilot)
        texts = [getattr(block, "entry", None) for block in app.browser.timeline.blocks[-2:]]
        assert [entry.text for entry in texts] == ["one more question", "one more answer"]
        assert app.browser.timeline.cursor == cursor  # the place in the timeline is kept
        assert app.browser.displayed_session_id == shown


async def test_a_session_deleted_by_another_process_disappears(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        victim = app.browser.session_list.summaries[5].id
        write_from_another_process(
            demo_db,
            ("DELETE FROM events WHERE session_id = ?", [victim]),
            ("DELETE FROM sessions WHERE id = ?", [victim]),
        )
        await wait_for(pilot, lambda: app.browser.session_list.total == 11)
        await settle(pilot)
        assert victim not in [s.id for s in app.browser.session_list.summaries]
        assert app.browser.session_list.highlighted == 0


async def test_search_results_follow_new_rows(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"kubernetes")
        await settle(pilot)
        assert app.browser.session_list.total == 0
        write_from_another_process(
            demo_db,
            ("INSERT INTO sessions VALUES ('k8s', 'Pods', '2026-03-10 12:00:00', '2026-03-10 12:00:00')", []),
            ("INSERT INTO events VALUES ('k8s-1', 'inv', 'k8s', '2026-03-10 12:00:00', ?)",
             [message("user", "why is my kubernetes pod pending?")]),
        )
        await wait_for(pilot, lambda: app.browser.session_list.total == 1)
        await settle(pilot)
        assert app.browser.session_list.current.id == "k8s"
