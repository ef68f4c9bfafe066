"""Our own JSON nesting limit: the same answer on every Python, at and around the limit.

Python's ``json`` stops at a depth that depends on the interpreter (about 1,000
levels on 3.11, 1,500 on 3.12, 10,000 on 3.13); MAX_JSON_DEPTH decides
instead, and reading, the timeline, search text and both exports agree on it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.data.search import searchable_text
from dasshh_history.data.types import BrokenValue, _decode_json
from dasshh_history.domain.entries import RawEntry, ToolCall, ToolResult, UserMessage, pretty_json
from dasshh_history.domain.export import event_json
from dasshh_history.domain.jsondepth import (
    MAX_JSON_DEPTH,
    TooDeepError,
    is_json,
    loads,
    nests_deeper_than,
    text_depth,
    value_nests_deeper_than,
)
from dasshh_history.domain.parse import build_timeline, entries_from_event
from dasshh_history.services import exporting

L = MAX_JSON_DEPTH
AROUND = [L - 1, L, L + 1]
REASON = f"nested deeper than {L:,} levels"


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"k": ' * depth + "1" + "}" * depth


def mixed(depth: int) -> str:
    """Objects and arrays in turn, with siblings, whitespace and brackets inside strings."""
    text = '"]]]{{{ \\" [[["'
    for level in range(depth):
        sibling = "[1, \"}\"]" if level else "2"  # a container beside the innermost level would be one deeper
        text = f'{{"a\\"[": {text}, "b": {sibling}}}' if level % 2 else f'[ "[[", {text}, {sibling} ]'
    return text


def value(depth: int) -> object:
    nested: object = "x"
    for _ in range(depth):
        nested = [nested]
    return nested


def test_the_limit_is_far_below_what_the_interpreter_can_decode_and_write():
    # Half as deep again still decodes, dumps, indents and reprs here, whatever the version.
    deeper = L + L // 2
    decoded = json.loads(arrays(deeper))
    json.dumps(decoded, indent=2)
    repr(decoded)


@pytest.mark.parametrize("make", [arrays, objects, mixed])
@pytest.mark.parametrize("depth", AROUND)
def test_loads_takes_json_up_to_the_limit_and_refuses_deeper(make, depth: int):
    text = make(depth)
    assert text_depth(text) == depth
    assert nests_deeper_than(text) is (depth > L)
    assert is_json(text) is (depth <= L)
    if depth <= L:
        assert loads(text) == json.loads(text)
        assert not value_nests_deeper_than(loads(text))
    else:
        with pytest.raises(TooDeepError, match=REASON):
            loads(text)
        assert value_nests_deeper_than(json.loads(text))  # this deep, every supported version decodes it


@pytest.mark.parametrize("depth", [L + 2, 5_000, 20_000, 200_000])
def test_far_too_deep_is_refused_the_same_way_never_with_a_recursion_error(depth: int):
    # 5,000 levels: RecursionError in 3.11's json, a value in 3.13's; 200,000: RecursionError everywhere.
    for text in (arrays(depth), objects(depth), "[" * depth, '{"a":' * depth + "?"):
        with pytest.raises(TooDeepError, match=REASON):
            loads(text)


@pytest.mark.parametrize("depth", AROUND)
def test_invalid_json_is_too_deep_when_it_nests_deeper_before_it_breaks(depth: int):
    for text in ("[" * depth, "[" * depth + "x", '{"a": ' * depth + "tru"):
        with pytest.raises(TooDeepError if depth > L else json.JSONDecodeError):
            loads(text)
    with pytest.raises(json.JSONDecodeError):  # broken at the first character: depth never matters
        loads("x" + arrays(depth))


def test_brackets_inside_strings_do_not_count():
    inside = json.dumps(["[" * 10_000 + "{" * 10_000, "\\\"[[[", "]" * 10_000])
    assert text_depth(inside) == 1 and loads(inside) == json.loads(inside)
    assert text_depth('"' + '\\"' * 1_000 + "[[[") == 0  # an open string runs to the end
    assert text_depth("[] [[") == 2 and text_depth("[]]]") == 1


@pytest.mark.parametrize("depth", AROUND)
def test_value_depth_counts_dicts_lists_and_tuples(depth: int):
    assert value_nests_deeper_than(value(depth)) is (depth > L)
    nested: object = {}
    for level in range(depth - 1):
        nested = (nested,) if level % 3 == 0 else ({"k": nested, "n": 1} if level % 3 == 1 else [1, nested, "s"])
    assert value_nests_deeper_than(nested) is (depth > L)
    assert not value_nests_deeper_than("[[[[") and not value_nests_deeper_than(None)


@pytest.mark.parametrize("depth", AROUND)
def test_stored_text_at_the_limit_is_json_everywhere_and_deeper_is_text_everywhere(depth: int):
    stored = arrays(depth)
    decoded = _decode_json(stored)
    if depth <= L:
        assert decoded == json.loads(stored)
        assert searchable_text(stored) == ""  # no words in brackets alone
    else:
        assert decoded == BrokenValue(raw=stored, error=f"JSON {REASON}")
        assert searchable_text(stored) == stored  # searched as the text it is
    (entry,) = entries_from_event(_Row(decoded))
    assert isinstance(entry, RawEntry)  # a list is no message either way
    assert entry.reason == ("content is list, not a message" if depth <= L else f"undecodable row: JSON {REASON}")
    record = json.loads(event_json(_Row(decoded), "s"))
    if depth <= L:
        assert record["content"] == json.loads(stored) and "content_error" not in record
    else:
        assert record["content"] is None and record["content_raw"] == stored
        assert record["content_error"] == f"JSON {REASON}"


@pytest.mark.parametrize("depth", AROUND)
def test_json_inside_a_result_or_arguments_is_json_up_to_the_limit(depth: int):
    inner = objects(depth)
    (result,) = entries_from_event(_Row({"role": "tool", "tool_call_id": "c", "content": inner}))
    (call,) = entries_from_event(_Row({"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": inner}}]}))
    assert isinstance(result, ToolResult) and isinstance(call, ToolCall)
    assert result.is_json is call.arguments_valid is (depth <= L)
    if depth <= L:
        assert result.parsed == json.loads(inner) and call.arguments == json.loads(inner)
        assert json.loads(result.pretty) == json.loads(inner)
    else:
        assert result.pretty == inner and call.pretty == inner  # shown as stored
        assert call.problem == f"arguments are {REASON}"
    stored = json.dumps({"role": "tool", "content": inner})
    assert (inner in searchable_text(stored).split("\n")) is (depth > L)  # indexed as text only when too deep


@pytest.mark.parametrize("depth", AROUND)
def test_values_handed_in_deeper_than_the_limit_are_not_shown_or_exported(depth: int):
    # Not from storage (nothing read from it is this deep): the limit still decides, not the interpreter.
    shown = pretty_json(value(depth))
    assert (shown == f"<list nested more than {L:,} levels deep>") is (depth > L)
    record = json.loads(event_json(_Row(value(depth)), "s"))
    assert (record["content"] == value(depth)) is (depth <= L)
    assert (record.get("content_error") == "content cannot be exported (nested too deeply)") is (depth > L)
    (entry,) = entries_from_event(_Row({"role": "user", "content": value(5_000)}))
    assert isinstance(entry, UserMessage) and entry.text == f"<list nested more than {L:,} levels deep>"


class _Row:
    def __init__(self, content: object) -> None:
        self.id, self.invocation_id, self.session_id, self.created_at, self.content = "e", "inv", "s", None, content


def test_a_history_reads_searches_and_exports_the_same_rows_as_json(tmp_path: Path):
    """Through the app's own read path: rows just inside the limit are JSON, rows just beyond it text."""
    rows = {
        "at": json.dumps({"role": "user", "content": "at", "deep": value(L - 1)}),  # the message is one level more
        "beyond": json.dumps({"role": "user", "content": "beyond", "deep": value(L)}),
        "result-at": json.dumps({"role": "tool", "tool_call_id": "c", "content": arrays(L)}),
        "result-beyond": json.dumps({"role": "tool", "tool_call_id": "c", "content": arrays(L + 1)}),
    }
    path = tmp_path / "history.db"
    DBClient(db_path=path).dispose()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sessions VALUES ('s', 't', '2026-03-01 10:00:00', '2026-03-01 10:00:00')")
        conn.executemany("INSERT INTO events VALUES (?, 'inv', 's', '2026-03-01 10:00:00', ?)", rows.items())
    conn.close()
    client = DBClient(db_path=path)
    try:
        exported = {e["id"]: e for e in json.loads(exporting.export_session(client, "s", "json"))["events"]}
        markdown = exporting.export_session(client, "s", "md")
        events = [row for batch in HistoryReader(client).iter_event_batches(session_id="s") for row in batch]
    finally:
        client.dispose()
    assert exported["at"]["content"] == json.loads(rows["at"])
    assert exported["beyond"]["content_raw"] == rows["beyond"]
    assert exported["beyond"]["content_error"] == f"JSON {REASON}"
    assert exported["result-beyond"]["content"] == json.loads(rows["result-beyond"])  # the row is JSON, its text is not
    entries = {entry.event_id: entry for inv in build_timeline(events) for entry in inv.entries}
    assert isinstance(entries["at"], UserMessage)
    assert isinstance(entries["beyond"], RawEntry) and entries["beyond"].raw == rows["beyond"]
    assert entries["result-at"].is_json and not entries["result-beyond"].is_json
    assert "beyond" in searchable_text(rows["beyond"]) and rows["beyond"] in searchable_text(rows["beyond"])
    assert searchable_text(rows["at"]) == "at\nx"
    assert f"undecodable row: JSON {REASON}" in markdown


# ``loads`` skips json.loads' layers of Python (it scans between JSON's whitespace itself): the same value, or a
# ValueError where json.loads raises one, for every text.
_JSONISH = st.text(alphabet=st.sampled_from(list(' \t\n\r\x0c\ufeff{}[]:,"\\-+.0123456789eEtrufalsnNIy\u00e9x')),
                   max_size=40)


@settings(max_examples=600, deadline=None)
@given(st.one_of(_JSONISH, st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
).map(lambda value: json.dumps(value, indent=2)), st.sampled_from([
    " 1 ", "1 2", "\ufeff1", "[1,]", '{"a":1}  \n', "NaN", "-Infinity", " \x0c1", "", "  ", '"\\ud800"', "01",
])))
def test_loads_reads_as_json_loads_does(text: str):
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            loads(text)
        return
    got = loads(text)
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert type(got) is type(expected)
