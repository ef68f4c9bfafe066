"""The search box above the session list, and the line that says what it found."""

from __future__ import annotations

from typing import Self

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Input, Static


class SearchInput(Input):
    """The query; Escape closes the search, Down and Up move the list's highlight."""

    BINDINGS = [
        Binding("escape", "close", "Clear search", show=False),
        Binding("down", "move(1)", "Next result", show=False),
        Binding("up", "move(-1)", "Previous result", show=False),
    ]

    class Closed(Message):
        """Escape: clear the search and show every session again."""

    class Move(Message):
        """Move the session list's highlight while typing."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class Typed(Message):
        """The query changed.  Sent to the screen directly rather than bubbled up through the containers
        (as ``Input.Changed`` is, one hop per container): the search starts before the echo is drawn."""

        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    def watch_value(self, value: str) -> None:
        self.screen.post_message(self.Typed(value))

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """Never a layout: the box's size does not depend on its text (its height and width are fixed by the
        stylesheet).  ``Input`` asks for one at every keystroke (its virtual size follows the text), and a
        layout of the whole screen cost 5-10 ms of the UI thread per key, while the search ran."""
        return super().refresh(*regions, repaint=repaint, layout=False, recompose=recompose)

    def action_close(self) -> None:
        self.post_message(self.Closed())

    def action_move(self, step: int) -> None:
        self.post_message(self.Move(step))


class SearchBar(Vertical):
    """A query box and a status line ("12 sessions match", "indexing 40%…"); hidden until ``/``."""

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="Search titles, messages, tools…", id="search-input", select_on_focus=False)
        yield Static("", id="search-status", markup=False)

    @property
    def input(self) -> SearchInput:
        return self.query_one(SearchInput)

    def set_status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(text, layout=False)

    def show_status(
        self, matches: int | None, *, typed: bool = False, progress: tuple[int, int] | None, indexing: bool
    ) -> None:
        """How many sessions match; None: no search runs, because nothing was typed yet (how to search) or,
        with ``typed``, only characters that are not searched (the list shows every session).  While the
        index is built, how far."""
        building = ""
        if progress is not None:
            done, total = progress
            building = f"{100 * done // max(total, 1)}%"
        elif indexing:
            building = "…"
        if matches is not None:
            status = "1 session matches" if matches == 1 else f"{matches:,} sessions match"
            if building:
                status += f" so far · indexing {building}"
        elif progress is not None:
            done, total = progress
            status = f"Indexing {done:,} of {total:,} events ({building}); search away meanwhile"
        elif typed:
            status = "Type letters or digits to search · all sessions shown"
        else:
            status = "Words are ANDed; \"quote\" phrases · enter opens · esc clears"
        self.set_status(status)
