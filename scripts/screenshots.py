"""Regenerate screenshots/*.svg from the demo data: ``python scripts/screenshots.py``."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path

from dasshh_history.app import HistoryApp
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW, write_demo
from dasshh_history.services.settings import SettingsStore
from dasshh_history.widgets.blocks import ToolResultBlock

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (140, 42)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def startup(pilot) -> None:
    await settle(pilot)


async def tool_results(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    for index in range(len(app.browser.session_list.summaries)):
        app.browser.session_list.highlighted = index
        await settle(pilot)
        blocks = app.browser.timeline.blocks
        timeline = app.browser.timeline
        target = next((i for i, b in enumerate(blocks) if isinstance(b, ToolResultBlock) and timeline.can_expand(i)), None)
        if target is not None:
            app.browser.timeline.focus()
            app.browser.timeline.cursor = target
            app.browser.timeline.scroll_to_block(target - 2, top=True)
            await settle(pilot)
            return


async def open_first(pilot, predicate) -> int:
    """Highlight the first session with a block matching ``predicate``; that block's index."""
    await settle(pilot)
    app = pilot.app
    for index in range(len(app.browser.session_list.summaries)):
        app.browser.session_list.highlighted = index
        await settle(pilot)
        found = next((i for i, b in enumerate(app.browser.timeline.blocks) if predicate(b)), None)
        if found is not None:
            return found
    raise LookupError("no session has such a block")


async def failures(pilot) -> None:
    target = await open_first(pilot, lambda b: isinstance(b, ToolResultBlock) and b.failure is not None)
    timeline = pilot.app.browser.timeline
    timeline.focus()
    timeline.cursor = target
    timeline.scroll_to_block(max(0, target - 4), top=True)
    await settle(pilot)


async def conversation(pilot) -> None:
    await open_first(pilot, lambda b: isinstance(b, ToolResultBlock) and b.failure is not None)
    pilot.app.browser.timeline.focus()
    await pilot.press("t")
    await settle(pilot)


async def light(pilot) -> None:
    pilot.app.theme = "textual-light"
    await startup(pilot)
    pilot.app.browser.timeline.focus()
    await settle(pilot)


async def rename(pilot) -> None:
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)


async def delete(pilot) -> None:
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)


async def help_screen(pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def search(pilot) -> None:
    await settle(pilot)
    await pilot.press("slash", *"pip cache")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


SHOTS: dict[str, Callable[..., Awaitable[None]]] = {
    "main": startup,
    "search": search,
    "tool-results": tool_results,
    "failures": failures,
    "conversation": conversation,
    "light": light,
    "rename": rename,
    "delete": delete,
    "help": help_screen,
}


async def shoot(db: Path, name: str, steps: Callable[..., Awaitable[None]]) -> None:
    client = DBClient(db_path=db)
    app = HistoryApp(client, clock=lambda: DEMO_NOW, tz=UTC, search_path=db.with_suffix(".search.db"),
                     settings=SettingsStore(db.with_suffix(".config.toml")))  # the defaults, never the user's
    async with app.run_test(size=SIZE) as pilot:
        await steps(pilot)
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
    client.dispose()


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, steps in SHOTS.items():
            db = write_demo(Path(tmp) / f"{name}.db", now=DEMO_NOW)
            await shoot(db, name, steps)
            print(OUT / f"{name}.svg")


if __name__ == "__main__":
    asyncio.run(main())
