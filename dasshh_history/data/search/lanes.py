"""Work in lanes: chunks read on several connections at once, and written one at a time, in order.

A lane is a connection with a thread of its own (the first is the caller's).
Lane ``i`` of ``n`` takes chunks ``i``, ``i + n``, ... : it reads one (SQLite
lets other threads run meanwhile), waits for its turn, writes it, and goes on
to its next.  The chunks are written in their order, so what the writes make
is what one connection reading and writing each chunk in turn would make.

A lane that stops (``should_stop``) or fails stops the others: none waits
for a turn that would never come, the chunks written are the first ones, and
a failure is raised to the caller once every lane has ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

Lane = TypeVar("Lane")
Chunk = TypeVar("Chunk")


class _Turns:
    """Whose turn it is to write: chunk 0's, then 1's, and so on; or nobody's any more (a lane stopped, or
    failed: ``error``)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next = 0
        self.stopped = False
        self.error: BaseException | None = None

    def wait(self, chunk: int) -> bool:
        """Wait until ``chunk`` is to be written; False when the lanes stopped first."""
        with self._changed:
            self._changed.wait_for(lambda: self._next == chunk or self.stopped)
            return not self.stopped

    def written(self, chunk: int) -> None:
        with self._changed:
            self._next = chunk + 1
            self._changed.notify_all()

    def stop(self, error: BaseException | None = None) -> None:
        with self._changed:
            self.stopped = True
            self.error = self.error or error
            self._changed.notify_all()


def in_lanes(
    lanes: Sequence[Lane],
    chunks: Sequence[Chunk],
    read: Callable[[Lane, Chunk], int],
    write: Callable[[Lane, int, int], None],
    should_stop: Callable[[], bool] = lambda: False,
    *,
    name: str = "lane",
) -> None:
    """Read each of ``chunks`` in a lane (``read(lane, chunk)``: how many items it holds), and write it there
    in its turn (``write(lane, index, count)``).  ``should_stop`` is asked before each chunk is read, in every
    lane's thread.  Returns when every lane has ended; raises the first failure of any."""
    turns = _Turns()

    def run(lane: Lane, first: int) -> None:
        try:
            for index in range(first, len(chunks), len(lanes)):
                if should_stop() or turns.stopped:
                    break
                count = read(lane, chunks[index])
                if not turns.wait(index):
                    return
                try:
                    write(lane, index, count)
                finally:
                    turns.written(index)
            else:
                return
            turns.stop()  # stopped: the lanes waiting for a later turn stop too
        except BaseException as exc:
            turns.stop(exc)

    threads = [threading.Thread(target=run, args=(lane, first), name=f"{name}-{first}", daemon=True)
               for first, lane in enumerate(lanes) if first > 0]
    for thread in threads:
        thread.start()
    if lanes:
        run(lanes[0], 0)
    for thread in threads:
        thread.join()
    if turns.error is not None:
        raise turns.error


__all__ = ["in_lanes"]
