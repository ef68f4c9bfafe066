"""Helpers shared by the UI tests."""

from __future__ import annotations

import asyncio
import time

#: The terminal size of every snapshot unless a test says otherwise.
SIZE = (120, 36)


async def settle(pilot) -> None:
    """Wait until the app's workers are done and the screen has caught up."""
    for _ in range(3):
        while getattr(pilot.app.screen_stack[0], "timeline_pending", False):  # the timeline follows once typing pauses
            await pilot.pause(0.05)
        # Failed workers count as complete: what they raised is the app's to report, not the wait's.
        await asyncio.gather(*(worker.wait() for worker in pilot.app.workers), return_exceptions=True)
        await pilot.pause()


def plain_title(widget) -> str:
    """A widget's border title as the user reads it (the getter returns escaped markup)."""
    from textual.content import Content

    return Content.from_markup(widget.border_title or "").plain


def said(app) -> list[str]:
    """The app's notifications still shown, oldest first."""
    return [str(notification.message) for notification in app._notifications]


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {condition.__code__.co_qualname}"
        await pilot.pause(0.02)
