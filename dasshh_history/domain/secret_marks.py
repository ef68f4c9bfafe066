"""Invisible marks around each masked secret in what the timeline shows, so that it can be drawn apart.

The timeline masks likely secrets in an event's stored value before it is
parsed and drawn (``ghp_…9f3a``, see
:func:`~dasshh_history.domain.stored_secrets.mask_value`); the value then goes
through JSON decoding, Markdown, syntax highlighting and wrapping like any
other text.  To know afterwards where each masked secret is, it is put
between two marks made of zero-width characters (Rich counts them 0 cells, so
the layout is the one the masked text alone would have), which the timeline
finds in the drawn lines, removes, and replaces by a style.

Data is never markup: a mark is ``U+2062`` (open) or ``U+2063`` (close)
followed by :data:`NONCE_LENGTH` characters of ``U+2061``/``U+2064`` drawn at
random when the program starts, so no stored text can hold one (it would have
to guess 32 random bits); what looks like a mark and is not one is left as it
is.  A mark cut in two (a line truncated inside it, an ellipsis after it) is removed too.

Pure: the standard library only.
"""

from __future__ import annotations

import os
import re

#: Random zero-width characters in each mark.
NONCE_LENGTH = 32
_NONCE = "".join("\u2061\u2064"[bit] for bit in (
    (int.from_bytes(os.urandom(4)) >> shift) & 1 for shift in range(NONCE_LENGTH)))
#: Before a masked secret.
OPEN = "\u2062" + _NONCE
#: After it.
CLOSE = "\u2063" + _NONCE
#: The first character of either mark: a quick test (text without it holds none).
_STARTS = ("\u2062", "\u2063")
# A whole mark, or a piece of one at the end or the start of a (cut) text.
_MARKS = re.compile(
    f"{re.escape(OPEN)}|{re.escape(CLOSE)}"
    f"|[\u2062\u2063][\u2061\u2064]{{0,{NONCE_LENGTH - 1}}}(?=…?$)|^[\u2061\u2064]{{1,{NONCE_LENGTH}}}(?=[^\u2061\u2064]|$)"
)


def mark(masked: str) -> str:
    """``masked`` (a masked secret) between the marks."""
    return f"{OPEN}{masked}{CLOSE}"


def has_marks(text: str) -> bool:
    """Whether ``text`` may hold a mark (or a piece of one)."""
    return _STARTS[0] in text or _STARTS[1] in text


def unmark(text: str) -> str:
    """``text`` without marks: what is copied, paged, searched."""
    if not has_marks(text):
        return text
    return text.replace(OPEN, "").replace(CLOSE, "")


def marked_spans(text: str, inside: bool = False) -> tuple[list[tuple[int, int]], list[tuple[int, int]], bool]:
    """Where the marks in ``text`` are (to remove) and what they enclose (to style), as spans of ``text``.

    ``inside``: ``text`` continues a masked secret (a line after the one where
    it was opened); the last value says whether the text ends inside one.
    """
    removed: list[tuple[int, int]] = []
    styled: list[tuple[int, int]] = []
    start = 0 if inside else None
    for found in _MARKS.finditer(text):
        low, high = found.span()
        if low == high:
            continue
        removed.append((low, high))
        piece = found.group()
        if piece == OPEN:
            if start is None:
                start = high
        elif piece == CLOSE:
            if start is not None and low > start:
                styled.append((start, low))
            start = None
    if start is not None and start < len(text):
        styled.append((start, len(text)))
    return removed, styled, start is not None
