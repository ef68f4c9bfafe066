"""Reads a session's events in insertion order, a batch at a time, and builds the timeline's blocks as they come.

Runs in a worker thread: each batch's blocks are handed over as soon as they
are built, and the next batch is read once they are painted, so the first
screen shows before the rest of a long session is read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from dasshh_history.data.browse import HistoryReader
from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.widgets.blocks import Block, BlockBuilder

#: (blocks, first, complete, keep_place, signature): hands blocks to the UI thread and waits until it has them.
HandOver = Callable[[list[Block], bool, bool, bool, "tuple[int, int | None] | None"], None]


def load_blocks(
    reader: HistoryReader,
    session_id: str,
    tz: tzinfo | None,
    *,
    refresh: bool,
    cancelled: Callable[[], bool],
    hand_over: HandOver,
    wait_for_paint: Callable[[], None],
) -> None:
    """Read and build a session's blocks, handing them over batch by batch; stops early once ``cancelled``.

    With ``refresh`` (the session changed on disk) everything is read first
    and handed over at once, to replace what is shown keeping the place in it.
    The last hand-over carries the session's signature as it was read.  A read
    that fails midway ends what was shown (it stays) and raises.
    """
    timeline = TimelineBuilder()
    blocks = BlockBuilder(tz)
    shown = False
    read: list[Block] = []
    signature = reader.session_signature(session_id=session_id)
    batches = reader.iter_event_batches(session_id=session_id)
    try:
        for batch in batches:
            new = blocks.add(timeline.add(batch))
            if cancelled():
                return
            if refresh:
                read.extend(new)
            elif new:
                hand_over(new, not shown, False, False, None)
                shown = True
                wait_for_paint()
    except Exception:
        if shown:  # what was read stays; the timeline stops waiting for more
            hand_over([], False, True, False, None)
        raise
    finally:
        batches.close()
    if cancelled():
        return
    rest = blocks.add(timeline.finish())
    if refresh:
        hand_over(read + rest, True, True, True, signature)
    else:
        hand_over(rest, not shown, True, False, signature)
