"""Helpers shared by the UI tests."""

from __future__ import annotations

#: The terminal size of every snapshot unless a test says otherwise.
SIZE = (120, 36)


async def settle(pilot) -> None:
    """Wait until the app's workers are done and the screen has caught up."""
    for _ in range(3):
        while getattr(pilot.app, "timeline_pending", False):  # the timeline follows once typing pauses
            await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def plain_title(widget) -> str:
    """A widget's border title as the user reads it (the getter returns escaped markup)."""
    from textual.content import Content

    return Content.from_markup(widget.border_title or "").plain
