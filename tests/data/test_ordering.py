"""The session list's other orders: each one exactly, read once per state of the file, and never a byte written."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from dbutil import digest
from sortutil import EXPECTED, SESSIONS, write_sorted_history

from dasshh_history.data.client import DBClient
from dasshh_history.data.ordering import ORDER_SQL, SessionOrders
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.session import SessionService
from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return write_sorted_history(tmp_path / "sorted.db")


def test_the_orders_disagree_with_each_other_and_with_insertion():
    inserted = [session[0] for session in SESSIONS]
    orders = [inserted, *EXPECTED.values()]
    assert len({tuple(order) for order in orders}) == len(orders)
    assert all(sorted(order) == sorted(inserted) for order in orders)


@pytest.mark.parametrize("order", [ListOrder.ACTIVITY, ListOrder.CREATED, ListOrder.SIZE])
def test_each_order_lists_every_session_as_expected(history, order):
    client = DBClient(db_path=history)
    orders = SessionOrders(client)
    try:
        assert orders.ids(order) == EXPECTED[order]
    finally:
        orders.close()
        client.dispose()


def test_the_default_order_is_the_documented_services(history):
    client = DBClient(db_path=history)
    try:
        assert [s.id for s in SessionService(client).list_sessions()] == EXPECTED[DEFAULT_ORDER]
        assert DEFAULT_ORDER is ListOrder.UPDATED and DEFAULT_ORDER not in ORDER_SQL
    finally:
        client.dispose()


def test_last_activity_is_the_date_the_search_filters_compare(history, tmp_path):
    """``after:``/``before:`` and the order agree on every session's last activity (the cache's, worked out apart)."""
    client = DBClient(db_path=history)
    index = SearchIndex(client, path=tmp_path / "search.db")
    try:
        index.sync()
        inserted = [session[0] for session in SESSIONS]
        active = index.last_activity(inserted)
        assert active["j"] is None and active["b"] == active["i"]

        def latest_first(sid: str) -> tuple:
            when = active[sid]
            return (when is None, -(when - datetime(1970, 1, 1)).total_seconds() if when else 0, inserted.index(sid))

        assert sorted(inserted, key=latest_first) == EXPECTED[ListOrder.ACTIVITY]
    finally:
        index.close()
        client.dispose()


def test_an_order_is_read_again_once_another_connection_committed_and_not_before(history):
    client = DBClient(db_path=history)
    orders = SessionOrders(client)
    try:
        first = orders.ids(ListOrder.SIZE)
        assert orders.ids(ListOrder.SIZE) is first  # kept: nothing changed
        with sqlite3.connect(history) as conn:  # c, empty, gets eight messages: the largest
            conn.executemany("INSERT INTO events VALUES (?, 'x', 'c', '2026-03-10 00:00:00', '{}')",
                             [(f"c-{n}",) for n in range(8)])
        conn.close()
        again = orders.ids(ListOrder.SIZE)
        assert again[0] == "c" and again[1:] == [sid for sid in first if sid != "c"]
        assert orders.ids(ListOrder.ACTIVITY)[0] == "c"  # and its events are the latest
    finally:
        orders.close()
        client.dispose()


def test_sorting_writes_nothing_even_where_it_could(history):
    before = digest(history)
    client = DBClient(db_path=history)  # a writable client: the indexes are there already
    orders = SessionOrders(client)
    try:
        for order in ORDER_SQL:
            orders.ids(order)
    finally:
        orders.close()
        client.dispose()
    assert digest(history) == before
    assert not Path(f"{history}-journal").exists() and not Path(f"{history}-wal").exists()


def test_an_in_memory_history_is_read_at_each_call():
    client = DBClient(url="sqlite://")
    orders = SessionOrders(client)
    try:
        assert orders.ids(ListOrder.SIZE) == []
        SessionService(client).new_session("one")
        assert len(orders.ids(ListOrder.SIZE)) == 1
    finally:
        orders.close()
        client.dispose()
