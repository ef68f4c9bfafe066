"""Masked secrets drawn apart: the invisible marks around them (see
:mod:`~dasshh_history.domain.secret_marks`) found in drawn lines, removed, and what they enclose restyled.

The marks take no cells, so removing them leaves every line as wide as it
was drawn.  A masked secret wrapped over two lines (a private key's
``-----BEGIN RSA PRIVATE KEY-----…`` on a narrow pane) is styled on both,
the block's frame and padding left out.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from dasshh_history.domain.secret_marks import has_marks, marked_spans
from dasshh_history.widgets.segments import restyle


def style_masked(lines: list[list[Segment]], style: Style) -> list[list[Segment]]:
    """Drawn lines (one block's, in order) with the marks removed and the masked secrets in ``style``."""
    inside = False
    result = []
    for line in lines:
        text = "".join(segment.text for segment in line if not segment.control)
        if not inside and not has_marks(text):
            result.append(line)
            continue
        continued = inside
        removed, styled, inside = marked_spans(text, inside)
        if styled and continued and styled[0][0] == 0:  # wrapped: from where the text starts, after the frame
            styled[0] = (_text_start(text, styled[0][1]), styled[0][1])
        if styled and inside and styled[-1][1] == len(text):  # to where the text ends, before the frame
            styled[-1] = (styled[-1][0], _text_end(text, styled[-1][0]))
        styled = [(a, b) for a, b in styled if a < b]
        result.append(restyle(line, styled, style, removed) if removed or styled else line)
    return result


def _frame(char: str) -> bool:
    """Part of a block's frame or padding (spaces, box drawing), not of its text."""
    return char.isspace() or "\u2500" <= char <= "\u257f"


def _text_start(text: str, stop: int) -> int:
    start = 0
    while start < stop and _frame(text[start]):
        start += 1
    return start


def _text_end(text: str, start: int) -> int:
    end = len(text)
    while end > start and (_frame(text[end - 1]) or "\u2061" <= text[end - 1] <= "\u2064"):
        end -= 1
    return end
