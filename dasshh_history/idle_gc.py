"""Full garbage collections only while nobody is typing.

A full collection looks at every object the app holds: with a large session
open it took 20 to 45 ms, and one falling on a keystroke made that key take
over 100 ms.  The young generations are still collected as Python does it (a
few milliseconds at most); full collections wait until input has paused, or
until they are far overdue.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Input must have paused this long (seconds) before a full collection runs.
IDLE_AFTER = 0.5
#: A full collection is due after this many collections of the middle generation (Python's own threshold).
DUE = 10
#: Past this many it runs even while input goes on, so that memory stays bounded.
OVERDUE = 100
#: What the third threshold is set to: Python never starts a full collection by itself.
_NEVER = 1 << 30


class IdleCollector:
    """Holds off Python's full collections while :meth:`input_seen` is called; :meth:`tick` runs them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_input = clock()
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._saved is None:
            self._saved = gc.get_threshold()
            young, middle, _ = self._saved
            gc.set_threshold(young, middle, _NEVER)

    def stop(self) -> None:
        """Python collects as it did before :meth:`start`."""
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def input_seen(self) -> None:
        self._last_input = self._clock()

    def tick(self) -> bool:
        """Run a full collection if one is due and input has paused (or it is overdue); whether it ran."""
        due = gc.get_count()[2]
        if due >= OVERDUE or (due >= DUE and self._clock() - self._last_input >= IDLE_AFTER):
            gc.collect()
            return True
        return False
