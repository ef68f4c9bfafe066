"""Masked secrets drawn apart: the invisible marks around them (see
:mod:`~dasshh_history.domain.secret_marks`) found in drawn lines, removed, and what they enclose restyled.

The marks take no cells, so removing them leaves every line as wide as it
was drawn.  A masked secret wrapped over two lines is styled on both.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style

from dasshh_history.domain.secret_marks import has_marks, marked_spans


def style_masked(lines: list[list[Segment]], style: Style) -> list[list[Segment]]:
    """Drawn lines (one block's, in order) with the marks removed and the masked secrets in ``style``."""
    inside = False
    result = []
    for line in lines:
        text = "".join(segment.text for segment in line if not segment.control)
        if not inside and not has_marks(text):
            result.append(line)
            continue
        removed, styled, inside = marked_spans(text, inside)
        result.append(_restyle(line, removed, styled, style) if removed or styled else line)
    return result


def _restyle(line: list[Segment], removed: list[tuple[int, int]], styled: list[tuple[int, int]],
             style: Style) -> list[Segment]:
    points = {p for span in (*removed, *styled) for p in span}
    out: list[Segment] = []
    position = 0
    for segment in line:
        text, seg_style, control = segment
        if control:
            out.append(segment)
            continue
        end = position + len(text)
        cuts = sorted({position, end, *(p for p in points if position < p < end)})
        for low, high in zip(cuts, cuts[1:]):
            if any(a <= low and high <= b for a, b in removed):
                continue
            piece = text[low - position:high - position]
            if any(a <= low and high <= b for a, b in styled):
                out.append(Segment(piece, seg_style + style if seg_style else style))
            else:
                out.append(Segment(piece, seg_style))
        position = end
    return out
