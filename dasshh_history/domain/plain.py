"""Markdown source as the words a reader sees: the syntax taken out, for search snippets.

Headings, emphasis, code spans and fences, links, list bullets, quotes and
table pipes are removed; their words are kept, a link's text but not its URL,
code's content but not its fences.  It reads Markdown line by line, so a piece
cut out of a longer text (a snippet's window) reads as well as the whole.
Text that is not Markdown mostly passes unchanged: ``snake_case``, ``a * b``,
``f(*args, **kwargs)``, ``[b]tags[/b]``, ``a[0][1]`` and shell pipes are kept.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[^`]*")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_=])(?:[ \t]*\1){2,}[ \t]*")  # also a setext heading's underline
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]+|$)")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")
_QUOTE = re.compile(r" {0,3}(?:>[ \t]?)+")
_BULLET = re.compile(r"([ \t]*)[-+*][ \t]+(?:\[[ xX]\][ \t]+)?")
_TABLE_DELIMITER = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*")
_CELL_PIPE = re.compile(r"(?<!\\)\|")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\[\]]*)\]\(\s*<?[^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>")
_EMPHASIS = (
    re.compile(r"(?<![\w*\\])(\*\*\*|\*\*|\*)(?=[^\s*])(.+?)(?<=[^\s*\\])\1(?![\w*])"),
    re.compile(r"(?<![\w_\\])(___|__|_)(?=[^\s_])(.+?)(?<=[^\s_\\])\1(?![\w_])"),
    re.compile(r"(?<![~\\])(~~)(?=[^\s~])(.+?)(?<=[^\s~\\])\1(?!~)"),  # not one ~: paths (~/a:~/b)
)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def plain(markdown: str) -> str:
    """``markdown`` without its syntax, line for line (fence, break and delimiter lines become empty)."""
    lines: list[str] = []
    fence: str | None = None  # the open fence's characters, inside a code block
    for line in markdown.split("\n"):
        opened = _FENCE.fullmatch(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence) and not line.strip(
                " \t" + fence[0]
            ):
                fence = None
                lines.append("")
            else:
                lines.append(line)  # code: as it is
        elif opened:
            fence = opened.group(1)
            lines.append("")
        else:
            lines.append(_plain_line(line))
    return "\n".join(lines)


def _plain_line(line: str) -> str:
    if _THEMATIC_BREAK.fullmatch(line) or _TABLE_DELIMITER.fullmatch(line):
        return ""
    line = _QUOTE.sub("", line, count=1) if line.lstrip(" ").startswith(">") else line
    if heading := _HEADING.match(line):
        line = _CLOSING_HASHES.sub("", line[heading.end():])
    line = _BULLET.sub(r"\1", line, count=1) if _BULLET.match(line) else line
    if line.lstrip().startswith("|"):  # a table row: its cells, apart
        line = " ".join(cell.strip() for cell in _CELL_PIPE.split(line.strip().strip("|")))
    # Code spans keep their content literally; the rest loses links, emphasis and escapes.
    parts: list[str] = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        parts.extend([_inline(line[last:span.start()]), span.group(2).strip(" ") or span.group(2)])
        last = span.end()
    parts.append(_inline(line[last:]))
    return "".join(parts)


def _inline(text: str) -> str:
    """Text outside code spans without links' targets, emphasis markers and backslash escapes."""
    if "[" in text:
        text = _IMAGE_OR_LINK.sub(r"\1", text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\1", text)
    for pattern in _EMPHASIS:
        text = _strip_emphasis(pattern, text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return text


def _strip_emphasis(pattern: re.Pattern[str], text: str) -> str:
    """Markers off, innermost last (``***a***``, ``**a _b_**``), a few rounds at most."""
    for _ in range(3):
        stripped = pattern.sub(r"\2", text)
        if stripped == text:
            break
        text = stripped
    return text
