"""The browser's panes on a narrow terminal: below 70 columns one shows at a time, the one with the focus."""

from __future__ import annotations

from textual import events
from textual.widget import Widget

#: Below this many columns one pane shows at a time: the session list, or the timeline it opened.
ONE_PANE_BELOW = 70


class Panes:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: which pane shows when only one fits.

    The screen has the class ``-one-pane`` below :data:`ONE_PANE_BELOW`
    columns, and ``-timeline-pane`` while the timeline has the focus; the
    stylesheet then shows the timeline alone, or else the list (with the
    search box) alone.  So Enter on a session shows its timeline, Escape the
    list again, and resizing across the width works both ways.
    """

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < ONE_PANE_BELOW, "-one-pane")

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Enter, Tab, n and N focus the timeline; Escape, Tab and / the list or the search box."""
        self.set_class(self.timeline in event.widget.ancestors_with_self, "-timeline-pane")

    def focus_next(self, selector: str | type = "*") -> Widget | None:
        return self._switch_pane(1) if self.has_class("-one-pane") else super().focus_next(selector)

    def focus_previous(self, selector: str | type = "*") -> Widget | None:
        return self._switch_pane(-1) if self.has_class("-one-pane") else super().focus_previous(selector)

    def _switch_pane(self, step: int) -> Widget:
        """Tab with one pane shown: the hidden pane is not in Textual's focus chain, so go round it here."""
        chain: list[Widget] = [self.search_bar.input] if self.search_bar.display else []
        chain += [self.session_list, self.timeline]
        at = next((i for i, widget in enumerate(chain) if widget is self.focused), -1)
        widget = chain[(at + step) % len(chain)]
        widget.focus()
        return widget
