"""Writing CommonMark that shows stored text literally: fences, code spans, escapes."""

from __future__ import annotations

import re

from dasshh_history.domain.text import sanitize

_BACKTICKS = re.compile(r"`+")
# Characters that can start inline Markdown (emphasis, links, code, HTML,
# entities, strikethrough, tables, a heading's closing #s).
_INLINE_MARKUP = re.compile(r"([\\`*_\[\]<>#~|&])")
_LIST_ITEM = re.compile(r"([-+*]|\d{1,9}[.)])( *)(.?)")
_FENCE_OPEN = re.compile(r"(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,})[ \t]*")
_ATX_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_THEMATIC_BREAK = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def fenced(text: str, lang: str = "") -> str:
    """``text`` in a backtick fence longer than any run of backticks inside it, so nothing breaks out."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}{lang}\n{body}{fence}"


def inline_code(text: str) -> str:
    """``text`` (sanitized, on one line) as a code span whose delimiters no backtick inside can close."""
    text = " ".join(sanitize(text).split()) or " "
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def escape_inline(text: str) -> str:
    """Backslash-escape the characters that would make ``text`` Markdown rather than literal text."""
    return _INLINE_MARKUP.sub(r"\\\1", text)


def _item_content_column(indent: int, line: str) -> int | None:
    """Where the content of a list item starting on ``line`` (stripped) begins, or None if it starts none."""
    match = _LIST_ITEM.match(line)
    if not match or (match[3] and not match[2]):
        return None  # "-x" or "1.x": no list item
    marker, spaces = match[1], len(match[2])
    return indent + len(marker) + (spaces if 1 <= spaces <= 4 and match[3] else 1)


def _opens_fence(stripped: str) -> str | None:
    """The fence run when ``stripped`` (a line without its indent) opens a fenced code block."""
    opening = _FENCE_OPEN.fullmatch(stripped)
    if opening and not (opening[1][0] == "`" and "`" in opening[2]):  # no backtick in a backtick info string
        return opening[1]
    return None


def _closes_fence(stripped: str, indent: int, fence: str) -> bool:
    close = _FENCE_CLOSE.fullmatch(stripped)
    return indent <= 3 and close is not None and close[1][0] == fence[0] and len(close[1]) >= len(fence)


def _interrupts_paragraph(indent: int, stripped: str) -> bool:
    """Whether a line starts a block of its own rather than continuing a paragraph lazily."""
    return indent <= 3 and bool(
        _item_content_column(indent, stripped) is not None
        or _opens_fence(stripped)
        or stripped.startswith(">")
        or _ATX_HEADING.match(stripped)
        or _THEMATIC_BREAK.fullmatch(stripped)
    )


def close_open_fence(markdown: str) -> str:
    """``markdown`` with a closing fence added when it ends inside a top-level fenced code block.

    An assistant reply cut off in the middle of a code block would otherwise
    swallow the rest of the document.  Only top-level fences matter: one
    inside a list item or a block quote ends with its container, which the
    next block of the document (after a blank line, not indented) closes.
    The scan follows CommonMark's rules for fences, list items (with the lazy
    continuation of a paragraph in them) and quotes; rarer constructs are not
    modelled.
    """
    fence: str | None = None  # the opening run of the open top-level fence
    item_column: int | None = None  # content column of the open top-level list item
    item_fence: str | None = None  # a fence open inside that item
    in_paragraph = False  # the item's last line was paragraph text, which a less indented line may continue
    for raw in markdown.split("\n"):
        line = raw.expandtabs(4)
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is not None:
            if _closes_fence(stripped, indent, fence):
                fence = None
            continue
        if not stripped:
            in_paragraph = False
            continue  # a blank line
        if item_column is not None:
            if indent >= item_column:  # a line of the list item
                inner_indent = indent - item_column
                if item_fence is not None:
                    if _closes_fence(stripped, inner_indent, item_fence):
                        item_fence = None
                elif inner_indent <= 3 and (opened := _opens_fence(stripped)):
                    item_fence = opened
                    in_paragraph = False
                elif inner_indent <= 3 or in_paragraph:
                    in_paragraph = not (_ATX_HEADING.match(stripped) or _THEMATIC_BREAK.fullmatch(stripped))
                continue
            if in_paragraph and item_fence is None and not _interrupts_paragraph(indent, stripped):
                continue  # a lazy continuation line of the item's paragraph
        item_column, item_fence, in_paragraph = None, None, False
        if indent > 3 or stripped.startswith(">"):
            continue  # indented code or a block quote
        column = _item_content_column(indent, stripped)
        if column is not None:
            item_column = column
            content = line[column:] if len(line) > column else ""
            item_fence = _opens_fence(content.lstrip(" "))
            in_paragraph = bool(content.strip()) and item_fence is None
            continue
        fence = _opens_fence(stripped)
    if fence is None:
        return markdown
    return f"{markdown.rstrip(chr(10))}\n{fence}"
