"""Drawn lines (lists of Rich segments) restyled by character spans: search matches, masked secrets."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style

Span = tuple[int, int]


def restyle(line: list[Segment], styled: Sequence[Span], style: Style, removed: Sequence[Span] = ()) -> list[Segment]:
    """``line`` with the characters in ``styled`` spans given ``style`` on top of their own, and those in
    ``removed`` spans left out (positions count the text of the line's segments, control segments aside)."""
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


__all__ = ["restyle"]
