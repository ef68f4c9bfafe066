"""plain: Markdown source as the words a reader sees, each construct on its own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.domain.plain import plain


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** and __bold__", "bold and bold"),
        ("*italic* and _italic_", "italic and italic"),
        ("***both*** and **a _nested_ one**", "both and a nested one"),
        ("~~struck~~ out", "struck out"),
        ("# Title", "Title"),
        ("### Steps ###", "Steps"),
        ("Title\n=====\nSub\n---", "Title\n\nSub\n"),
        ("run `ls -la` now", "run ls -la now"),
        ("``a ` inside``", "a ` inside"),
        ("```bash\nls **/*.py\n# a comment, not a heading\n```\nafter", "\nls **/*.py\n# a comment, not a heading\n\nafter"),
        ("~~~\ncode\n~~~", "\ncode\n"),
        ("````\n```\nstill code\n````", "\n```\nstill code\n"),
        ("see [the docs](https://example.org/a_(b) \"Docs\") now", "see the docs now"),
        ("![a chart](chart.png)", "a chart"),
        ("<https://example.org/x>", "https://example.org/x"),
        ("| Name | Size |\n|:-----|-----:|\n| a.txt | 4 KB |", "Name Size\n\na.txt 4 KB"),
        ("| a \\| b | c |", "a | b c"),
        ("- one\n* two\n+ three\n  - nested", "one\ntwo\nthree\n  nested"),
        ("- [x] done\n- [ ] to do", "done\nto do"),
        ("1. first\n2) second", "1. first\n2) second"),  # numbers are what a reader sees
        ("> quoted **text**\n> > deeper", "quoted text\ndeeper"),
        ("***\n- - -\n___", "\n\n"),
        ("\\*not emphasis\\* and \\_not\\_ either", "*not emphasis* and _not_ either"),
    ],
    ids=["strong", "emphasis", "nested-emphasis", "strikethrough", "heading", "closed-heading", "setext", "code-span",
         "code-span-backtick", "fenced-code", "tilde-fence", "longer-fence", "link", "image", "autolink", "table",
         "table-escaped-pipe", "bullets", "task-list", "ordered-list", "block-quote", "thematic-breaks", "escapes"],
)
def test_markdown_syntax_is_taken_out_and_the_words_kept(markdown: str, expected: str):
    assert plain(markdown) == expected


@pytest.mark.parametrize(
    "text",
    [
        "run_shell_command and snake_case_words",
        "a * b * c and 2*3*4",
        "f(*args, **kwargs)",
        "[b]bold[/b] [/] [@click=app.quit]quit[/] [link=https://evil.example]x[/link]",
        "values[0][1] and d[key](arg x)",
        "ps aux | grep python | wc -l",
        "PATH=~/bin:~/.local/bin and C:\\Users\\me",
        "a < b > c, #hashtag, 3 - 2 = 1",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
    ],
)
def test_text_that_is_not_markdown_is_kept(text: str):
    assert plain(text) == text


def test_code_content_is_kept_literally():
    assert plain("```\n| not | a table |\n- not a bullet\n**not bold**\n```") == (
        "\n| not | a table |\n- not a bullet\n**not bold**\n"
    )
    assert plain("the `**kwargs` and `[x](y)` spans") == "the **kwargs and [x](y) spans"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_gives_as_many_lines(text: str):
    assert plain(text).count("\n") == text.count("\n")
