"""The failure rules, on the shapes dasshh's own tools return and on near misses."""

from __future__ import annotations

import json

import pytest

from dasshh_history.domain.entries import ToolResult
from dasshh_history.domain.failure import DASSHH_ERROR_REPLY, reply_failure, result_failure


def stored(value: object) -> ToolResult:
    raw = json.dumps(value, indent=2)
    return ToolResult(event_id="e", invocation_id=None, created_at=None, call_id="c", name="t",
                      content_raw=raw, is_json=isinstance(value, dict | list))


def failure_of(value: object) -> str | None:
    decoded, ok = stored(value).value
    return result_failure(decoded, is_json=ok)


@pytest.mark.parametrize(("value", "reason"), [
    # dasshh's run_command
    ({"command": "false", "success": False, "return_code": 1, "stdout": "", "stderr": ""}, "failed · exit 1"),
    ({"command": "ls", "success": True, "return_code": 0, "stdout": "a\n", "stderr": ""}, None),
    ({"command": "sleep 9", "success": False, "error": "Command timed out after 1 seconds"}, "failed"),
    # the demo's and other tools' shapes
    ({"exit_code": 127, "stdout": "", "stderr": "sh: nope: not found"}, "failed · exit 127"),
    ({"exit_code": 0, "stdout": "ok", "stderr": "warning: deprecated"}, None),
    ({"returncode": -9}, "failed · exit -9"),
    # error objects, among them dasshh's replies to invalid or missing arguments
    ({"error": "Invalid arguments: Unterminated string starting at: line 1 column 10"}, "error"),
    ({"error": "Path '/x' does not exist"}, "error"),
    ({"success": False, "error": "Permission denied"}, "failed"),
    ([{"error": "Directory 'x' does not exist"}], "error"),
    # dasshh's network tools: success with an empty (or warning) error stream is a success
    ({"host": "a", "success": True, "output": "64 bytes", "error": ""}, None),
    ({"host": "a", "success": True, "output": "64 bytes", "error": "warning: ttl"}, None),
    ({"error": ""}, None),
    ({"error": None, "data": 1}, None),
    ({"errors": ["bad"]}, "error"),
    ([{"error": "x"}, {"name": "ok"}], None),
    ([], None),
    # text results
    ("Error: file not found", "error"),
    ("error: pathspec 'x' did not match", "error"),
    ("ERROR 1045 (28000): Access denied", "error"),
    ("Traceback (most recent call last):\n  File \"x\", line 1", "traceback"),
    ("FileNotFoundError: [Errno 2] No such file", "error"),
    ("fatal: not a git repository", "error"),
    # near misses: text that mentions errors without being one
    ("Errors are reported in the log below", None),
    ("error handling in Python uses try/except", None),
    ("No errors found.", None),
    ("mirror: https://example.com", None),
    ("", None),
    (42, None),
    ({"exit_code": "1"}, None),  # a string is not an exit status
    ({"exit_code": True}, None),
])
def test_failure_rules(value: object, reason: str | None):
    assert failure_of(value) == reason


def test_plain_text_that_is_not_json():
    assert result_failure("Traceback (most recent call last):", is_json=False) == "traceback"
    assert result_failure("all good", is_json=False) is None


def test_dasshhs_fallback_reply_is_an_error():
    assert reply_failure(DASSHH_ERROR_REPLY) == "error"
    assert reply_failure("Sorry, that file does not exist.") is None


# The stats read a result's ``content`` with SQLite's JSON functions (its type and value, or ->>):
# the same verdict as the timeline's reading of the whole event (event_facts), for results of every shape.
@pytest.mark.parametrize("body", [
    '{"exit_code": 1}', '{"exit_code": 0, "stdout": "x"}', '{"success": false}', '{"error": "bad"}',
    '[{"error": "a"}]', '[]', '"Error: quoted"', '"fine"', "Error: plain", "Traceback (most recent call last):",
    "fine", "", "null", "true", "12", "-3", "NaN", '{"error": "x", "success": true}', "{not json", '["Error: x"]',
    {"exit_code": 3}, {"ok": False}, [{"errors": ["x"]}], 5, None, True,
])
def test_stats_reading_of_a_result_agrees_with_the_timeline(body):
    import json
    import sqlite3

    from dasshh_history.domain.facts import event_facts
    from dasshh_history.domain.stats import body_failed, value_failed

    content = json.dumps({"role": "tool", "name": "t", "content": body})
    kind, value, text = sqlite3.connect(":memory:").execute(
        "SELECT json_type(:c, '$.content'), json_extract(:c, '$.content'), :c ->> '$.content'", {"c": content}
    ).fetchone()
    timeline = event_facts(json.loads(content)).failed
    assert body_failed(kind, value) == timeline
    assert value_failed(text) == timeline  # how the stats read it: the content as ->> gives it
