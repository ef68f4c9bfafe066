"""Moving in the timeline: [ and ] between the user's questions, n and N counting the matches and saying when they wrap."""

from __future__ import annotations

from uiutil import SIZE, said, settle, wait_for


def selected_text(app) -> str:
    block = app.browser.timeline.blocks[app.browser.timeline.cursor]
    return getattr(block.entry, "text", None) or getattr(block.entry, "call_id", "")


async def test_brackets_go_between_the_users_questions(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = tool_app.browser.timeline
        timeline.focus()
        await settle(pilot)
        assert timeline.blocks[timeline.cursor].kind == "system"
        await pilot.press("right_square_bracket")
        assert selected_text(tool_app) == "What is this machine, and how full is its disk?"
        await pilot.press("right_square_bracket")
        assert selected_text(tool_app) == "And the logs?"
        top, _ = timeline.block_region(timeline.cursor)
        assert timeline.scroll_y == top  # the question at the top of the view
        await pilot.press("right_square_bracket")  # no later question: it stays
        assert selected_text(tool_app) == "And the logs?"
        await pilot.press("end", "left_square_bracket")
        assert selected_text(tool_app) == "And the logs?"
        await pilot.press("left_square_bracket")
        assert selected_text(tool_app) == "What is this machine, and how full is its disk?"


async def test_n_and_N_say_which_match_of_how_many_and_when_they_wrap(tool_app):
    # run_shell_command is the name of calls c2, c3, c5 and of their results: six blocks, in this order.
    expected = ["c2", "c2", "c3", "c3", "c5", "c5"]
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"run_shell_command", "enter")
        await settle(pilot)
        timeline = tool_app.browser.timeline
        await wait_for(pilot, lambda: timeline.cursor >= 0 and timeline.is_match(timeline.cursor))
        assert selected_text(tool_app) == "c2"  # the search opened the session at its first match
        tool_app.clear_notifications()
        steps = []
        for _ in range(6):
            await pilot.press("n")
            await settle(pilot)
            steps.append((selected_text(tool_app), said(tool_app)[-1]))
        assert steps == [
            ("c2", "Match 2 of 6"), ("c3", "Match 3 of 6"), ("c3", "Match 4 of 6"),
            ("c5", "Match 5 of 6"), ("c5", "Match 6 of 6"), ("c2", "Match 1 of 6 · wrapped to the first"),
        ]
        assert [block.entry.call_id for block in timeline.blocks if timeline.is_match(timeline.blocks.index(block))] \
            == expected
        await pilot.press("N")
        await settle(pilot)
        assert (selected_text(tool_app), said(tool_app)[-1]) == ("c5", "Match 6 of 6 · wrapped to the last")
        await pilot.press("N")
        await settle(pilot)
        assert said(tool_app)[-1] == "Match 5 of 6"
