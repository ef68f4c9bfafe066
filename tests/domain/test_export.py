"""Markdown and JSON exports: every kind of entry, literal text, fences nothing escapes, exact JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from eventutil import Row, T, call
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dasshh_history.data.browse import SessionSummary
from dasshh_history.data.types import BrokenValue
from dasshh_history.domain.export import (
    event_json,
    export_filename,
    iso_utc,
    iter_session_json,
    iter_session_markdown,
    session_json,
    session_markdown,
    slugify,
)
from dasshh_history.domain.markdown import close_open_fence, escape_inline, fenced, inline_code
from dasshh_history.domain.parse import build_timeline

SUMMARY = SessionSummary(id="s1", detail="Fix the flaky test", created_at=T, updated_at=T + timedelta(hours=1),
                         event_count=13)
COMMONMARK = MarkdownIt("commonmark")




def tool(call_id: str, name: str, content: str) -> dict:
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": content}


USER_TEXT = "Fix `this` ```\n[b]bold[/b] \x1b[31mred\x1b[0m *not emphasis*\n# not a heading\n    indented <b>tag</b>"
EVERY_KIND = [
    {"role": "user", "content": USER_TEXT},
    {"role": "assistant", "content": None, "tool_calls": [call("c1", "run", '{"cmd": "echo ```"}')]},
    tool("c1", "run", '{"out": "ok"}'),
    {"role": "assistant", "content": None, "tool_calls": [call("c2", "read_file", '{"path": "/etc/ngi')]},
    tool("c2", "read_file", "plain ```` text"),
    {"role": "assistant", "content": None, "tool_calls": [call("c3", "read_file", "")]},
    {"role": "assistant", "content": "Here:\n\n```python\nprint(1)"},  # cut off inside a code block
    {"role": "system", "content": "Be concise."},
    BrokenValue(raw="{oops", error="not valid JSON: expecting property name at character 1"),
    [1, 2],
    {"role": "robot", "content": "beep"},
    {"role": "user", "content": "after"},
    {"role": "assistant", "content": "**done**"},
]


def every_kind_rows() -> list[Row]:
    return [
        Row(content, id=f"e{i}", invocation_id="i1" if i < 7 else "i2", created_at=T + timedelta(minutes=i // 7))
        for i, content in enumerate(EVERY_KIND)
    ]


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(kind, text) of each top-level block as CommonMark parses it."""
    tokens = COMMONMARK.parse(markdown)
    found = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            found.append((token.tag, tokens[index + 1].content))
        elif token.type == "fence":
            found.append((f"fence:{token.info}", token.content))
        elif token.type == "paragraph_open" and token.level == 0:
            found.append(("p", tokens[index + 1].content))
    return found


def test_every_kind_of_entry_is_rendered_readably():
    markdown = session_markdown(SUMMARY, build_timeline(every_kind_rows()), tz=UTC)
    assert markdown.endswith("**done**\n")
    assert blocks(markdown) == [
        ("h1", "Fix the flaky test"),
        ("h2", "2026-03-01 12:00"),
        ("h3", "You"),
        ("fence:text", "Fix `this` ```\n[b]bold[/b] red *not emphasis*\n# not a heading\n    indented <b>tag</b>\n"),
        ("p", "**Tool call** `run` (`c1`)"),
        ("fence:json", '{\n  "cmd": "echo ```"\n}\n'),
        ("p", "**Result** of `run` (`c1`)"),
        ("fence:json", '{\n  "out": "ok"\n}\n'),
        ("p", "**Tool call** `read_file` (`c2`)"),
        ("p", "*arguments are not valid JSON (cut off?); as stored:*"),
        ("fence:text", '{"path": "/etc/ngi\n'),
        ("p", "**Result** of `read_file` (`c2`)"),
        ("fence:text", "plain ```` text\n"),
        ("p", "**Tool call** `read_file` (`c3`)"),
        ("p", "*(empty arguments)*"),
        ("h3", "Assistant"),
        ("p", "Here:"),
        ("fence:python", "print(1)\n"),
        ("h2", "2026-03-01 12:01"),
        ("p", "**Raw event**: system message"),
        ("fence:json", '{\n  "role": "system",\n  "content": "Be concise."\n}\n'),
        ("p", "**Raw event**: undecodable row: not valid JSON: expecting property name at character 1"),
        ("fence:text", "{oops\n"),
        ("p", "**Raw event**: content is list, not a message"),
        ("fence:text", "1\n2\n"),
        ("p", "**Raw event**: unknown role (role `robot`)"),
        ("fence:json", '{\n  "role": "robot",\n  "content": "beep"\n}\n'),
        ("h3", "You"),
        ("fence:text", "after\n"),
        ("h3", "Assistant"),
        ("p", "**done**"),
    ]


def test_header_names_the_session():
    markdown = session_markdown(SUMMARY, [], tz=timezone(timedelta(hours=2)))
    assert markdown == (
        "# Fix the flaky test\n\n"
        "- Session: `s1`\n"
        "- Created: 2026-03-01 14:00\n"
        "- Updated: 2026-03-01 15:00\n"
        "- Events: 13\n"
    )


def test_title_stays_literal_on_one_line():
    detail = "[b]Fix[/b] *the*\n`flaky` <test> _x_ \x1b[31m#1 &amp; ~~no~~ [link](http://x) \\"
    summary = SessionSummary(id="s", detail=detail, created_at=None, updated_at=None, event_count=0)
    markdown = session_markdown(summary, [], tz=UTC)
    assert "\x1b" not in markdown
    tokens = COMMONMARK.parse(markdown)
    assert tokens[0].type == "heading_open" and tokens[0].tag == "h1"
    inline = tokens[1]
    assert {child.type for child in inline.children} <= {"text", "text_special"}, "no markup in the title"
    assert "".join(child.content for child in inline.children) == (
        "[b]Fix[/b] *the* `flaky` <test> _x_ #1 &amp; ~~no~~ [link](http://x) \\"
    )
    assert "- Created: unknown time" in markdown
    untitled = SessionSummary(id="s", detail=None, created_at=None, updated_at=None, event_count=0)
    assert session_markdown(untitled, [], tz=UTC).startswith("# (untitled)\n")


def test_markdown_streams_in_pieces():
    timeline = build_timeline(every_kind_rows())
    pieces = list(iter_session_markdown(SUMMARY, timeline, tz=UTC))
    assert len(pieces) == 1 + len(timeline) + 1
    assert "".join(pieces) == session_markdown(SUMMARY, timeline, tz=UTC)


@pytest.mark.parametrize(
    "text",
    ["plain", "```", "a ``` b\n```\n````x", "`" * 10, "ends with a backtick `", "", "\n\n```python\nx\n```\n"],
)
def test_fence_is_longer_than_any_backtick_run_inside(text: str):
    block = fenced(text, "text")
    tokens = COMMONMARK.parse(block + "\n\nafter")
    assert tokens[0].type == "fence" and tokens[0].info == "text"
    assert tokens[0].content == (text if text.endswith("\n") or not text else text + "\n")
    assert tokens[-2].content == "after", "nothing after the block is swallowed"


@pytest.mark.parametrize("text", ["name", "a`b", "``x``", "`", "two\nlines"])
def test_inline_code_holds_any_text(text: str):
    tokens = COMMONMARK.parse(f"x {inline_code(text)} y")
    (code,) = [t for t in tokens[1].children if t.type == "code_inline"]
    assert code.content == " ".join(text.split())


def test_escape_inline():
    assert escape_inline("a *b* [c](d) `e` <f> #g _h_ ~i~ |j| &k; \\") == (
        "a \\*b\\* \\[c\\](d) \\`e\\` \\<f\\> \\#g \\_h\\_ \\~i\\~ \\|j\\| \\&k; \\\\"
    )


@pytest.mark.parametrize(
    ("reply", "closed"),
    [
        ("no code", "no code"),
        ("```py\nx\n```", "```py\nx\n```"),
        ("```py\nx", "```py\nx\n```"),
        ("````\n```\nstill code", "````\n```\nstill code\n````"),
        ("~~~\ncode\n", "~~~\ncode\n~~~"),
        # Inside a list item or a quote a fence ends with its container: nothing to add.
        ("- ```bash\n  ls\n  ```\n- next", "- ```bash\n  ls\n  ```\n- next"),
        ("- ```bash\n  ls", "- ```bash\n  ls"),
        ("1. step\n\n   ```sh\n   make", "1. step\n\n   ```sh\n   make"),
        ("> ```\n> quoted", "> ```\n> quoted"),
        ("- item\n\n```sh\nmake", "- item\n\n```sh\nmake\n```"),
        ("    ```\n    indented code", "    ```\n    indented code"),
        ("  ```\n  x\n   ```", "  ```\n  x\n   ```"),
        ("-x\n```", "-x\n```\n```"),
        ("inline ``` not a fence ``` here", "inline ``` not a fence ``` here"),
        # A lazy continuation line keeps the list item open: the fence is the item's, closed by the item's end.
        ("1. step\n  code\n   ```", "1. step\n  code\n   ```"),
        ("1. step\n\n  code\n   ```", "1. step\n\n  code\n   ```\n```"),
        ("``` info with ` backtick", "``` info with ` backtick"),
    ],
)
def test_a_reply_cut_off_in_a_code_block_is_closed(reply: str, closed: str):
    assert close_open_fence(reply) == closed
    tokens = COMMONMARK.parse(close_open_fence(reply) + "\n\n## next")
    assert tokens[-3].type == "heading_open", "the rest of the document stays outside the code block"


#: Lines of replies; paragraph text only after a blank line (lazy continuation lines are not modelled).
REPLY_LINES = st.sampled_from([
    "```", "```py", "````", "~~~", "", "- item", "1. step", "  ```", "   ```", "    ```", "> ```", "> x", "  code",
    "- ```", "* ```sh", "  - ```", "\t```", "\ntext", "\nx ``` y", "\n# h", "\n---",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(REPLY_LINES, max_size=8))
def test_nothing_after_a_reply_is_swallowed(lines: list[str]):
    reply = "\n".join(lines)
    tokens = COMMONMARK.parse(close_open_fence(reply) + "\n\n## next")
    assert tokens[-3].type == "heading_open" and tokens[-3].level == 0
    assert tokens[-2].content == "next"


# -- JSON ------------------------------------------------------------------------


def expected_event(row: Row, session_id: str = "s1") -> dict:
    return {"id": row.id, "invocation_id": row.invocation_id, "session_id": session_id,
            "created_at": iso_utc(row.created_at), "content": row.content}


def test_session_json_is_the_indented_document():
    rows = [
        Row({"role": "user", "content": "héllo 漢字 🎉 line\u2028sep next\x85line \x1b[31m"}, id="a"),
        Row({"role": "assistant", "tool_calls": [call("c", "f", '{"a": [1, {"b": null}')]}, id="b", created_at=None),
        Row(BrokenValue(raw="{not json", error="not valid JSON: boom"), id="c", invocation_id=None),
        Row(42, id="d", created_at=datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))),
        Row(None, id="e"),
    ]
    text = session_json(SUMMARY, rows)
    events = [expected_event(row) for row in rows]
    events[2] |= {"content": None, "content_raw": "{not json", "content_error": "not valid JSON: boom"}
    document = {
        "id": "s1", "detail": "Fix the flaky test",
        "created_at": "2026-03-01T12:00:00+00:00", "updated_at": "2026-03-01T13:00:00+00:00",
        "events": events,
    }
    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(text) == document
    assert events[1]["created_at"] is None and events[3]["created_at"] == "2026-03-01T12:00:00+00:00"
    assert "".join(iter_session_json(SUMMARY, rows)) == text


def test_session_json_without_events():
    empty = SessionSummary(id="s", detail=None, created_at=None, updated_at=None, event_count=0)
    assert json.loads(session_json(empty, [])) == {
        "id": "s", "detail": None, "created_at": None, "updated_at": None, "events": []
    }
    assert session_json(empty, []).endswith('"events": []\n}\n')


def test_too_deep_content_is_marked_not_raised():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    record = json.loads(event_json(Row(deep, id="x"), "s1"))
    assert record["content"] is None
    assert record["content_error"] == "content cannot be exported (nested too deeply)"
    assert record["id"] == "x"


def test_iso_utc():
    assert iso_utc(datetime(2026, 3, 1, 12, 0, 0, 123)) == "2026-03-01T12:00:00.000123+00:00"
    assert iso_utc(datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))) == "2026-03-01T17:00:00+00:00"
    assert iso_utc(None) is None
    assert iso_utc("2026-03-01") is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(JSON_VALUES, max_size=6), st.text(), st.text())
def test_json_export_round_trips_any_content(contents: list, detail: str, event_id: str):
    rows = [Row(content, id=f"{event_id}{i}") for i, content in enumerate(contents)]
    summary = SessionSummary(id=event_id, detail=detail, created_at=T, updated_at=None, event_count=len(rows))
    text = session_json(summary, rows)
    back = json.loads(text)
    assert [event["content"] for event in back["events"]] == contents
    assert back["detail"] == detail and back["id"] == event_id
    assert text == json.dumps(back, indent=2, ensure_ascii=False) + "\n"


# -- file names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Fix the flaky test", "fix-the-flaky-test"),
        ("Café déjà vu: what's `this`?!", "café-déjà-vu-what-s-this"),
        ("Cafe\u0301 AU LAIT", "café-au-lait"),  # decomposed accents are composed
        ("漢字だけ", "漢字だけ"),
        ("日本語のメモ 🚀", "日本語のメモ"),
        ("ｶﾀｶﾅ ＦＵＬＬ", "カタカナ-full"),  # half-width kana, full-width Latin: their usual forms
        ("Заметки о Python 3.13", "заметки-о-python-3-13"),
        ("ΟΔΗΓΟΣ για το Git", "οδηγος-για-το-git"),
        ("ملاحظات سريعة عن البايثون", "ملاحظات-سريعة-عن-البايثون"),
        ("مَرْحَبًا", "مَرْحَبًا"),  # with its vowel marks
        ("हिन्दी नोट्स", "हिन्दी-नोट्स"),
        ("🚀🔥 !!! ✨", "untitled"),
        ("❤️‍🔥 ⚠️ …", "untitled"),
        ("1️⃣ step", "1-step"),
        ('a<b>c:d"e/f\\g|h?i*j\x00k', "a-b-c-d-e-f-g-h-i-j-k"),  # nothing unsafe on Windows either
        ("", "untitled"),
        (None, "untitled"),
        ("Rename every .jpeg file in ~/Pictures/2025 to .jpg, keep the dates", "rename-every-jpeg-file-in-pictures-2025-to-jpg"),
        ("x" * 80, "x" * 50),
        ("../../etc/passwd", "etc-passwd"),
    ],
)
def test_slugify(title: str | None, slug: str):
    assert slugify(title) == slug
    assert len(slugify(title)) <= 50


def test_export_filename_keeps_the_letters_of_every_script():
    late = datetime(2025, 3, 12, 23, 30)
    assert export_filename(late, "日本語のメモ 🚀", UTC) == "2025-03-12-日本語のメモ.md"
    assert export_filename(late, "✨🚀", UTC) == "2025-03-12-untitled.md"


def test_export_filename_uses_the_local_date():
    late = datetime(2025, 3, 12, 23, 30)
    assert export_filename(late, "Fix the flaky test", UTC) == "2025-03-12-fix-the-flaky-test.md"
    assert export_filename(late, "Fix", timezone(timedelta(hours=2))) == "2025-03-13-fix.md"
    assert export_filename(None, None, UTC) == "undated-untitled.md"
    assert export_filename(late, "x", UTC, ext="json") == "2025-03-12-x.json"
