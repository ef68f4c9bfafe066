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


def close_open_fence(markdown: str) -> str:
    """``markdown`` with a closing fence added when it ends inside a top-level fenced code block.

    An assistant reply cut off in the middle of a code block would otherwise
    swallow the rest of the document.  Only top-level fences matter: one
    inside a list item or a block quote ends with its container, which the
    next block of the document (after a blank line, not indented) closes.
    The scan follows CommonMark's rules for fences, list items and quotes;
    rarer constructs (lazy continuation lines) are not modelled.
    """
    fence: str | None = None  # the opening run of the open top-level fence
    item_column: int | None = None  # content column of the open top-level list item
    for raw in markdown.split("\n"):
        line = raw.expandtabs(4)
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if fence is not None:
            close = _FENCE_CLOSE.fullmatch(stripped)
            if indent <= 3 and close and close[1][0] == fence[0] and len(close[1]) >= len(fence):
                fence = None
            continue
        if not stripped or (item_column is not None and indent >= item_column):
            continue  # a blank line, or a line of the list item
        item_column = None
        if indent > 3 or stripped.startswith(">"):
            continue  # indented code or a block quote
        column = _item_content_column(indent, stripped)
        if column is not None:
            item_column = column
            continue
        opening = _FENCE_OPEN.fullmatch(stripped)
        if opening and not (opening[1][0] == "`" and "`" in opening[2]):  # no backtick in a backtick info string
            fence = opening[1]
    if fence is None:
        return markdown
    return f"{markdown.rstrip(chr(10))}\n{fence}"
