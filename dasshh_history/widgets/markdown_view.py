"""How an assistant reply's Markdown is drawn in the timeline.

Rich's ``Markdown`` with elements of its own:

* code blocks (fenced or indented) have no blank padding rows above and below (the blank line
  between blocks is enough) and wrap a long line with a hanging indent: the continuation rows
  start at the column of the line's first non-space character, highlighting kept;
* tables have no blank edge rows, for the same reason;
* headings are bold, left aligned, in the colour given and never underlined (an underline reads
  as a link): h1 has a rule under it, h2 is plain bold, h3 and below are also italic;
* inside list items and quotes too, a code block or table has a blank line before and after it
  (Rich stacks an item's blocks with none);
* a horizontal rule leaves its blank line to the next block, so a reply ending in one ends flush;
* a list, table or quote opening the reply has no blank line above it.

The text is Markdown, never console markup: ``[b]`` in a reply is shown as typed.
"""

from __future__ import annotations

from typing import ClassVar

from markdown_it.token import Token
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.containers import Renderables
from rich.markdown import (
    BlockQuote,
    CodeBlock,
    Heading,
    HorizontalRule,
    ListItem,
    Markdown,
    MarkdownContext,
    MarkdownElement,
    TableElement,
)
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

#: Columns of code-coloured background left and right of a code block's text.
CODE_PADDING = 1
#: Spaces a tab in a code block stands for.
TAB_SIZE = 4


def _hanging_rows(line: Text, width: int, console: Console) -> list[Text]:
    """``line`` wrapped to ``width`` cells, the continuation rows indented like the line itself.

    An indent wider than half the width is not kept (the rows would be too narrow to read).
    """
    if cell_len(line.plain) <= width:
        return [line]
    indent = len(line.plain) - len(line.plain.lstrip(" "))
    if indent > width // 2:
        return list(line.wrap(console, width, justify="left", overflow="fold"))
    rows = []
    for row in line[indent:].wrap(console, width - indent, justify="left", overflow="fold"):
        row.rstrip()
        row.pad_left(indent)  # the spaces take the row's own style: the code's background
        rows.append(row)
    return rows


class ReplyCodeBlock(CodeBlock):
    """A code block: highlighted, without padding rows, wrapped with a hanging indent."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip().expandtabs(TAB_SIZE)
        syntax = Syntax(code, self.lexer_name, theme=self.theme, tab_size=TAB_SIZE, word_wrap=True)
        background = Syntax.get_theme(self.theme).get_background_style()
        highlighted = syntax.highlight(code)
        highlighted.remove_suffix("\n")  # the lexer ends the code with one
        width = max(1, options.max_width - 2 * CODE_PADDING)
        side = Segment(" " * CODE_PADDING, background)
        for line in highlighted.split("\n", allow_blank=True):
            for row in _hanging_rows(line, width, console):
                segments = list(row.render(console, end=""))
                yield side
                yield from Segment.adjust_line_length(segments, width, style=background, pad=True)
                yield side
                yield Segment.line()


class ReplyTable(TableElement):
    """A table without blank edge rows."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for table in super().__rich_console__(console, options):
            if isinstance(table, Table):
                table.show_edge = False
            yield table


def _add_block(elements: Renderables, previous: MarkdownElement | None, child: MarkdownElement) -> None:
    """Add ``child`` to a list item's or quote's blocks, a blank line between a code block or table and a neighbour.

    Rich puts these blocks one under the other; outside them it leaves a blank line between blocks.
    """
    if previous is not None and (isinstance(child, SPACED) or isinstance(previous, SPACED)):
        elements.append(Text())
    elements.append(child)


class ReplyListItem(ListItem):
    """A list item whose code blocks and tables are set off like those outside lists."""

    previous: MarkdownElement | None = None

    def on_child_close(self, context: MarkdownContext, child: MarkdownElement) -> bool:
        _add_block(self.elements, self.previous, child)
        self.previous = child
        return False


class ReplyBlockQuote(BlockQuote):
    """A quote whose code blocks and tables are set off like those outside quotes."""

    previous: MarkdownElement | None = None

    def on_child_close(self, context: MarkdownContext, child: MarkdownElement) -> bool:
        _add_block(self.elements, self.previous, child)
        self.previous = child
        return False


class ReplyHeading(Heading):
    """A heading: bold, in the heading colour, left aligned, not underlined."""

    def __init__(self, tag: str, colour: str) -> None:
        super().__init__(tag)
        self.colour = colour

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> ReplyHeading:
        assert isinstance(markdown, ReplyMarkdown)
        return cls(token.tag, markdown.heading)

    def on_enter(self, context: MarkdownContext) -> None:
        self.text = Text()
        # Rich's own heading styles (markdown.h1 …) are not looked up: h2's is underlined.
        context.enter_style(Style(color=self.colour, bold=True, italic=self.tag not in ("h1", "h2"), underline=False))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.justify = "left"
        yield text
        if self.tag == "h1":
            yield Rule(style=self.colour)


class ReplyHorizontalRule(HorizontalRule):
    """A rule: the blank line after it comes from the next block, as after any other block."""

    new_line = True

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(style=console.get_style("markdown.hr", default="none"), characters="-")


#: Blocks with a blank line between them and their neighbours inside list items and quotes too.
SPACED = (ReplyCodeBlock, ReplyTable)


class ReplyMarkdown(Markdown):
    """Rich's Markdown with the reply's own code blocks, tables, headings and rules."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "fence": ReplyCodeBlock,
        "code_block": ReplyCodeBlock,
        "heading_open": ReplyHeading,
        "table_open": ReplyTable,
        "hr": ReplyHorizontalRule,
        "list_item_open": ReplyListItem,
        "blockquote_open": ReplyBlockQuote,
    }

    def __init__(self, text: str, *, code_theme: str, heading: str) -> None:
        super().__init__(text, code_theme=code_theme, hyperlinks=False, inline_code_lexer="text")
        self.heading = heading

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # Rich asks for a blank line before a list, table or quote that opens the text (a block
        # inside it, closing first, asks for one after itself): left out here.
        started = False
        for segment in super().__rich_console__(console, options):
            started = started or segment != Segment.line()
            if started:
                yield segment


def reply_markdown(text: str, *, code_theme: str, heading: str) -> RenderableType:
    """``text`` (an assistant reply) drawn as Markdown; ``heading`` is the headings' colour, e.g. ``"#ffa62b"``."""
    return ReplyMarkdown(text, code_theme=code_theme, heading=heading)
