"""Full garbage collections wait for a pause in input."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dasshh_history.idle_gc import DUE, IDLE_AFTER, OVERDUE, IdleCollector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def collector() -> Iterator[tuple[IdleCollector, Clock]]:
    clock = Clock()
    collector = IdleCollector(clock)
    before = gc.get_threshold()
    collector.start()
    yield collector, clock
    collector.stop()
    assert gc.get_threshold() == before


def middle_collections(count: int) -> None:
    """Collections of the two young generations, each counting towards a full one."""
    for _ in range(count):
        gc.collect(1)


def test_python_no_longer_starts_full_collections(collector):
    young, middle, full = gc.get_threshold()
    assert full >= 1 << 30 and (young, middle) == gc.get_threshold()[:2]


def test_a_due_collection_waits_for_input_to_pause(collector):
    collector, clock = collector
    gc.collect()
    middle_collections(DUE)
    assert gc.get_count()[2] >= DUE
    collector.input_seen()
    clock.now += IDLE_AFTER / 2
    assert not collector.tick() and gc.get_count()[2] >= DUE  # typing: not now
    clock.now += IDLE_AFTER
    assert collector.tick() and gc.get_count()[2] == 0  # paused: collected


def test_nothing_runs_when_nothing_is_due(collector):
    collector, clock = collector
    gc.collect()
    clock.now += 10
    assert not collector.tick()


def test_an_overdue_collection_runs_even_during_input(collector):
    collector, clock = collector
    gc.collect()
    middle_collections(OVERDUE)
    collector.input_seen()
    assert collector.tick() and gc.get_count()[2] == 0

