"""The invisible marks around masked secrets: found, removed, never taken from data (domain/secret_marks.py)."""

from __future__ import annotations

import json

from dasshh_history.domain.secret_marks import CLOSE, OPEN, mark, marked_spans, unmark
from dasshh_history.domain.stored_secrets import mask_value

GHP = "ghp" + "_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gIq7R8"


def test_spans_of_marks_and_of_what_they_hold():
    text = f"key {mark('ghp_…q7R8')} and {mark('AKIA…Y1U3')}."
    removed, styled, inside = marked_spans(text)
    assert [text[a:b] for a, b in styled] == ["ghp_…q7R8", "AKIA…Y1U3"]
    assert [text[a:b] for a, b in removed] == [OPEN, CLOSE, OPEN, CLOSE]
    assert not inside and unmark(text) == "key ghp_…q7R8 and AKIA…Y1U3."


def test_a_secret_wrapped_over_two_lines_and_a_mark_cut_in_two():
    first, second = f"key {OPEN}-----BEGIN RSA ", f"PRIVATE KEY-----…{CLOSE} end"
    removed, styled, inside = marked_spans(first)
    assert inside and [first[a:b] for a, b in styled] == ["-----BEGIN RSA "]
    removed, styled, inside = marked_spans(second, inside)
    assert not inside and [second[a:b] for a, b in styled] == ["PRIVATE KEY-----…"]
    cut = f"key {OPEN}ghp_…q7R8{CLOSE[:10]}"  # a line truncated inside the closing mark
    removed, styled, _ = marked_spans(cut)
    assert "".join(c for i, c in enumerate(cut) if not any(a <= i < b for a, b in removed)) == "key ghp_…q7R8"


def test_what_only_looks_like_a_mark_is_left_alone():
    fake = "\u2062\u2061\u2064ghp_…q7R8\u2063\u2061\u2064 tail"
    assert marked_spans(fake) == ([], [], False)
    assert OPEN not in fake and unmark(fake) == fake


def test_mask_value_marks_each_secret_also_inside_nested_json_unescaped():
    arguments = json.dumps({"command": f"export GH={GHP}", "note": "café"})  # \u escapes, as json.dumps writes
    value = mask_value({"role": "assistant", "content": f"token {GHP}",
                        "tool_calls": [{"function": {"arguments": arguments}}]})
    assert value["content"] == f"token {mark('ghp_…q7R8')}"
    masked = value["tool_calls"][0]["function"]["arguments"]
    assert masked == '{"command": "export GH=' + mark("ghp_…q7R8") + '", "note": "caf\\u00e9"}'
    assert json.loads(masked) == {"command": f"export GH={mark('ghp_…q7R8')}", "note": "café"}
