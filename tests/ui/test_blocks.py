"""Blocks apart from the app: colours per kind, turn headers in local time, calls learning their outcome across batches."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.widgets.block_theme import _distance, block_theme
from dasshh_history.widgets.blocks import BlockBuilder, Look


class Row:
    def __init__(self, id: str, invocation_id: str, created_at: datetime, content: dict) -> None:
        self.id, self.invocation_id, self.created_at, self.content = id, invocation_id, created_at, content


@pytest.mark.parametrize("name", ["textual-dark", "textual-light"])
def test_every_kind_has_its_own_colour_readable_on_the_background(name: str):
    theme = BUILTIN_THEMES[name]
    variables = theme.to_color_system().generate()
    background = Color.parse(variables["background"])
    colours = block_theme(variables, dark=theme.dark, background=background)
    kinds = {"user": colours.user, "assistant": colours.assistant, "call": colours.tool,
             "result": colours.result, "failure": colours.error, "system": colours.system}
    parsed = {kind: Color.parse(value) for kind, value in kinds.items()}
    for a in parsed:
        assert _distance(parsed[a], background) >= 30, a
        for b in parsed:
            if a < b:
                assert _distance(parsed[a], parsed[b]) >= 25, (a, b)
    assert colours.result != colours.user and colours.result != colours.tool  # the collisions users saw


def test_turn_headers_number_turns_and_give_the_date_when_the_local_day_changes():
    # 22:30 and 23:10 UTC on the 14th are the 15th in Kolkata (UTC+5:30): one local day, a new one from the first.
    kolkata = ZoneInfo("Asia/Kolkata")
    rows = [
        Row("e1", "i1", datetime(2026, 3, 14, 18, 0), {"role": "user", "content": "a"}),
        Row("e2", "i2", datetime(2026, 3, 14, 22, 30), {"role": "user", "content": "b"}),
        Row("e3", "i2", datetime(2026, 3, 14, 22, 30), {"role": "assistant", "content": "c"}),
        Row("e4", "i3", datetime(2026, 3, 14, 23, 10), {"role": "user", "content": "d"}),
    ]
    timeline = TimelineBuilder()
    blocks = BlockBuilder(kolkata).add(timeline.add(rows) + timeline.finish())
    labels = [block.label.strip() for block in blocks if block.kind == "header"]
    assert labels == [
        "Turn 1 · 2026-03-14 23:30 · 1 message",
        "Turn 2 · 2026-03-15 04:00 · 2 messages",
        "Turn 3 · 04:40 · 1 message",
    ]
    blocks = BlockBuilder(ZoneInfo("UTC")).add(TimelineBuilder().add(rows[:2]) + [])
    assert [b.label.strip() for b in blocks if b.kind == "header"] == ["Turn 1 · 2026-03-14 18:00 · 1 message"]


def test_a_call_learns_its_result_failed_when_the_result_comes_in_a_later_batch():
    at = datetime(2026, 3, 14, 12, 0)
    call = {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "index": 0,
         "function": {"name": "run_shell_command", "arguments": json.dumps({"command": "false"})}}]}
    result = {"role": "tool", "tool_call_id": "c1", "name": "run_shell_command",
              "content": json.dumps({"exit_code": 1, "stdout": "", "stderr": "boom"}, indent=2)}
    timeline, builder = TimelineBuilder(), BlockBuilder(ZoneInfo("UTC"))
    first = builder.add(timeline.add([Row("e1", "i1", at, call)]))  # the invocation stays open: nothing yet
    rest = builder.add(timeline.add([Row("e2", "i1", at, result)]) + timeline.finish())
    blocks = first + rest
    call_block = next(b for b in blocks if b.kind == "tool_call")
    result_block = next(b for b in blocks if b.kind == "tool_result")
    assert call_block.result is result_block and call_block.revision == 1
    assert result_block.failure == "failed · exit 1"

    # Across batches for real: the call is built (and drawn) before its result is read.
    timeline, builder = TimelineBuilder(), BlockBuilder(ZoneInfo("UTC"))
    early = builder.add(timeline.add([Row("e1", "i1", at, call), Row("x", "i0", at, {"role": "user", "content": "n"})]))
    call_block = next(b for b in early if b.kind == "tool_call")
    assert call_block.result is None and call_block.revision == 0
    late_result = dict(result, tool_call_id="c1")
    builder.add(timeline.add([Row("e2", "i0", at, late_result)]) + timeline.finish())
    assert call_block.revision == 1 and call_block.result is not None
    assert "✗ failed · exit 1" in call_block.render(
        block_theme({}, dark=True, background=Color.parse("#000000")), Look(80)).title.plain


def test_long_lines_wrap_under_their_indentation_and_count_their_rows():
    from rich.console import Console

    from dasshh_history.domain.readable import readable_lines
    from dasshh_history.widgets.readable_view import LineStyles, lines_text, rows_of

    value = {"stdout": "short\n" + "word " * 30, "items": ["item " * 20]}
    lines = readable_lines(value)
    console = Console(width=40, color_system=None, record=True, file=__import__("io").StringIO())
    console.print(lines_text(lines, LineStyles("bold", "", "cyan", "italic"), usable=40))
    drawn = console.export_text().splitlines()
    assert drawn[:2] == ["stdout:", "  short"]
    stdout_rows = [row for row in drawn[2:] if not row.startswith("items")][: rows_of(lines[2], 40)]
    assert stdout_rows[0].startswith("  word") and all(row.startswith("  word") for row in stdout_rows)
    items = drawn[drawn.index("items:") + 1:]
    assert items[0].startswith("  - item") and all(row.startswith("    item") for row in items[1:])
    # Counted by cells, so words carried to the next row can add one row to a wrapped line, not more.
    wrapped = [line for line in lines if rows_of(line, 40) > 1]
    assert 0 <= len(drawn) - sum(rows_of(line, 40) for line in lines) <= len(wrapped)
