"""The help screen's keys, and the command palette's commands."""

from __future__ import annotations

from textual.containers import VerticalScroll
from uiutil import settle, wait_for

from dasshh_history.screens.help import HelpScreen


async def test_the_help_screen_scrolls_with_j_k_g_and_G_as_with_the_arrows(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = app.screen.query_one(VerticalScroll)
        await wait_for(pilot, lambda: keys.max_scroll_y > 5)  # at 24 rows the keys do not fit
        await pilot.press("j")
        await wait_for(pilot, lambda: keys.scroll_y == 1)
        await pilot.press("G")
        await wait_for(pilot, lambda: keys.scroll_y == keys.max_scroll_y)
        await pilot.press("k")
        await wait_for(pilot, lambda: keys.scroll_y == keys.max_scroll_y - 1)
        await pilot.press("g")
        await wait_for(pilot, lambda: keys.scroll_y == 0)
        await pilot.press("end")
        await wait_for(pilot, lambda: keys.scroll_y == keys.max_scroll_y)
        await pilot.press("home", "down", "down")
        await wait_for(pilot, lambda: keys.scroll_y == 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_the_help_screen_bindings_list_the_scrolling_keys():
    keys = {key for binding in HelpScreen.BINDINGS for key in binding.key.split(",")}
    assert {"j", "k", "g", "G", "up", "down", "home", "end"} <= keys


async def test_the_palette_has_one_entry_called_keys_and_it_opens_the_help_screen(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        commands = list(app.get_system_commands(app.screen))
        titles = [command.title for command in commands]
        assert len(titles) == len(set(titles)), titles
        (keys,) = [command for command in commands if command.title == "Keys"]
        keys.callback()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
