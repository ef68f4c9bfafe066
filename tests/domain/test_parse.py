"""Stored rows to typed timeline entries: every kind, every malformed shape, never an exception."""

from __future__ import annotations

import json
from typing import Any

from eventutil import Row, T, call
from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.data.types import BrokenValue
from dasshh_history.domain.entries import AssistantReply, RawEntry, ToolCall, ToolResult, UserMessage
from dasshh_history.domain.parse import build_timeline, entries_from_event


def one(content: Any):
    (entry,) = entries_from_event(Row(content))
    return entry


def test_user_message():
    entry = one({"role": "user", "content": "Hello\nthere"})
    assert isinstance(entry, UserMessage)
    assert entry.text == "Hello\nthere"
    assert (entry.event_id, entry.invocation_id, entry.created_at) == ("e", "inv", T)


def test_assistant_reply():
    entry = one({"role": "assistant", "content": "**bold** reply"})
    assert isinstance(entry, AssistantReply) and entry.text == "**bold** reply"


def test_assistant_message_with_calls_and_text_gives_both():
    entries = entries_from_event(Row({
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [call("c1", "df", '{"path": "/"}'), call("c2", "ls", "{}")],
    }))
    assert [type(e) for e in entries] == [AssistantReply, ToolCall, ToolCall]
    assert [e.call_id for e in entries[1:]] == ["c1", "c2"]
    assert entries[1].arguments == {"path": "/"} and entries[1].arguments_valid
    assert entries[1].pretty == '{\n  "path": "/"\n}'


def test_cut_off_arguments_are_kept_raw_and_marked():
    entry = one({"role": "assistant", "content": None, "tool_calls": [call("c", "read_file", '{"path": "/etc/ngi')]})
    assert isinstance(entry, ToolCall)
    assert not entry.arguments_valid and entry.arguments is None
    assert entry.arguments_raw == entry.pretty == '{"path": "/etc/ngi'
    assert "not valid JSON" in entry.problem


def test_empty_arguments_are_marked():
    entry = one({"role": "assistant", "tool_calls": [call("c", "read_file", "")]})
    assert not entry.arguments_valid and entry.problem == "empty arguments" and entry.arguments_raw == ""


def test_dict_arguments_are_accepted():
    entry = one({"role": "assistant", "tool_calls": [call("c", "f", {"a": 1})]})
    assert entry.arguments_valid and entry.arguments == {"a": 1}


def test_malformed_tool_calls():
    no_function = one({"role": "assistant", "tool_calls": [{"id": "c"}]})
    assert isinstance(no_function, ToolCall) and no_function.problem == "tool call has no function"
    not_a_list = one({"role": "assistant", "tool_calls": {"id": "c", "function": {"name": "f", "arguments": "{}"}}})
    assert isinstance(not_a_list, ToolCall) and not_a_list.name == "f" and not_a_list.arguments_valid
    not_a_dict = one({"role": "assistant", "tool_calls": ["junk"]})
    assert isinstance(not_a_dict, ToolCall) and not not_a_dict.arguments_valid


def test_tool_result_with_indented_json_string():
    body = json.dumps({"exit_code": 0, "stdout": "ok"}, indent=2)
    entry = one({"role": "tool", "tool_call_id": "c1", "name": "run", "content": body})
    assert isinstance(entry, ToolResult)
    assert entry.is_json and entry.parsed == {"exit_code": 0, "stdout": "ok"}
    assert (entry.call_id, entry.name, entry.content_raw) == ("c1", "run", body)
    assert entry.line_count == 4


def test_tool_result_plain_text_and_dict():
    text = one({"role": "tool", "tool_call_id": "c", "content": "plain output"})
    assert not text.is_json and text.pretty == "plain output"
    scalar = one({"role": "tool", "tool_call_id": "c", "content": "42"})
    assert not scalar.is_json  # a bare JSON scalar reads better as text
    as_dict = one({"role": "tool", "tool_call_id": "c", "content": {"a": [1, 2]}})
    assert as_dict.is_json and as_dict.parsed == {"a": [1, 2]}


def test_system_unknown_and_missing_roles_are_raw():
    system = one({"role": "system", "content": "be nice"})
    assert isinstance(system, RawEntry) and system.role == "system" and system.reason == "system message"
    assert "be nice" in system.raw
    unknown = one({"role": "narrator", "content": "x"})
    assert isinstance(unknown, RawEntry) and unknown.reason == "unknown role"
    missing = one({"content": "x"})
    assert isinstance(missing, RawEntry) and missing.reason == "no role"


def test_non_message_contents_are_raw():
    for content, raw in ((None, "null"), ("a string", "a string"), (42, "42"), ([1, 2], "1\n2")):
        entry = one(content)
        assert isinstance(entry, RawEntry), content
        assert entry.raw == raw


def test_undecodable_row_is_marked_with_its_raw_text():
    entry = one(BrokenValue(raw='{"role": "us', error="not valid JSON: x"))
    assert isinstance(entry, RawEntry)
    assert entry.raw == '{"role": "us' and entry.reason.startswith("undecodable row")


def test_multimodal_user_content():
    entry = one({"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {}}]})
    assert isinstance(entry, UserMessage) and entry.text == "look\n[image_url]"


def test_deeply_nested_content_does_not_raise():
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    (entry,) = entries_from_event(Row({"role": "user", "content": deep}))
    assert isinstance(entry, UserMessage)
    entry = one({"role": "tool", "tool_call_id": "c", "content": "[" * 5000 + "]" * 5000})
    assert isinstance(entry, ToolResult) and not entry.is_json


def test_timeline_groups_by_invocation_and_links_results_to_calls():
    rows = [
        Row({"role": "user", "content": "q1"}, id="1", invocation_id="a"),
        Row({"role": "assistant", "tool_calls": [call("c1", "f", "{}"), call("c2", "g", "{}")]}, id="2",
            invocation_id="a"),
        Row({"role": "tool", "tool_call_id": "c2", "content": "{}"}, id="3", invocation_id="a"),
        Row({"role": "tool", "tool_call_id": "c1", "content": "{}"}, id="4", invocation_id="a"),
        Row({"role": "tool", "tool_call_id": "ghost", "content": "{}"}, id="5", invocation_id="a"),
        Row({"role": "assistant", "content": "done"}, id="6", invocation_id="a"),
        Row({"role": "user", "content": "q2"}, id="7", invocation_id="b", created_at=None),
        Row({"role": "assistant", "content": "a2"}, id="8", invocation_id="b", created_at=T),
    ]
    first, second = build_timeline(rows)
    assert first.invocation_id == "a" and first.started_at == T
    assert [type(e).__name__ for e in first.entries] == [
        "UserMessage", "ToolCall", "ToolCall", "ToolResult", "ToolResult", "ToolResult", "AssistantReply"
    ]
    results = first.entries[3:6]
    assert [r.call_index for r in results] == [2, 1, None]  # c2, c1, orphan
    assert second.invocation_id == "b" and second.started_at == T  # first known time
    assert [e.event_id for e in second.entries] == ["7", "8"]


def test_timeline_keeps_stored_order_when_an_invocation_recurs():
    rows = [Row({"role": "user", "content": n}, id=str(n), invocation_id=inv) for n, inv in enumerate("aab")]
    rows.append(Row({"role": "user", "content": "again"}, id="x", invocation_id="a"))
    assert [i.invocation_id for i in build_timeline(rows)] == ["a", "b", "a"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "tool", "system", "other", 3, None])},
    optional={
        "content": json_values,
        "tool_calls": json_values | st.lists(st.fixed_dictionaries({}, optional={
            "id": json_values, "function": st.fixed_dictionaries({}, optional={
                "name": json_values, "arguments": json_values | st.text()})})),
        "tool_call_id": json_values,
        "name": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(messages | json_values, max_size=8))
def test_any_content_gives_entries_and_never_raises(contents):
    rows = [Row(c, id=str(n), invocation_id=str(n % 3)) for n, c in enumerate(contents)]
    timeline = build_timeline(rows)
    entries = [e for inv in timeline for e in inv.entries]
    assert {e.event_id for e in entries} == {r.id for r in rows}  # every row is shown
    for entry in entries:
        text_field = getattr(entry, "text", "")
        assert isinstance(text_field, str) or (isinstance(entry, RawEntry) and text_field is None)
        for text in (getattr(entry, "raw", ""), getattr(entry, "pretty", "")):
            assert isinstance(text, str)


def _demo_rows() -> list[Row]:
    """A session of several invocations with calls whose results come later."""
    rows = []
    for q in range(6):
        inv = f"inv{q}"
        rows += [
            Row({"role": "user", "content": f"question {q}"}, id=f"u{q}", invocation_id=inv),
            Row({"role": "assistant", "tool_calls": [call(f"c{q}", "run", '{"n": 1}')]}, id=f"a{q}", invocation_id=inv),
            Row({"role": "tool", "tool_call_id": f"c{q}", "name": "run", "content": '{"ok": true}'}, id=f"t{q}",
                invocation_id=inv),
            Row({"role": "tool", "tool_call_id": f"c{max(q - 1, 0)}", "name": "run", "content": "late"}, id=f"l{q}",
                invocation_id=inv),
            Row({"role": "assistant", "content": f"answer {q}"}, id=f"r{q}", invocation_id=inv),
        ]
    return rows


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=6))
def test_batches_build_the_same_timeline_as_one_pass(cuts):
    from dasshh_history.domain.parse import TimelineBuilder

    rows = _demo_rows()
    points = sorted({0, len(rows), *(c % (len(rows) + 1) for c in cuts)})
    builder = TimelineBuilder()
    built = []
    for start, end in zip(points, points[1:]):
        built += builder.add(rows[start:end])
    built += builder.finish()
    assert built == build_timeline(rows)
    assert len(built) == 6
    # A result that answers a call of an earlier batch is still tied to it.
    late = [e for inv in built for e in inv.entries if isinstance(e, ToolResult) and e.content_raw == "late"]
    assert all(e.call_index is not None for e in late)
