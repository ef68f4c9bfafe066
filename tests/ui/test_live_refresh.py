"""Changes written by another process (dasshh in another terminal) show up while the app is open."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


REPLY_WITH_TABLE_AND_CODE = (
    "Here is what uses the space:\n\n| dir | size |\n| --- | --- |\n| ~/.cache | 112G |\n| ~/Videos | 61G |\n"
    "| ~/code | 9G |\n\nTo clean the cache:\n\n```bash\nrm -rf ~/.cache/pip\nrm -rf ~/.cache/yarn\n```\n\nDone."
)


@pytest.mark.parametrize("width", [100, 130])
@pytest.mark.parametrize("earlier", [0, 6])
@pytest.mark.parametrize("focus", ["list", "timeline"])
async def test_a_reply_written_at_the_end_of_the_shown_session_scrolls_into_view(tmp_path, make_app, earlier, focus, width):
    """A session shown at its end (its question the last block); dasshh writes the reply 2 s later."""
    import sqlite3

    db = tmp_path / "fresh.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE sessions (id VARCHAR PRIMARY KEY, detail VARCHAR, created_at DATETIME, updated_at DATETIME);"
        "CREATE TABLE events (id VARCHAR PRIMARY KEY, invocation_id VARCHAR, session_id VARCHAR, created_at DATETIME,"
        " content JSON);"
    )
    with conn:
        conn.execute("INSERT INTO sessions VALUES ('s', 'What uses my disk?', '2026-03-14 12:00:00', '2026-03-14 12:00:00')")
        for n in range(earlier):  # earlier turns: the session is taller than the view
            conn.execute("INSERT INTO events VALUES (?, ?, 's', '2026-03-14 12:00:00', ?)",
                         (f"old-{n}", f"inv-{n // 2}", message("user" if n % 2 == 0 else "assistant", f"turn {n}\n" * 4)))
        conn.execute("INSERT INTO events VALUES ('q', 'inv-q', 's', '2026-03-14 12:00:00', ?)",
                     (message("user", "What uses my disk?"),))
    conn.close()
    app = make_app(db)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        timeline = app.browser.timeline
        if focus == "timeline" or earlier:
            timeline.focus()
            await pilot.press("end")
            await settle(pilot)
        if focus == "list":
            app.browser.session_list.focus()
            await settle(pilot)
        assert timeline.cursor == len(timeline.blocks) - 1
        write_from_another_process(
            db, ("INSERT INTO events VALUES ('r', 'inv-q', 's', '2026-03-14 12:00:02', ?)",
                 [message("assistant", REPLY_WITH_TABLE_AND_CODE)]),
        )
        await wait_for(pilot, lambda: len(timeline.blocks) and getattr(timeline.blocks[-1], "entry", None) is not None
                       and timeline.blocks[-1].entry.event_id == "r")
        await settle(pilot)
        last = len(timeline.blocks) - 1
        assert timeline.cursor == last
        top, height = timeline.block_region(last)
        view = timeline.scrollable_content_region.height
        assert timeline.scroll_y <= top and top + min(height, view) <= timeline.scroll_y + view, (
            timeline.scroll_y, top, height, view)
        lines = ["".join(s.text for s in timeline.render_line(y)) for y in range(view)]
        assert any("Done." in line for line in lines), lines
