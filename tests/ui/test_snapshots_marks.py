"""Snapshots of the marks (issue 17): marked rows and the list's count, and the one question of a bulk delete.

Fixed size, clock and time zone as in test_snapshots.py (the ``make_app`` fixture).
"""

from __future__ import annotations

from uiutil import SIZE, settle, wait_for

from dasshh_history.screens.confirm_delete import ConfirmDeleteManyScreen


async def mark_three(pilot) -> None:
    """Marks the 1st, 2nd and 4th sessions; the highlight ends on the 5th."""
    await settle(pilot)
    await pilot.press("space", "space", "j", "space")
    await settle(pilot)


def test_marked_sessions_in_the_list(snap_compare, demo_db, make_app):
    """A bar in the margin and a tick before the title; the title counts them; the footer offers esc Clear marks."""
    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=mark_three)


def test_bulk_delete_confirmation(snap_compare, demo_db, make_app):
    """d with marks: one question naming how many sessions and messages go."""

    async def run_before(pilot) -> None:
        await mark_three(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmDeleteManyScreen))
        await settle(pilot)

    assert snap_compare(make_app(demo_db), terminal_size=SIZE, run_before=run_before)
