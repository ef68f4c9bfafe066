"""Narrow terminals: a footer that keeps Help and Quit, and one pane at a time below 70 columns."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey
from uiutil import settle, wait_for


def footer_keys(app) -> dict[str, FooterKey]:
    """The footer's keys on screen, by action."""
    return {key.action: key for key in app.screen.query(FooterKey) if key.display}


def assert_every_key_whole(app) -> None:
    """No key is cut off: each is within the screen, none under another (the palette's is docked on the right)."""
    width = app.size.width
    regions = sorted((key.region for key in footer_keys(app).values()), key=lambda region: region.x)
    assert all(region.width > 0 and region.right <= width for region in regions), regions
    assert all(left.right <= right.x for left, right in zip(regions, regions[1:])), regions


def panes(app) -> tuple[bool, bool]:
    """Whether the session list and the timeline are shown."""
    browser = app.browser
    return browser.query_one("#left").display and browser.session_list.region.width > 0, browser.timeline.display


@pytest.mark.parametrize("width", [120, 99, 80, 70, 60, 45])
@pytest.mark.parametrize("focus", ["list", "timeline"])
async def test_the_footer_keeps_help_and_quit_and_cuts_no_key(demo_db, make_app, width, focus):
    app = make_app(demo_db)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        if focus == "timeline":
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.focused is app.browser.timeline)
            await settle(pilot)
        await wait_for(pilot, lambda: {"help", "quit"} <= footer_keys(app).keys())
        assert_every_key_whole(app)
        assert "screen.search" in footer_keys(app) and "command_palette" in footer_keys(app)


async def test_when_every_key_fits_none_is_left_out(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(150, 24)) as pilot:
        await settle(pilot)
        assert list(footer_keys(app)) == [
            "mark",  # the session list's space (issue 17); left out first when the keys do not fit
            "screen.search", "screen.rename", "screen.delete", "screen.undo", "screen.export", "screen.export_all",
            "screen.copy", "screen.view_session", "screen.sort", "help", "quit", "command_palette",
        ]


async def test_below_70_columns_enter_shows_the_timeline_and_escape_the_list(demo_db, make_app):
    app = make_app(demo_db)
    browser = app.browser
    async with app.run_test(size=(60, 30)) as pilot:
        await settle(pilot)
        assert panes(app) == (True, False) and app.focused is browser.session_list
        assert browser.session_list.region.width == 60
        await pilot.press("j", "enter")
        await wait_for(pilot, lambda: panes(app) == (False, True))
        assert app.focused is browser.timeline and browser.timeline.region.width == 60
        await settle(pilot)
        assert browser.displayed_session_id == browser.session_list.current.id  # the session opened, the second
        assert browser.session_list.highlighted == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: panes(app) == (True, False))
        assert app.focused is browser.session_list and browser.session_list.highlighted == 1
        # Tab goes to the other pane, shown in place of this one, and back.
        await pilot.press("tab")
        await wait_for(pilot, lambda: panes(app) == (False, True) and app.focused is browser.timeline)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: panes(app) == (True, False) and app.focused is browser.session_list)
        # A search shows the list with its box; Enter opens the result in the timeline.
        await pilot.press("slash", *"nginx")
        await settle(pilot)
        assert panes(app) == (True, False) and app.focused is browser.search_bar.input
        await pilot.press("enter")
        await wait_for(pilot, lambda: panes(app) == (False, True) and app.focused is browser.timeline)
        await pilot.press("escape")
        await wait_for(pilot, lambda: panes(app) == (True, False) and app.focused is browser.session_list)
        assert browser.search_bar.display  # the search is still there


async def test_resizing_across_the_widths_works_both_ways(demo_db, make_app):
    app = make_app(demo_db)
    browser = app.browser
    async with app.run_test(size=(150, 36)) as pilot:
        await settle(pilot)
        assert panes(app) == (True, True) and "screen.undo" in footer_keys(app)
        await pilot.press("enter")  # the timeline has the focus: it is the pane kept when narrowed
        await wait_for(pilot, lambda: app.focused is browser.timeline)
        await pilot.resize_terminal(60, 30)
        await wait_for(pilot, lambda: panes(app) == (False, True))
        await wait_for(pilot, lambda: {"help", "quit"} <= footer_keys(app).keys())
        assert_every_key_whole(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: panes(app) == (True, False) and app.focused is browser.session_list)
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: panes(app) == (True, True))
        await wait_for(pilot, lambda: {"help", "quit"} <= footer_keys(app).keys())
        assert "screen.undo" not in footer_keys(app)
        assert_every_key_whole(app)
        await pilot.resize_terminal(150, 36)
        await wait_for(pilot, lambda: "screen.undo" in footer_keys(app))
        assert panes(app) == (True, True) and app.focused is browser.session_list
        assert browser.timeline.region.width > 60
