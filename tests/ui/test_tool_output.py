"""Tool output as the timeline shows it: readable text, failures, folding by rows, the conversation view, the stored form."""

from __future__ import annotations

from uiutil import SIZE, settle


def timeline_text(app) -> str:
    """Every block of the timeline as drawn (each rendered in full), as text."""
    timeline = app.browser.timeline
    lines = []
    for index in range(len(timeline.blocks)):
        lines.extend(strip.text for strip in timeline._strips(index))
    return "\n".join(line.rstrip() for line in lines)


def screen_text(app) -> str:
    timeline = app.browser.timeline
    return "\n".join("".join(s.text for s in timeline.render_line(y)).rstrip() for y in range(timeline.size.height))


def index_of(app, kind: str, name: str | None = None, nth: int = 0) -> int:
    found = [i for i, b in enumerate(app.browser.timeline.blocks)
             if b.kind == kind and (name is None or getattr(b.entry, "call_id", None) == name)]
    return found[nth]


def footer_text(app) -> str:
    from textual.widgets import Footer

    return " ".join(str(key.render()) for key in app.screen.query_one(Footer).query("FooterKey"))


async def test_results_read_as_text_and_trees_not_json(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = timeline_text(tool_app)
        # A string result: its own lines, no quotes or escapes.
        assert 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' in text and "\\n" not in text and '\\"' not in text
        assert "↳ Result of #1 read_file · 4 lines" in text
        # A shell result: labels, its stdout as an indented block with real lines, a summary in the title.
        assert "↳ Result of #2 run_shell_command · exit 0 · 3 lines" in text
        assert "│ stdout:" in text and "│   /dev/nvme0n1p2  468G  402G   43G  91% /" in text
        assert "│ stderr: (empty)" in text
        # The shell command of a call on its own, not as JSON.
        assert "│ df -h / /tmp" in text and '"command"' not in text
        # Turn headers say what they are.
        assert "Turn 1 · 2026-03-14 12:00 · 7 messages" in text and "Turn 2 · 12:00 · 8 messages" in text
        # The system prompt is a System block showing its text.
        assert "◆ System" in text and "│ Use tools when you need to." in text


async def test_failures_are_marked_on_the_result_and_its_call(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = timeline_text(tool_app)
        assert "✗ Result of #3 run_shell_command · failed · exit 1" in text
        assert "✗ Result of #4 read_file · error" in text
        assert "⚙ Tool call #3 run_shell_command ✗ failed · exit 1" in text
        assert "⚙ Tool call #4 read_file ✗ error" in text
        assert "⚙ Tool call #2 run_shell_command ✓" in text
        timeline = tool_app.browser.timeline
        failed = timeline.blocks[index_of(tool_app, "tool_result", "c3")]
        theme = timeline._theme()
        title = failed.render(theme, timeline._look(index_of(tool_app, "tool_result", "c3"))).title
        assert theme.error in str(title.spans[0].style) and theme.error in str(title.spans[-1].style)
        assert theme.error not in str(timeline.blocks[index_of(tool_app, "tool_result", "c2")].render(theme, timeline._look(0)).title.spans[0].style)


async def test_long_results_fold_by_drawn_rows_and_short_ones_do_not(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = tool_app.browser.timeline
        seq = index_of(tool_app, "tool_result", "c5")
        df = index_of(tool_app, "tool_result", "c2")
        assert timeline.can_expand(seq) and not timeline.can_expand(df)
        folded = "\n".join(strip.text for strip in timeline._strips(seq))
        assert "▼ 2,993 more lines · enter to expand" in folded  # 3,000 numbers + 3 labels, 10 rows shown
        assert len(timeline._strips(seq)) == 10 + 3
        timeline.focus()
        timeline.cursor = seq
        await pilot.press("enter")
        await settle(pilot)
        assert seq in timeline.expanded
        unfolded = "\n".join(strip.text for strip in timeline._strips(seq))
        assert "┃   1998" in unfolded and "▲ 3,003 lines · enter to collapse" in unfolded
        assert "… 1,003 more lines not drawn here · e exports the whole session" in unfolded  # the size limit


async def test_expand_is_offered_only_on_blocks_that_can_expand(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = tool_app.browser.timeline
        timeline.focus()
        timeline.cursor = index_of(tool_app, "tool_result", "c2")
        await settle(pilot)
        assert "Expand" not in footer_text(tool_app)
        timeline.cursor = index_of(tool_app, "tool_result", "c5")
        await settle(pilot)
        assert "Expand" in footer_text(tool_app)


async def test_conversation_view_puts_each_call_and_result_on_one_line(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = tool_app.browser.timeline
        timeline.focus()
        await settle(pilot)
        assert "Conversation view" in footer_text(tool_app)
        await pilot.press("t")
        await settle(pilot)
        assert timeline.conversation_view
        text = timeline_text(tool_app)
        assert "  ⚙ run_shell_command  df -h / /tmp  → exit 0 · 3 lines" in text
        assert "  ⚙ run_shell_command  journalctl -p err -n 5 --n…  → ✗ failed · exit 1" in text  # the command gives way
        assert "    ↳ ✗ failed · exit 1  Failed to open journal: Permission denied" in text
        assert "    ↳ PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"" in text
        for kind in ("tool_call", "tool_result"):
            for index, block in enumerate(timeline.blocks):
                if block.kind == kind:
                    assert len(timeline._strips(index)) == 1
        # Kept while the app runs: another session opens in the same view.
        tool_app.browser.session_list.focus()
        await pilot.press("down")
        await settle(pilot)
        await pilot.press("up")
        await settle(pilot)
        assert timeline.conversation_view and "⚙ run_shell_command  df -h / /tmp" in timeline_text(tool_app)
        timeline.focus()
        await pilot.press("t")
        await settle(pilot)
        assert not timeline.conversation_view and "⚙ Tool call #2 run_shell_command" in timeline_text(tool_app)


async def test_the_stored_form_of_a_block_is_one_key_away(tool_app):
    async with tool_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = tool_app.browser.timeline
        timeline.focus()
        target = index_of(tool_app, "tool_result", "c1")
        timeline.cursor = target
        await settle(pilot)
        await pilot.press("J")
        await settle(pilot)
        stored = "\n".join(strip.text for strip in timeline._strips(target))
        assert '"PRETTY_NAME=\\"Debian GNU/Linux 12 (bookworm)\\"\\nNAME=' in stored and "· stored" in stored
        await pilot.press("J")
        await settle(pilot)
        readable = "\n".join(strip.text for strip in timeline._strips(target))
        assert "\\n" not in readable and "· stored" not in readable
