"""``s`` sorts the session list: by last update, last activity, creation, size; kept through refreshes and searches."""

from __future__ import annotations

import io

from rich.console import Console
from sortutil import EXPECTED, KIWI, write_sorted_history
from test_live_refresh import message, write_from_another_process
from textual.widgets._footer import FooterKey
from uiutil import settle, wait_for

from dasshh_history.domain.order import ListOrder
from dasshh_history.screens.help import HelpScreen, keys_table


def listed(app) -> list[str]:
    return [s.id for s in app.browser.session_list.summaries]


def sorted_as(app, order: ListOrder, total: int = 10, what: str = "Sessions"):
    """A condition: the list shows its sessions in ``order``, and its title says so."""

    def check() -> bool:
        return app.browser.session_list.border_title == f"{what} ({total}) · {order.label}"

    return check


async def test_s_cycles_the_orders_and_the_title_says_which(tmp_path, make_app):
    path = write_sorted_history(tmp_path / "sorted.db")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        session_list = app.browser.session_list
        assert session_list.border_title == "Sessions (10) · by last update"
        assert listed(app) == EXPECTED[ListOrder.UPDATED]
        await pilot.press("j", "j")  # on g
        await settle(pilot)
        assert session_list.current.id == "g"
        titles = []
        for order in (ListOrder.ACTIVITY, ListOrder.CREATED, ListOrder.SIZE, ListOrder.UPDATED):
            await pilot.press("s")
            await wait_for(pilot, sorted_as(app, order))
            await settle(pilot)
            titles.append(session_list.border_title)
            assert listed(app) == EXPECTED[order], order
            # The highlight stays on its session, wherever the order puts it; so does the timeline.
            assert session_list.current.id == "g" and session_list.highlighted == EXPECTED[order].index("g")
            assert app.browser.displayed_session_id == "g"
        assert titles == ["Sessions (10) · by last activity", "Sessions (10) · by creation",
                          "Sessions (10) · by size", "Sessions (10) · by last update"]


async def test_the_order_is_kept_while_moving_opening_and_searching(tmp_path, make_app):
    path = write_sorted_history(tmp_path / "sorted.db")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s", "s", "s")  # by size
        await wait_for(pilot, sorted_as(app, ListOrder.SIZE))
        await pilot.press("g", "j", "enter", "escape", "k", "j", "j")
        await settle(pilot)
        assert app.browser.session_list.current.id == EXPECTED[ListOrder.SIZE][2]
        assert app.browser.session_list.border_title == "Sessions (10) · by size"
        # A search lists its results in that order, as many as in any other.
        await pilot.press("slash", *"kiwi")
        await wait_for(pilot, sorted_as(app, ListOrder.SIZE, total=len(KIWI), what="Search"))
        await settle(pilot)
        assert listed(app) == [sid for sid in EXPECTED[ListOrder.SIZE] if sid in KIWI] == ["h", "b", "e", "d", "i"]
        await pilot.press("tab")  # in the search box, s is a letter typed
        await settle(pilot)
        assert app.focused is app.browser.session_list and app.browser.search_query.text == "kiwi"
        await pilot.press("s")  # sorting while the search is listed: its results in the next order
        await wait_for(pilot, sorted_as(app, ListOrder.UPDATED, total=len(KIWI), what="Search"))
        await settle(pilot)
        assert listed(app) == ["d", "i", "b", "h", "e"]
        await pilot.press("s")
        await wait_for(pilot, sorted_as(app, ListOrder.ACTIVITY, total=len(KIWI), what="Search"))
        await settle(pilot)
        assert listed(app) == ["b", "i", "d", "e", "h"]
        await pilot.press("escape")  # the search cleared: every session, still by last activity
        await wait_for(pilot, sorted_as(app, ListOrder.ACTIVITY))
        await settle(pilot)
        assert listed(app) == EXPECTED[ListOrder.ACTIVITY]


async def test_live_refresh_keeps_the_order_and_the_highlighted_session(tmp_path, make_app):
    path = write_sorted_history(tmp_path / "sorted.db")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await wait_for(pilot, sorted_as(app, ListOrder.ACTIVITY))
        session_list = app.browser.session_list
        assert session_list.current.id == "d"  # where sorting left it: dasshh's session, first by last update
        await pilot.press("g", "j", "j", "j", "j", "j")
        await settle(pilot)
        assert session_list.current.id == "f" and session_list.highlighted == 5
        # dasshh, in another terminal, writes to h (updated_at unchanged): h is now the most active.
        write_from_another_process(
            path,
            ("INSERT INTO events VALUES ('h-late', 'inv', 'h', '2026-03-20 00:00:00', ?)", [message("user", "late")]),
        )
        await wait_for(pilot, lambda: session_list.summary_at(0) is not None and session_list.summary_at(0).id == "h")
        await settle(pilot)
        assert listed(app) == ["h", "b", "i", "g", "a", "c", "f", "d", "e", "j"]
        assert session_list.border_title == "Sessions (10) · by last activity"
        assert session_list.current.id == "f" and session_list.highlighted == 6


async def test_s_is_in_the_footer_and_the_help(tmp_path, make_app):
    path = write_sorted_history(tmp_path / "sorted.db")
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        keys = [key for key in app.screen.query(FooterKey) if key.action == "screen.sort"]
        assert len(keys) == 1 and keys[0].display
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(keys_table(app.screen.sections))
        assert any(line.split() == ["s", "Sort"] for line in console.export_text().splitlines())


async def test_sorting_and_searching_in_order_leave_every_byte_of_the_history(tmp_path, make_app):
    from exportutil import digest

    path = write_sorted_history(tmp_path / "sorted.db")  # the browser's indexes are in it already
    before = digest(path)
    app = make_app(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for order in (ListOrder.ACTIVITY, ListOrder.CREATED, ListOrder.SIZE):
            await pilot.press("s")
            await wait_for(pilot, sorted_as(app, order))
            await pilot.press("j", "G", "g")
        await pilot.press("slash", *"kiwi")
        await wait_for(pilot, sorted_as(app, ListOrder.SIZE, total=len(KIWI), what="Search"))
        await pilot.press("escape", "s")
        await wait_for(pilot, sorted_as(app, ListOrder.UPDATED))
        await settle(pilot)
    assert digest(path) == before


async def test_a_slow_order_is_announced_and_a_failed_one_leaves_the_list_as_it_was(tmp_path, make_app):
    import threading

    from sqlalchemy.exc import OperationalError
    from uiutil import said

    path = write_sorted_history(tmp_path / "sorted.db")
    app = make_app(path)
    orders = app.browser.listing.orders
    read = orders.ids
    release = threading.Event()
    fail = threading.Event()

    def slow_ids(order):
        release.wait(10)
        if fail.is_set():
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return read(order)

    orders.ids = slow_ids
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        session_list = app.browser.session_list
        await pilot.press("s")
        await wait_for(pilot, lambda: session_list.border_title == "Sessions (10) · sorting by last activity…")
        assert listed(app) == EXPECTED[ListOrder.UPDATED]  # the list as it was until the order is read
        release.set()
        await wait_for(pilot, sorted_as(app, ListOrder.ACTIVITY))
        await settle(pilot)
        assert listed(app) == EXPECTED[ListOrder.ACTIVITY]
        release.clear()
        fail.set()
        await pilot.press("s")
        await wait_for(pilot, lambda: session_list.border_title == "Sessions (10) · sorting by creation…")
        release.set()
        await wait_for(pilot, lambda: any("database is locked" in text for text in said(app)))
        await settle(pilot)
        # The list stays in the order it shows, and says so; the next s goes on from there.
        assert session_list.border_title == "Sessions (10) · by last activity"
        assert listed(app) == EXPECTED[ListOrder.ACTIVITY] and app.browser.list_order is ListOrder.ACTIVITY
        fail.clear()
        await pilot.press("s")
        await wait_for(pilot, sorted_as(app, ListOrder.CREATED))
