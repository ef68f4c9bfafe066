"""The event timeline: a virtual, lazily rendered list of blocks.

Only the blocks that come into view are rendered (to strips, cached per
width); the others count with an estimated height until then.  So a session of
thousands of events, or a result of megabytes, opens as fast as a short one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from rich.console import RenderableType
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from dasshh_history.domain.secret_marks import has_marks
from dasshh_history.widgets.block_theme import BlockTheme, block_theme
from dasshh_history.widgets.blocks import Block, Look
from dasshh_history.widgets.masked_style import style_masked
from dasshh_history.widgets.timeline_matches import Matches, highlight
from dasshh_history.widgets.timeline_splice import Splicing


class Timeline(Matches, Splicing, ScrollView, can_focus=True):
    """Scrollable timeline of one session's blocks with a cursor on one block."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Next", show=False),
        Binding("up,k", "cursor_up", "Previous", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("pageup,b", "page_up", "Page up", show=False),
        Binding("enter,o", "toggle", "Expand/collapse", key_display="enter"),
        Binding("t", "conversation", "Conversation view"),
        Binding("J", "raw", "Stored form"),
        Binding("left_square_bracket", "previous_turn", "Previous question", key_display="[", show=False),
        Binding("right_square_bracket", "next_turn", "Next question", key_display="]", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("escape", "back", "Sessions", show=False),
    ]

    COMPONENT_CLASSES = {"timeline--match", "timeline--secret"}

    cursor: reactive[int] = reactive(-1, init=False, always_update=True)

    class BackRequested(Message):
        """The user wants to return to the session list."""

    class NoMatch(Message):
        """n / N found no block matching the search in this session."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._blocks: list[Block] = []
        self._expanded: set[int] = set()
        self._heights: list[int] = []
        self._offsets: list[int] = [0]
        self._cache: dict[int, tuple[int, list[Strip]]] = {}  # block index: (its revision, its lines)
        self._raw: set[int] = set()  # blocks shown in their stored form
        self._compact = False  # the conversation view: tool calls and results on one line each
        self._render_width = 0
        self._placeholder: RenderableType | None = None
        self._reading = False  # more blocks of this session are on their way
        self._follow_end = False  # End was pressed while loading: stay on the last block
        self._gap: int | None = None  # the index of the gap before a session's end shown early (see Splicing)
        self._pattern: re.Pattern[str] | None = None  # search matches to highlight
        self._seek_match = False  # go to the first match as soon as it is loaded

    # -- content ---------------------------------------------------------------

    @property
    def blocks(self) -> list[Block]:
        return self._blocks

    @property
    def expanded(self) -> frozenset[int]:
        return frozenset(self._expanded)

    @property
    def complete(self) -> bool:
        """False while the session's later blocks are still being read."""
        return not self._reading

    def show_blocks(self, blocks: list[Block], *, complete: bool = True, keep_place: bool = False) -> None:
        """Replace the content; the cursor goes to the first selectable block.

        With ``complete=False`` more blocks follow through :meth:`append_blocks`.
        With ``keep_place`` (the same session, read again) the cursor, the
        expanded blocks and the scroll position stay; if the cursor was on the
        last block it moves to the new last one, so new messages come into view.
        """
        at_end = self.cursor >= 0 and self._next_selectable(self.cursor, 1) == self.cursor
        if keep_place and blocks and self._gap is not None and not at_end:
            self._replace_around_gap(list(blocks), complete=complete)
            return
        cursor, expanded, raw, scroll_y = self.cursor, self._expanded, self._raw, self.scroll_y
        self._placeholder = None
        self._blocks = list(blocks)
        self._expanded, self._raw = set(), set()
        self._reading = not complete
        self._follow_end = False
        self._gap = None
        if keep_place and self._blocks:
            self._expanded = {index for index in expanded if index < len(self._blocks)}
            self._raw = {index for index in raw if index < len(self._blocks)}
            self._reset_layout()
            if at_end:
                self.action_last()
                return
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
            self.set_reactive(Timeline.cursor, min(cursor, len(self._blocks) - 1))
            self.refresh()
            return
        self._reset_layout()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.cursor = self._next_selectable(-1, 1)
        self._find_pending_match(0)

    def append_blocks(self, blocks: list[Block], *, complete: bool) -> None:
        """Add the next blocks of the session being shown.

        After :meth:`show_end` they go before the gap; the last ones
        (``complete``) take the place of the gap and the end shown early (the
        same events, read again), keeping the place on screen.
        """
        start = len(self._blocks) if self._gap is None else self._gap
        self._splice(start, len(self._blocks) if complete else start, blocks)
        if self._gap is not None:
            self._gap = None if complete else self._gap + len(blocks)
        self._reading = not complete
        if self.cursor < 0:
            self.cursor = self._next_selectable(-1, 1)
        if self._follow_end:
            self.action_last()
        self._find_pending_match(start)
        self.refresh()

    def show_placeholder(self, renderable: RenderableType) -> None:
        """Show a message instead of blocks (empty states)."""
        self._blocks = []
        self._expanded, self._raw = set(), set()
        self._reading = self._follow_end = False
        self._gap = None
        self._placeholder = renderable
        self._reset_layout()
        self.cursor = -1

    def _reset_layout(self) -> None:
        self._cache.clear()
        width = self._content_width()
        self._render_width = width
        if self._placeholder is not None:
            self._cache[0] = (0, self._render(self._placeholder, width))
            self._heights = [len(self._cache[0][1])]
        else:
            look = self._look()
            self._heights = [block.estimate_height(look) for block in self._blocks]
        self._update_offsets()
        self.refresh()

    def _content_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _update_offsets(self) -> None:
        self._offsets = [0, *accumulate(self._heights)]
        self.virtual_size = Size(self._render_width, self._offsets[-1])

    # -- rendering ---------------------------------------------------------------

    def _theme(self) -> BlockTheme:
        return block_theme(self.app.theme_variables, dark=self.app.current_theme.dark, background=self.background_colors[1])

    def _look(self, index: int | None = None) -> Look:
        """How block ``index`` is drawn now (with no index: how every block is drawn before it is shown)."""
        if index is None:
            return Look(self._render_width, compact=self._compact)
        return Look(
            self._render_width,
            expanded=index in self._expanded,
            selected=index == self.cursor and self.has_focus,
            raw=index in self._raw,
            compact=self._compact,
        )

    def _render(self, renderable: RenderableType, width: int) -> list[Strip]:
        console = self.app.console
        options = console.options.update(width=width, highlight=False, markup=False, height=None)
        lines = console.render_lines(renderable, options, pad=True)
        return [Strip(line, width) for line in lines]

    def _strips(self, index: int) -> list[Strip]:
        block = self._blocks[index]
        cached = self._cache.get(index)
        if cached is not None and cached[0] == block.revision:
            return cached[1]
        strips = self._masked(self._render(block.render(self._theme(), self._look(index)), self._render_width))
        self._cache[index] = (block.revision, strips)
        if len(strips) != self._heights[index]:
            self._heights[index] = len(strips)
            self._update_offsets()
            self.refresh()
        return strips

    def _masked(self, strips: list[Strip]) -> list[Strip]:
        """A block's lines with its masked secrets drawn apart (README, "Privacy"), their marks removed."""
        if not any(has_marks(strip.text) for strip in strips):
            return strips
        style = self.get_component_rich_style("timeline--secret", partial=True)
        lines = style_masked([list(strip) for strip in strips], style)
        return [Strip(line, strip.cell_length) for line, strip in zip(lines, strips)]

    def _line_strips(self, line_no: int) -> tuple[list[Strip], int] | None:
        """The strips of the block under a virtual line, and the row within it."""
        if self._placeholder is not None:
            strips = self._cache[0][1]
            return (strips, line_no) if line_no < len(strips) else None
        for _attempt in range(4):  # rendering a block may correct its estimated height
            index = bisect_right(self._offsets, line_no) - 1
            if not 0 <= index < len(self._blocks):
                return None
            strips = self._strips(index)
            if bisect_right(self._offsets, line_no) - 1 == index:
                break
        row = line_no - self._offsets[index]
        return (strips, row) if 0 <= row < len(strips) else None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        found = self._line_strips(scroll_y + y)
        if found is None:
            return Strip.blank(width, style)
        strips, row = found
        strip = strips[row]
        if self._pattern is not None and self._placeholder is None:
            # Highlighted as drawn, so that a new search does not render the blocks again.
            match = self.get_component_rich_style("timeline--match", partial=True)
            strip = Strip(highlight(list(strip), self._pattern, match), strip.cell_length)
        strip = strip.crop_extend(scroll_x, scroll_x + width, style)
        return Strip(Segment.apply_style(strip, style), strip.cell_length).apply_offsets(scroll_x, scroll_y + y)

    def on_resize(self, event: events.Resize) -> None:
        if self._content_width() != self._render_width:
            self._reset_layout()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._reset_layout())

    # -- cursor --------------------------------------------------------------------

    def _next_selectable(self, start: int, step: int) -> int:
        index = start + step
        while 0 <= index < len(self._blocks):
            if self._blocks[index].selectable:
                return index
            index += step
        return start if 0 <= start < len(self._blocks) else -1

    def _invalidate(self, index: int) -> None:
        if 0 <= index < len(self._blocks):
            self._cache.pop(index, None)

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self._invalidate(self.cursor)  # the selected block is drawn heavier while focused
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self._invalidate(self.cursor)
        self.refresh()

    def watch_cursor(self, old: int, new: int) -> None:
        self._invalidate(old)
        self._invalidate(new)
        if new >= 0:
            self.scroll_to_block(new)
        self.refresh()
        self.refresh_bindings()

    def block_region(self, index: int) -> tuple[int, int]:
        """Top line and height of a block, rendering it to know its exact height."""
        self._strips(index)
        return self._offsets[index], self._heights[index]

    def scroll_to_block(self, index: int, *, top: bool = False) -> None:
        top_line, height = self.block_region(index)
        view = self.scrollable_content_region.height
        if top or top_line < self.scroll_y or height > view:
            self.scroll_to(y=top_line, animate=False, immediate=True)
        elif top_line + height > self.scroll_y + view:
            self.scroll_to(y=top_line + height - view, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._follow_end = False
        self.cursor = self._next_selectable(self.cursor, 1)

    def action_cursor_up(self) -> None:
        self._follow_end = False
        self.cursor = self._next_selectable(self.cursor, -1)

    def action_first(self) -> None:
        self._follow_end = False
        self.cursor = self._next_selectable(-1, 1)
        self.scroll_home(animate=False, immediate=True)

    def action_last(self) -> None:
        """Go to the last block; while the session is still loading, keep going there as blocks arrive."""
        self._follow_end = self._reading
        self._render_end()
        self.cursor = self._next_selectable(len(self._blocks), -1)
        self.scroll_end(animate=False, immediate=True)
        self.call_after_refresh(self._keep_at_end, self.cursor)

    def _keep_at_end(self, cursor: int) -> None:
        """Once the layout has settled, the end is still in view (blocks measured meanwhile may have grown)."""
        if self.cursor == cursor == self._next_selectable(len(self._blocks), -1) and self.scroll_y < self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True)

    def _render_end(self) -> None:
        """Render the blocks that fill the last screen, so that the end is the real one, not an estimate."""
        view, index = self.scrollable_content_region.height, len(self._blocks)
        while view > 0 and index > 0:
            index -= 1
            view -= len(self._strips(index))

    def _step_turn(self, step: int) -> None:
        """Go to the next (``step`` 1) or previous (-1) message of the user, its top at the top of the view."""
        index = self.cursor + step
        while 0 <= index < len(self._blocks):
            if self._blocks[index].kind == "user":
                self._follow_end = False
                self.cursor = index
                self.scroll_to_block(index, top=True)
                return
            index += step
        self.app.bell()

    def action_previous_turn(self) -> None:
        self._step_turn(-1)

    def action_next_turn(self) -> None:
        self._step_turn(1)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)

    def action_toggle(self) -> None:
        self.toggle(self.cursor)

    class ConversationToggled(Message):
        """``t`` turned the conversation view on or off (``on``)."""

        def __init__(self, on: bool) -> None:
            super().__init__()
            self.on = on

    @property
    def conversation_view(self) -> bool:
        """True while tool calls and results are drawn on one line each."""
        return self._compact

    @conversation_view.setter
    def conversation_view(self, on: bool) -> None:
        """Set before the timeline is mounted (the saved view); ``t`` toggles it later."""
        self._compact = on

    def action_conversation(self) -> None:
        """Toggle the conversation view, keeping the selected block in view."""
        self._compact = not self._compact
        self.post_message(self.ConversationToggled(self._compact))
        self._reset_layout()
        if self.cursor >= 0:
            self.scroll_to_block(self.cursor, top=True)
        self.refresh_bindings()

    def action_raw(self) -> None:
        """Show the selected block as stored (its JSON, its Markdown source), or readable again."""
        index = self.cursor
        if 0 <= index < len(self._blocks) and (self._blocks[index].has_raw or index in self._raw):
            self._raw.symmetric_difference_update({index})
            self._invalidate(index)
            self.scroll_to_block(index)
            self.refresh()
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Expand and the stored form are offered only on blocks that have them."""
        if action in ("toggle", "raw"):
            index = self.cursor
            if not 0 <= index < len(self._blocks):
                return False
            block = self._blocks[index]
            if action == "toggle":
                return block.expandable(self._look(index)) or index in self._expanded
            return block.has_raw or index in self._raw
        return True

    def action_back(self) -> None:
        self.post_message(self.BackRequested())

    def can_expand(self, index: int) -> bool:
        """Whether block ``index`` folds away rows at the current width (and so can expand)."""
        return 0 <= index < len(self._blocks) and self._blocks[index].expandable(self._look(index))

    def toggle(self, index: int) -> None:
        """Expand or collapse an expandable block."""
        if not (0 <= index < len(self._blocks)) or not self._blocks[index].expandable(self._look(index)):
            return
        self._expanded.symmetric_difference_update({index})
        self._invalidate(index)
        self.scroll_to_block(index)
        self.refresh()
        self.refresh_bindings()

    def on_click(self, event: events.Click) -> None:
        line_no = self.scroll_y + event.y
        index = bisect_right(self._offsets, line_no) - 1
        if 0 <= index < len(self._blocks) and self._blocks[index].selectable:
            self.cursor = index
            self.toggle(index)

