"""Reads a session's events in insertion order, a batch at a time, and builds the timeline's blocks as they come.

Runs in a worker thread: each batch's blocks are handed over as soon as they
are built, and the next batch is read once they are painted, so the first
screen shows before the rest of a long session is read.

A long session's end is read right after its first screen (its last events,
from an invocation's start) and shown after a gap, so that End shows the last
event at once; the rest goes before the gap as it is read.  The whole read
builds that end again, numbered from the session's start, and replaces the
one shown early: the timeline ends up as a plain read builds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import NamedTuple

from dasshh_history.data.browse import HistoryReader
from dasshh_history.domain.parse import TimelineBuilder
from dasshh_history.domain.stored_secrets import mask_value
from dasshh_history.errors import DB_ERRORS
from dasshh_history.widgets.blocks import Block, BlockBuilder

#: (blocks, first, complete, keep_place, signature, end): hands blocks to the UI thread and waits until it has
#: them.  ``end``: they are the session's end, read early, to show after a gap.
HandOver = Callable[[list[Block], bool, bool, bool, "tuple[int, int | None] | None", bool], None]

#: Rows in the first hand-over (the first screen), then in each of the next ones.
FIRST, BATCH = 100, 1000
#: Events read for a session's end (more to start at an invocation's start); sessions with no more than
#: LONG events are read to their end without it.
END_EVENTS = 100
LONG = FIRST + BATCH


def load_blocks(
    reader: HistoryReader,
    session_id: str,
    tz: tzinfo | None,
    *,
    refresh: bool,
    cancelled: Callable[[], bool],
    hand_over: HandOver,
    wait_for_paint: Callable[[], None],
    mask: bool = False,
) -> None:
    """Read and build a session's blocks, handing them over batch by batch; stops early once ``cancelled``.

    With ``refresh`` (the session changed on disk) everything is read first
    and handed over at once, to replace what is shown keeping the place in it.
    Otherwise a long session's end is handed over after its first screen (see
    the module's doc).  The last hand-over carries the session's signature as
    it was read.  A read that fails midway ends what was shown
    (the start read so far stays, the end shown early goes) and raises.
    """
    timeline = TimelineBuilder()
    blocks = BlockBuilder(tz)
    shown = False
    read: list[Block] = []  # built, not handed over yet
    end_start: int | None = None  # the rowid where the end shown early starts
    reached = False  # the read is past end_start
    end: list[Block] = []  # that end, built again by the whole read
    signature = reader.session_signature(session_id=session_id)
    batches = reader.iter_event_batches(session_id=session_id, first=FIRST, size=BATCH)
    try:
        for rows in batches:
            if mask:
                rows = masked(rows)
            if end_start is None:
                read.extend(blocks.add(timeline.add(rows)))
            else:
                read.extend(blocks.add(timeline.add([row for row in rows if row.rowid < end_start])))
                later = [row for row in rows if row.rowid >= end_start]
                if later and not reached:
                    read.extend(blocks.add(timeline.finish()))  # the end starts an invocation
                    reached = True
                end.extend(blocks.add(timeline.add(later)))
            if cancelled():
                return
            if refresh or not read:
                continue
            hand_over(read, not shown, False, False, None, False)
            first, shown, read = not shown, True, []
            wait_for_paint()
            if first and signature[0] > LONG:
                end_start = _show_end(reader, session_id, tz, rows[-1].rowid, hand_over, mask)
                if end_start is not None:
                    wait_for_paint()
    except Exception:
        if shown:  # what was read stays; the timeline stops waiting for more
            hand_over(read, False, True, False, None, False)
        raise
    finally:
        batches.close()
    if cancelled():
        return
    rest = blocks.add(timeline.finish())
    if refresh:
        hand_over(read + rest, True, True, True, signature, False)
    else:  # after an end shown early, these take the place of the gap and that end
        hand_over(read + end + rest, not shown, True, False, signature, False)


def _show_end(
    reader: HistoryReader, session_id: str, tz: tzinfo | None, read_to: int, hand_over: HandOver, mask: bool = False
) -> int | None:
    """Read, build and hand over a session's end; the rowid it starts at.

    Its calls are numbered from an SQL count of the calls before it, which the
    whole read checks (the end it builds replaces this one).  None, and nothing
    handed over, when the end overlaps what is read or cannot be read: it then
    comes with the whole read, which says what fails.
    """
    try:
        rows = reader.read_tail(session_id=session_id, at_least=END_EVENTS)
        if not rows or rows[0].rowid <= read_to:
            return None
        calls_before = reader.count_tool_calls(session_id=session_id, before_rowid=rows[0].rowid)
    except DB_ERRORS:
        return None
    builder = TimelineBuilder()
    if mask:
        rows = masked(rows)
    hand_over(BlockBuilder(tz, calls_before=calls_before).add(builder.add(rows) + builder.finish()),
              False, False, False, None, True)
    return rows[0].rowid


class _MaskedEvent(NamedTuple):
    rowid: int
    id: str
    invocation_id: str | None
    created_at: object
    content: object


def masked(rows: Sequence) -> list:
    """The rows with every likely secret in their content shown masked (``ghp_…9f3a``): the timeline's
    default (README, "Privacy"); rows without one are kept as they are."""
    out = []
    for row in rows:
        content = mask_value(row.content)
        out.append(row if content is row.content else
                   _MaskedEvent(row.rowid, row.id, row.invocation_id, row.created_at, content))
    return out
