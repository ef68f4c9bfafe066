"""How a reply's Markdown is drawn: one blank line around code and tables, hanging indents, plain headings, no markup."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.color import Color
from rich.console import Console, RenderableType
from rich.segment import Segment

from dasshh_history.domain.entries import AssistantReply
from dasshh_history.widgets.blocks import BlockTheme, Look, ReplyBlock
from dasshh_history.widgets.markdown_view import reply_markdown

ACCENT = "#ffa62b"
WIDTH = 60
CODE = """\
def f():
    return call(argument_one, argument_two, argument_three, "a string", 42)"""


def draw(text: str) -> RenderableType:
    return reply_markdown(text, code_theme="monokai", heading=ACCENT)


def plain(renderable: RenderableType, width: int = WIDTH) -> list[str]:
    """The lines drawn, without trailing spaces (blank padding lines come out empty)."""
    console = Console(width=width, record=True, color_system=None)
    console.print(renderable)
    return [line.rstrip() for line in console.export_text().rstrip("\n").split("\n")]


def rows(renderable: RenderableType, width: int = WIDTH) -> list[list[Segment]]:
    console = Console(width=width, color_system="truecolor")
    return console.render_lines(renderable, console.options.update(width=width))


def text_of(row: list[Segment]) -> str:
    return "".join(segment.text for segment in row)


def assert_single_blank_lines(lines: list[str]) -> None:
    assert lines[0] and lines[-1], f"a blank line at the start or end: {lines}"
    doubled = [n for n in range(len(lines) - 1) if not lines[n] and not lines[n + 1]]
    assert not doubled, f"two blank lines in a row at line {doubled}: {lines}"


def test_one_blank_line_around_a_fenced_code_block():
    assert plain(draw("Before.\n\n```python\nx = 1\n```\n\nAfter.")) == ["Before.", "", " x = 1", "", "After."]


def test_one_blank_line_around_an_indented_code_block():
    assert plain(draw("Before.\n\n    x = 1\n\nAfter.")) == ["Before.", "", " x = 1", "", "After."]


def test_one_blank_line_around_a_table():
    lines = plain(draw("Before.\n\n| name | size |\n|---|---|\n| a | 1 |\n| b | 2 |\n\nAfter."))
    assert_single_blank_lines(lines)
    assert lines[:2] == ["Before.", ""] and lines[-2:] == ["", "After."]
    table = lines[2:-2]
    assert table[0].split() == ["name", "size"] and set(table[1]) == {"─"}
    assert [line.split() for line in table[2:]] == [["a", "1"], ["b", "2"]]


def test_code_and_tables_at_the_edges_of_a_reply_have_no_blank_line_outside():
    assert plain(draw("```\nx = 1\n```")) == [" x = 1"]
    assert plain(draw("| a |\n|---|\n| 1 |")) == ["a", "─", "1"]
    assert_single_blank_lines(plain(draw("```\nx\n```\n\n| a |\n|---|\n| 1 |\n\n```\ny\n```\n\n---")))


def test_code_in_a_list_item_or_a_quote_is_set_off_by_one_blank_line():
    lines = plain(draw("1. Run:\n   ```sh\n   make\n   ```\n   then look.\n2. Done."))
    assert lines == [" 1 Run:", "", "    make", "", "   then look.", " 2 Done."]
    assert plain(draw("> Run:\n> ```\n> make\n> ```\n> then look.")) == ["▌ Run:", "▌", "▌  make", "▌", "▌ then look."]


def test_a_long_code_line_wraps_at_its_own_indentation():
    lines = plain(draw(f"```python\n{CODE}\n```"))
    assert lines[0] == " def f():"
    wrapped = lines[1:]
    assert len(wrapped) > 1
    columns = {len(row) - len(row.lstrip()) for row in wrapped}
    assert columns == {5}, wrapped  # one column of padding, then the line's four spaces
    assert " ".join(row.strip() for row in wrapped) == CODE.split("\n")[1].strip()


def test_wrapped_code_keeps_its_highlighting_and_background():
    drawn = rows(draw(f"```python\n{CODE}\n```"))
    background = drawn[0][0].style.bgcolor if drawn[0][0].style else None
    assert background is not None
    continuation = drawn[-1]
    assert text_of(continuation).strip().startswith(("argument", '"a string"'))
    colours = {segment.style.color for segment in continuation if segment.text.strip() and segment.style}
    assert len(colours - {None}) >= 2, "tokens on a continuation row are coloured by kind"
    indent = [segment for segment in continuation if not segment.text.strip()][:2]
    assert indent and all(segment.style and segment.style.bgcolor == background for segment in indent)


def heading_segments(markdown: str, heading: str) -> list[Segment]:
    return [segment for row in rows(draw(markdown)) for segment in row if segment.text.strip() and segment.text in heading]


def test_headings_are_bold_in_the_accent_colour_and_never_underlined():
    for level in range(1, 7):
        segments = heading_segments(f"{'#' * level} Big News\n\nbody", "Big News")
        assert segments, level
        for segment in segments:
            assert segment.style is not None
            assert segment.style.bold and not segment.style.underline, (level, segment.style)
            assert segment.style.color == Color.parse(ACCENT), (level, segment.style)


def test_headings_are_left_aligned_and_make_a_hierarchy():
    lines = plain(draw("# One\n\n## Two\n\n### Three\n\ntext"))
    assert lines[0] == "One" and set(lines[1]) == {"─"}, "h1: a rule under it, no centred box"
    assert lines[2:] == ["", "Two", "", "Three", "", "text"]
    two, three = (heading_segments(f"{marks} Title", "Title")[0].style for marks in ("##", "###"))
    assert two and three and not two.italic and three.italic


def test_console_markup_in_a_reply_is_shown_literally():
    text = "Use [b]x[/b] or [@click=app.quit]y[/] here."
    assert plain(draw(text)) == [text]
    for row in rows(draw(text)):
        for segment in row:
            assert segment.style is None or not (segment.style.bold or segment.style.meta or segment.style.link)


def test_the_timeline_draws_replies_with_reply_markdown():
    theme = BlockTheme(user="blue", assistant="green", tool="yellow", result="cyan", raw="red", error="red",
                       accent=ACCENT, muted="grey50", dark=True)
    reply = AssistantReply(event_id="e", invocation_id=None, created_at=datetime(2026, 3, 1, tzinfo=UTC),
                           text="## Heading\n\n```\ncode\n```")
    drawn = rows(ReplyBlock(reply).render(theme, Look(60)))
    heading = [segment for row in drawn for segment in row if segment.text == "Heading"]
    assert heading and heading[0].style and heading[0].style.color == Color.parse(ACCENT)
    assert not heading[0].style.underline
    assert [text_of(row).strip("│╭╮╰╯─ ") for row in drawn][1:-1] == ["Heading", "", "code"]
