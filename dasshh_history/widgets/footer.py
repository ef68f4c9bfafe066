"""The footer: Textual's, fitted to a narrow terminal so that Help and Quit are never cut off.

Textual's footer lays its keys out in a row and cuts off whatever passes the
right end (under the command palette's key, docked there), which is where the
app's Help and Quit are.  When they do not all fit (at 80 columns, or at 120
with the timeline's keys too) this one leaves out keys until the rest fit, the least needed first (:data:`LEAVE_OUT`); Help and
Quit stay.  Every key still works, and the help screen lists them all.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from dasshh_history.domain.text import cell_len

#: The actions whose keys always stay.
KEPT = frozenset({"help", "quit"})
#: The order in which keys are left out, first listed first gone; keys of other actions go before these,
#: from the right.
LEAVE_OUT = (
    "screen.undo",
    "screen.view_session",
    "screen.export_all",
    "clear_marks",  # the browser's Escape, shown only while there are marks
    "screen.copy",
    "screen.sort",
    "raw",
    "view_block",
    "screen.export",
    "conversation",
    "copy_block",
    "screen.rename",
    "screen.delete",
    "toggle",
    "screen.search",
)


def key_width(key_display: str, description: str) -> int:
    """Cells a key takes in Textual's (not compact) footer: `` key `` then ``description ``."""
    return cell_len(key_display) + cell_len(description) + 3


class KeysFooter(Footer):
    """A footer that shows only the keys that fit, Help and Quit always."""

    def compose(self) -> ComposeResult:
        self._composed = self._signature()
        left_out = self.left_out(self.size.width)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in left_out:
                widget.display = False
            yield widget

    def left_out(self, width: int) -> set[str]:
        """The actions whose keys do not fit in ``width`` columns.

        Textual's footer shows one key per action, its first binding; a key
        left out stays bound.  Only when even Help and Quit do not fit
        beside it is the command palette's key left out as well.
        """
        if not self._bindings_ready or width <= 0:
            return set()
        active = self.screen.active_bindings
        shown: dict[str, Binding] = {}
        for _, binding, _, _ in active.values():
            if binding.show:
                shown.setdefault(binding.action, binding)
        widths = {action: self._width(binding) for action, binding in shown.items()}
        room = width
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            # Drawn compact (``^p palette``), with a border on its left and padding on its right.
            room -= cell_len(self.app.get_key_display(palette.binding)) + cell_len(palette.binding.description) + 3
        order = [action for action in reversed(shown) if action not in KEPT and action not in LEAVE_OUT]
        order += [action for action in LEAVE_OUT if action in shown]
        used = sum(widths.values())
        left_out: set[str] = set()
        for action in order:
            if used <= room:
                break
            left_out.add(action)
            used -= widths[action]
        if used > room and palette is not None:
            left_out.add(palette.binding.action)
        return left_out

    def bindings_changed(self, screen: Screen) -> None:
        """Build the keys again only when what they would show changed.

        The screen says its bindings changed at every move of the timeline's
        cursor (``enter`` is offered only on blocks that fold); rebuilding the
        same keys cost a frame each time.
        """
        if self._bindings_ready and self.is_attached and screen is self.screen and self._signature() == self._composed:
            return
        super().bindings_changed(screen)

    def _signature(self) -> tuple[object, ...]:
        """What the keys show: each shown binding (enabled or not) and the width they fit in."""
        if not self._bindings_ready or not self.is_attached:
            return ()
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show
        )
        return (self.size.width, self.app.theme, shown)

    def _width(self, binding: Binding) -> int:
        return key_width(self.app.get_key_display(binding), binding.description)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the keys again when the width changes."""
        if event.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)
        self._fitted_width = event.size.width

    _fitted_width = 0
    _composed: tuple[object, ...] = ()
