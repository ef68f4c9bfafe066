"""How the timeline takes a long session's blocks out of order: its end first, after a gap, then the rest.

The loader (:mod:`~dasshh_history.widgets.timeline_loader`) reads a long
session's end right after its first screen; the timeline shows it after a gap,
puts the blocks read next before the gap, and finally replaces the gap and
that end with the end read again.  Whatever comes in, the place on screen stays:
the cursor, the expanded blocks and the line at the top of the view follow
their block.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.padding import Padding
from rich.text import Text

from dasshh_history.widgets.blocks import Block, BlockTheme, Look

if TYPE_CHECKING:
    from textual.strip import Strip


class GapBlock(Block):
    """Where a session's middle goes while it is read, its end shown first."""

    selectable = False
    kind = "gap"

    def render(self, theme: BlockTheme, look: Look) -> RenderableType:
        text = Text("⋯ reading the events before these ⋯", style=f"italic {theme.muted}", justify="center")
        return Padding(text, (1, 0))

    def estimate_height(self, look: Look) -> int:
        return 3


class Splicing:
    """The timeline's methods that put blocks in place of others (mixed into ``Timeline``, whose state they use)."""

    _blocks: list[Block]
    _heights: list[int]
    _offsets: list[int]
    _cache: dict[int, tuple[int, list[Strip]]]
    _expanded: set[int]
    _raw: set[int]
    _render_width: int
    _reading: bool
    _follow_end: bool
    _gap: int | None  # the index of the gap, while a session's end is shown before its middle

    if TYPE_CHECKING:  # what Timeline has
        cursor: int
        scroll_y: float

        def _update_offsets(self) -> None: ...
        def _look(self, index: int | None = None) -> Look: ...
        def _next_selectable(self, start: int, step: int) -> int: ...
        def _invalidate(self, index: int) -> None: ...
        def _render_end(self) -> None: ...
        def action_last(self) -> None: ...
        def scroll_to(self, *, y: float, animate: bool, immediate: bool) -> None: ...
        def set_reactive(self, reactive: Any, value: Any) -> None: ...
        def refresh(self) -> Any: ...

    def show_end(self, blocks: list[Block]) -> None:
        """Show the session's last blocks after a gap, while the ones between are read (see ``append_blocks``).

        The blocks of the last screen are drawn now, so that End only has to scroll there.
        """
        if not self._reading or self._gap is not None:
            return
        self._gap = len(self._blocks)
        self._splice(self._gap, self._gap, [GapBlock(), *blocks])
        self._render_end()
        if self._follow_end:
            self.action_last()
        self.refresh()

    def _replace_around_gap(self, blocks: list[Block], *, complete: bool) -> None:
        """The session read again while its end is shown after a gap: the place stays at the start or at the end."""
        gap = self._gap or 0
        head = min(gap, len(blocks))
        self._gap = None
        self._splice(gap, len(self._blocks), blocks[head:])
        self._splice(0, gap, blocks[:head])
        self._reading = not complete
        self._follow_end = False

    def _splice(self, start: int, stop: int, blocks: list[Block]) -> None:
        """Put ``blocks`` in place of blocks ``start:stop``, keeping what is on screen where it is.

        Blocks before ``start`` keep their index, those from ``stop`` on move
        by the difference, and the replaced ones map onto the new ones counted
        from the last (they are the same events, read again).
        """
        delta = len(blocks) - (stop - start)
        count = len(self._blocks) + delta

        def moved(index: int) -> int:
            return index if index < start else min(max(start, index + delta), count - 1)

        top = int(self.scroll_y)
        anchor = bisect_right(self._offsets, top) - 1
        row = top - self._offsets[anchor] if 0 <= anchor < len(self._blocks) else None
        cursor = self.cursor
        self._blocks[start:stop] = blocks
        look = self._look()
        self._heights[start:stop] = [block.estimate_height(look) for block in blocks]
        self._cache = {moved(i): strips for i, strips in self._cache.items() if not start <= i < stop}
        self._expanded = {moved(i) for i in self._expanded if count}
        self._raw = {moved(i) for i in self._raw if count}
        self._update_offsets()
        if cursor >= 0 and count:
            index = moved(cursor)
            if not self._blocks[index].selectable:
                index = self._next_selectable(index, -1)
            if index != moved(cursor) or start <= cursor < stop:
                self._invalidate(index)  # another block: drawn as selected now
            self.set_reactive(type(self).cursor, index)
        if row is not None and anchor >= start and count:
            index = moved(anchor)
            self.scroll_to(y=self._offsets[index] + min(row, self._heights[index] - 1), animate=False, immediate=True)
        self.refresh()
