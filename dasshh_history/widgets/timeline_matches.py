"""The timeline's search matches: highlighted as drawn, gone to with n / N, counted ("match 2 of 5").

A mixin of ``Timeline``: the state it uses (blocks, cursor, the pattern) is
the timeline's.  Which blocks match is asked of each block's ``search_text``
at every step, so that a session still being read counts what has arrived.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.segment import Segment
from rich.style import Style
from textual.message import Message

from dasshh_history.domain.secret_marks import unmark
from dasshh_history.widgets.blocks import Block, Look
from dasshh_history.widgets.segments import restyle


class MatchStep(Message):
    """n / N went to a match: its place among the session's matches, and whether the search wrapped around."""

    def __init__(self, position: int, total: int, *, wrapped: bool, forward: bool, more_coming: bool) -> None:
        super().__init__()
        self.position = position
        self.total = total
        self.wrapped = wrapped
        self.forward = forward
        self.more_coming = more_coming  # the session is still being read: more matches may follow

    @property
    def text(self) -> str:
        """``match 2 of 5``, and when the search wrapped, where it went on from."""
        total = f"{self.total:,}{'+' if self.more_coming else ''}"
        said = f"Match {self.position:,} of {total}"
        if self.wrapped:
            said += " · wrapped to the first" if self.forward else " · wrapped to the last"
        return said


class Matches:
    """Search matches in the timeline (mixed into ``Timeline``, whose state it uses)."""

    _blocks: list[Block]
    _expanded: set[int]
    _reading: bool
    _follow_end: bool
    _gap: int | None
    _pattern: re.Pattern[str] | None
    _seek_match: bool

    if TYPE_CHECKING:  # what Timeline has
        cursor: int

        class NoMatch(Message): ...

        def _look(self, index: int | None = None) -> Look: ...
        def _invalidate(self, index: int) -> None: ...
        def scroll_to_block(self, index: int, *, top: bool = False) -> None: ...
        def post_message(self, message: Message) -> bool: ...
        def refresh(self) -> Any: ...

    @property
    def search_pattern(self) -> re.Pattern[str] | None:
        """What is highlighted as search matches."""
        return self._pattern

    def set_search(self, pattern: re.Pattern[str] | None, *, seek: bool = False) -> None:
        """Highlight what ``pattern`` finds; with ``seek``, go to the first matching block (once it is loaded)."""
        self._pattern = pattern
        self._seek_match = seek and pattern is not None
        self._find_pending_match(0)
        self.refresh()

    def is_match(self, index: int) -> bool:
        pattern = self._pattern
        return pattern is not None and 0 <= index < len(self._blocks) and bool(
            pattern.search(unmark(self._blocks[index].search_text))
        )

    def _find_pending_match(self, start: int) -> None:
        if not self._seek_match:
            return
        loaded = len(self._blocks) if self._gap is None else self._gap  # the first match is not in the end shown early
        found = next((i for i in range(start, loaded) if self.is_match(i)), None)
        if found is not None:
            self._seek_match = False
            self._go_to_match(found)
        elif not self._reading and self._blocks:
            self._seek_match = False  # only the title matched

    def _go_to_match(self, index: int) -> None:
        self._follow_end = False
        block = self._blocks[index]
        if block.expandable(self._look(index)) and index not in self._expanded:
            self._expanded.add(index)  # the match may be in the hidden part
            self._invalidate(index)
        self.cursor = index
        self.scroll_to_block(index, top=True)

    def _step_match(self, step: int) -> None:
        """Go to the next (``step`` 1) or previous (-1) matching block, round the session's ends; say where it is."""
        matches = [index for index in range(len(self._blocks)) if self.is_match(index)]
        if not matches:
            self.post_message(self.NoMatch())
            return
        cursor = self.cursor
        if step > 0:
            ahead = [index for index in matches if index > cursor]
            target, wrapped = (ahead[0], False) if ahead else (matches[0], cursor >= 0)
        else:
            behind = [index for index in matches if 0 <= index < cursor]
            target, wrapped = (behind[-1], False) if behind else (matches[-1], cursor >= 0)
        wrapped = wrapped and target != cursor  # on the only match, n stays there: nothing wrapped
        self._go_to_match(target)
        self.post_message(MatchStep(matches.index(target) + 1, len(matches), wrapped=wrapped, forward=step > 0,
                                    more_coming=self._reading))

    def action_next_match(self) -> None:
        self._step_match(1)

    def action_previous_match(self) -> None:
        self._step_match(-1)


def highlight(line: list[Segment], pattern: re.Pattern[str], style: Style) -> list[Segment]:
    """A rendered line with what ``pattern`` finds restyled (matches within one line only)."""
    text = "".join(segment.text for segment in line)
    spans = [match.span() for match in pattern.finditer(text) if match.end() > match.start()]
    return restyle(line, spans, style) if spans else line
