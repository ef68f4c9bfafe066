"""Any content stored in the events table: rendered safely, copied and paged as plain text, given back by the JSON export.

Property-based: hypothesis writes arbitrary contents into a real database the
way dasshh (or a buggy writer) would, then reads them through the same path as
the app (batches -> timeline entries -> blocks -> Rich rendering).
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.services import exporting
from dasshh_history.widgets.blocks import BlockBuilder, BlockTheme, Look

THEME = BlockTheme(user="blue", assistant="green", tool="yellow", result="cyan", raw="red", error="red",
                   accent="magenta", muted="grey50", dark=True)
#: Every way a block can be drawn: folded, unfolded, selected, stored form, conversation view.
LOOKS = [Look(60), Look(60, expanded=True), Look(60, selected=True), Look(60, raw=True), Look(60, compact=True)]
# Terminal controls, bidi overrides and zero-width characters: never in what is drawn.
FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

hostile_text = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
    | st.sampled_from(["\x1b[31m", "\x1b]0;t\x07", "[b]", "[/]", "[@click=app.quit]", "\r\n", "\u202e", "\x00"]),
    max_size=5,
).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | hostile_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(hostile_text, children, max_size=3),
    max_leaves=12,
)
arguments = json_values.map(json.dumps) | hostile_text | json_values
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system", None, 7])},
    optional={
        "content": json_values,
        "tool_calls": st.lists(st.fixed_dictionaries({"id": hostile_text}, optional={
            "type": st.just("function"), "index": st.integers(0, 3),
            "function": st.fixed_dictionaries({}, optional={"name": json_values, "arguments": arguments}),
        }), max_size=3) | json_values,
        "tool_call_id": hostile_text,
        "name": json_values,
    },
)
# The content column: what dasshh writes (a JSON message), any JSON, or text that is not JSON at all.
stored = messages.map(json.dumps) | json_values.map(json.dumps) | hostile_text


def write_history(path: Path, contents: list[str], title: str = "t") -> None:
    DBClient(db_path=path).dispose()  # the documented schema
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sessions VALUES ('s', ?, '2026-03-01 10:00:00', '2026-03-01 10:00:00')", (title,))
        conn.executemany(
            "INSERT INTO events VALUES (?, 'inv', 's', '2026-03-01 10:00:00', ?)",
            [(f"e{n}", content) for n, content in enumerate(contents)],
        )


def read_blocks(client: DBClient) -> list:
    """The session's blocks, read as the app reads them: in batches, through the timeline builders."""
    timeline, builder, blocks = TimelineBuilder(), BlockBuilder(None), []
    for batch in HistoryReader(client).iter_event_batches(session_id="s", first=3, size=3):
        blocks += builder.add(timeline.add(batch))
    return blocks + builder.add(timeline.finish())


def rendered(renderable) -> str:
    console = Console(file=io.StringIO(), width=60, color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stored, min_size=1, max_size=8), hostile_text)
def test_any_stored_content_renders_safely_and_exports_as_stored(contents: list[str], title: str):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.db"
        write_history(path, contents, title)
        client = DBClient(db_path=path)
        try:
            blocks = read_blocks(client)
            # Every row is shown (one block or more), in stored order.
            shown = [block.entry.event_id for block in blocks if hasattr(block, "entry")]
            assert list(dict.fromkeys(shown)) == [f"e{n}" for n in range(len(contents))]
            for block in blocks:
                for look in LOOKS:
                    text = rendered(block.render(THEME, look))
                    assert not FORBIDDEN.search(text), (block, look, text)
                # What y copies and v pages: the text, no control sequence (the pager is less -R).
                copied = block.copy_text
                assert copied is not None if hasattr(block, "entry") else copied is None
                assert not FORBIDDEN.search(copied or ""), (block, copied)
            markdown = exporting.export_session(client, "s", "md")  # what V pages
            assert not FORBIDDEN.search(markdown), markdown
            exported = json.loads(exporting.export_session(client, "s", "json"))
        finally:
            client.dispose()
    assert exported["detail"] == title
    for content, event in zip(contents, exported["events"], strict=True):
        try:
            assert event["content"] == json.loads(content)
        except ValueError:
            assert event["content_raw"] == content and event["content_error"]


def test_huge_texts_are_cut_where_drawn_with_a_note_and_exported_whole(tmp_path: Path):
    from dasshh_history.widgets.readable_view import EXPANDED_LINES, SHOWN_CHARS

    big_line = "x" * 1_000_000
    many_lines = "\n".join(f"line {n}" for n in range(100_000))
    path = tmp_path / "huge.db"
    write_history(path, [
        json.dumps({"role": "user", "content": big_line}),
        json.dumps({"role": "tool", "tool_call_id": "c", "name": "run", "content": many_lines}),
        json.dumps({"role": "assistant", "content": big_line}),
    ])
    client = DBClient(db_path=path)
    try:
        user, result, reply = [block for block in read_blocks(client) if hasattr(block, "entry")]
        drawn = rendered(user.render(THEME, Look(60)))
        assert drawn.split("…")[0].count("x") == SHOWN_CHARS  # before the note
        assert "… 900,000 more characters not drawn here · e exports" in drawn
        assert "900,000 more characters not drawn" in rendered(reply.render(THEME, Look(60)))
        drawn = rendered(result.render(THEME, Look(60, expanded=True)))
        assert f"line {EXPANDED_LINES - 1}" in drawn and f"line {EXPANDED_LINES}\n" not in drawn
        assert f"{100_000 - EXPANDED_LINES:,} more lines not drawn here" in drawn
        exported = json.loads(exporting.export_session(client, "s", "json"))
        assert [len(str(event["content"].get("content"))) for event in exported["events"]] == [
            len(big_line), len(many_lines), len(big_line)]
    finally:
        client.dispose()
