"""The readable form of tool arguments and results: every shape dasshh writes, and hostile ones."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.domain.entries import ToolResult
from dasshh_history.domain.readable import (
    call_preview,
    first_line,
    plain_text,
    readable_lines,
    shell_command,
    summary,
)


def stored_result(value: object) -> ToolResult:
    """A result as dasshh stores it: ``json.dumps(result, indent=2)``, kept as JSON text when it is an object."""
    raw = json.dumps(value, indent=2)
    is_json = isinstance(value, dict | list)
    return ToolResult(event_id="e", invocation_id="i", created_at=None, call_id="c", name="t",
                      content_raw=raw, is_json=is_json)


def readable(value: object) -> str:
    decoded, ok = stored_result(value).value
    assert ok
    return plain_text(readable_lines(decoded))


def test_a_string_result_is_its_text_with_real_lines():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    result = stored_result(text)
    assert result.content_raw.startswith('"PRETTY_NAME=\\"Debian')  # what dasshh stores: one quoted, escaped line
    assert readable(text) == 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"'
    assert summary(text) == "3 lines"


def test_a_shell_result_shows_its_streams_as_indented_blocks():
    value = {"command": "df -h", "success": True, "return_code": 0,
             "stdout": "Filesystem  Size\n/dev/sda1   100G\n", "stderr": ""}
    assert readable(value) == (
        "command: df -h\n"
        "success: true\n"
        "return_code: 0\n"
        "stdout:\n"
        "  Filesystem  Size\n"
        "  /dev/sda1   100G\n"
        "stderr: (empty)"
    )
    assert summary(value) == "exit 0 · 2 lines"
    assert first_line(value) == "Filesystem  Size"


def test_a_failed_command_says_its_error_output_first():
    value = {"exit_code": 2, "stdout": "partial\n", "stderr": "ls: cannot access 'x': No such file\n"}
    assert summary(value) == "exit 2 · 2 lines"
    assert first_line(value) == "ls: cannot access 'x': No such file"


def test_tabs_are_expanded_to_tab_stops_and_controls_removed():
    assert readable("a\tb\nabcdefghij\tc\x1b[31m!") == "a       b\nabcdefghij      c!"


def test_nesting_is_indented_and_lists_are_bulleted():
    value = {"host": "example.com", "records": [{"type": "A", "ttl": 300}, {"type": "AAAA", "ttl": 300}],
             "tags": ["a", "b"], "none": None, "empty": {}, "nothing": []}
    assert readable(value) == (
        "host: example.com\n"
        "records:\n"
        "  - type: A\n"
        "    ttl: 300\n"
        "  - type: AAAA\n"
        "    ttl: 300\n"
        "tags:\n"
        "  - a\n"
        "  - b\n"
        "none: null\n"
        "empty: {}\n"
        "nothing: []"
    )
    assert summary([1, 2, 3]) == "3 items"
    assert readable([[1, 2], "x"]) == "- - 1\n  - 2\n- x"


def test_a_multi_line_string_in_a_list_is_an_indented_block():
    assert readable({"lines": ["one\ntwo", "three"]}) == "lines:\n  -\n      one\n      two\n  - three"


def test_empty_results():
    assert readable("") == "(empty)"
    assert readable({}) == "(empty)"
    assert readable([]) == "(empty)"
    assert summary("") == "no output"
    assert summary({"exit_code": 0, "stdout": "", "stderr": ""}) == "exit 0 · no output"


def test_stdout_given_as_a_list_counts_its_items():
    assert summary({"exit_code": 0, "stdout": ["a", "b", "c"], "stderr": ""}) == "exit 0 · 3 lines"


def test_plain_text_and_scalars_stay_what_they_are():
    plain = ToolResult(event_id="e", invocation_id=None, created_at=None, call_id=None, name=None,
                       content_raw="not json {", is_json=False)
    assert plain.value == ("not json {", False)
    for value, shown in ((42, "42"), (True, "true"), (None, "null"), (1.5, "1.5")):
        decoded, ok = stored_result(value).value
        assert ok and plain_text(readable_lines(decoded)) == shown


def test_deep_nesting_is_drawn_compact_below_the_tree_depth():
    value: object = "leaf"
    for _ in range(40):
        value = {"k": value}
    text = readable(value)
    assert len(text.splitlines()) <= 14 and text.splitlines()[-1].strip().startswith("k: {")


def test_huge_strings_keep_every_line_and_cut_long_scalars():
    big = "\n".join(f"line {n}" for n in range(50_000))
    lines = readable_lines(big)
    assert len(lines) == 50_000 and lines[-1].text == "line 49999"
    scalar = readable_lines({"k": "x" * 10_000})
    assert len(scalar) == 2 and scalar[1].text == "x" * 10_000  # long strings are text blocks, not inline scalars


def test_the_shell_command_of_a_call_and_its_preview():
    assert shell_command({"command": "df -h"}) == "df -h"
    assert shell_command({"path": "/etc"}) is None
    assert call_preview({"command": "ls\n  -la"}) == "ls -la"
    assert call_preview({"path": "/etc/hosts", "tail": 5, "opts": {"a": 1}}) == "/etc/hosts  5"
    assert call_preview(None) == ""


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
))
def test_any_value_has_a_readable_form_without_control_characters(value):
    lines = readable_lines(value)
    assert lines
    text = plain_text(lines)
    assert not any(ch in text for ch in "\x1b\x00\t\r")
    assert isinstance(summary(value), str) and isinstance(first_line(value), str)


def test_a_one_line_stream_ending_in_a_newline_is_one_line():
    assert readable({"stderr": "Permission denied\n"}) == "stderr: Permission denied"


def test_a_result_cut_off_mid_stream_is_its_text_and_not_a_failure():
    from dasshh_history.domain.failure import result_failure

    cut = ToolResult(event_id="e", invocation_id=None, created_at=None, call_id="c", name="t",
                     content_raw='{\n  "exit_code": 1,\n  "stdout": "abc', is_json=False)
    value, decoded = cut.value
    assert (value, decoded) == (cut.content_raw, False)
    assert plain_text(readable_lines(value)) == '{\n  "exit_code": 1,\n  "stdout": "abc'
    assert result_failure(value, is_json=decoded) is None  # no rule reads a value out of broken JSON
