"""Secrets in stored event contents: fields and paths found, and redaction that keeps every value's shape."""

from __future__ import annotations

import json

import pytest
from test_secrets import AWS, GHP, JWT, RSA, STRIPE

from dasshh_history.domain.stored_secrets import (
    find_in_content,
    find_in_title,
    redact_content,
    redact_title,
)


def shape(value: object) -> object:
    """A JSON value with every string replaced by a marker: what redaction must keep."""
    if type(value) is dict:
        return {key if "REDACTED" not in key and key not in SECRETS else "k": shape(item) for key, item in value.items()}
    if type(value) is list:
        return [shape(item) for item in value]
    return "s" if type(value) is str else value


SECRETS = (AWS, GHP, JWT, RSA, STRIPE, "hunter2!")

CALL = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "index": 0, "function": {
    "name": "run_shell_command", "arguments": json.dumps({"command": f"export GITHUB_TOKEN={GHP} && gh auth status"})}}]}
RESULT = {"role": "tool", "tool_call_id": "c1", "name": "read_file",
          "content": json.dumps({"path": "/home/u/.ssh/id_rsa", "text": RSA + "\n", "ok": True}, indent=2)}
USER = {"role": "user", "content": f"my key is {AWS} — and «PASSWORD=hunter2!»"}


def test_fields_and_paths():
    found = find_in_content(json.dumps(CALL))
    assert [(f.field, f.path, f.kind, f.secret.value) for f in found] == [
        ("arguments", "tool_calls[0].function.arguments>.command", "github", GHP)]
    found = find_in_content(json.dumps(RESULT))
    assert [(f.field, f.path, f.kind) for f in found] == [("result", "content>.text", "private-key")]
    found = find_in_content(json.dumps(USER))
    assert [(f.field, f.path, f.kind, f.masked) for f in found] == [
        ("content", "content", "aws", "AKIA…Y1U3"), ("content", "content", "password", "…")]
    assert [(f.field, f.kind) for f in find_in_title(f"deploy with {STRIPE}")] == [("title", "stripe")]


@pytest.mark.parametrize("content", [CALL, RESULT, USER], ids=["call", "result", "user"])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_redaction_keeps_valid_json_of_the_same_shape(content: dict, ascii_only: bool):
    stored = json.dumps(content, ensure_ascii=ascii_only)
    new, count = redact_content(stored)
    assert count == len(find_in_content(stored)) > 0
    value = json.loads(new)
    assert shape(value) == shape(content)
    for secret in SECRETS:
        assert secret not in new and secret.replace("\n", "\\n") not in new
    assert find_in_content(new) == []
    assert "[REDACTED:" in new
    assert new.isascii() == stored.isascii()  # the "—" and "«" stay written as they were
    # Only the strings that held a secret changed: the rest of the text is byte for byte the same.
    outside = [piece for piece in stored.split('"') if "REDACTED" not in piece]
    assert sum(piece in new for piece in outside) >= len(outside) - 2 * count


def test_nested_json_keeps_its_own_layout():
    stored = json.dumps(RESULT)
    new, _ = redact_content(stored)
    inner = json.loads(new)["content"]
    assert inner == json.dumps({"path": "/home/u/.ssh/id_rsa", "text": "[REDACTED:private-key]\n", "ok": True}, indent=2)
    assert json.loads(new)["tool_call_id"] == "c1"


def test_a_secret_in_a_key_is_redacted_too():
    stored = json.dumps({"env": {GHP: 1}, "x": [1, 2.5, None, True]})
    new, count = redact_content(stored)
    assert count == 1 and json.loads(new) == {"env": {"[REDACTED:github]": 1}, "x": [1, 2.5, None, True]}


def test_text_that_is_not_json_is_redacted_as_text_and_stays_invalid():
    stored = '{"role": "user", "content": "truncated ' + GHP
    new, count = redact_content(stored)
    assert (new, count) == ('{"role": "user", "content": "truncated [REDACTED:github]', 1)
    plain = f"AWS={AWS} plain text"
    assert redact_content(plain) == ("AWS=[REDACTED:aws] plain text", 1)


def test_a_redaction_that_would_make_text_json_is_not_made():
    # The raw text is not JSON, but with the secret replaced it would be: left as it is.
    stored = '["' + GHP + '"'[:0] + '"]'[:0]
    stored = '{"a": "x"} ' + "PASSWORD=hunter22"  # invalid: trailing text
    assert redact_content(stored)[1] == 1  # stays invalid
    tricky = '{"a": 1}' + GHP[:0]
    assert redact_content(tricky) == (tricky, 0)


def test_blobs_stay_blobs_and_other_bytes_stay():
    stored = ("café \udcff " + GHP).encode("utf-8", "surrogateescape")
    new, count = redact_content(stored)
    assert count == 1 and type(new) is bytes
    assert new == "café \udcff [REDACTED:github]".encode("utf-8", "surrogateescape")
    assert b"\xff" in new


@pytest.mark.parametrize("value", [None, 42, 2.5, b"", "", "[]", "{}", '"just a string"', "\x00" * 10])
def test_values_without_secrets_come_back_unchanged(value: object):
    assert redact_content(value) == (value, 0)
    assert find_in_content(value) == []


def test_hostile_values_are_scanned_without_error():
    deep = "[" * 5000 + json.dumps(GHP) + "]" * 5000  # deeper than the JSON reader goes: text
    assert [f.path for f in find_in_content(deep)] == [""]
    new, count = redact_content(deep)
    assert count == 1 and new == "[" * 5000 + '"[REDACTED:github]"' + "]" * 5000
    huge = json.dumps({"role": "tool", "content": "x" * 3_000_000 + " " + AWS})
    assert [f.kind for f in find_in_content(huge)] == ["aws"]
    nested = json.dumps(json.dumps(json.dumps(json.dumps(json.dumps(json.dumps({"t": GHP}))))))
    found = find_in_content(nested)
    assert [f.kind for f in found] == ["github"]
    assert GHP not in redact_content(nested)[0]
    assert redact_title(f"title {GHP}") == ("title [REDACTED:github]", 1)
    assert redact_title(None) == (None, 0)
