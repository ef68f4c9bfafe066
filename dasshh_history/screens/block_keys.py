"""The browser's keys for the text itself: copy the selected block (``y``), page it (``v``) or the whole session (``V``)."""

from __future__ import annotations

from dasshh_history.domain.export import export_filename
from dasshh_history.domain.secret_marks import unmark
from dasshh_history.domain.text import one_line
from dasshh_history.domain.values import SessionSummary
from dasshh_history.screens.pager import run_pager
from dasshh_history.services.actions import GONE
from dasshh_history.widgets.blocks import Block

#: Each kind of block as a toast names it (``{name}``: the tool's), and the file name the pager shows.
BLOCK_NAMES = {
    "user": ("your message", "message.md"),
    "assistant": ("the assistant's reply", "reply.md"),
    "tool_call": ("the call to {name}", "tool-call.txt"),
    "tool_result": ("the result of {name}", "tool-result.txt"),
    "system": ("the system prompt", "system-prompt.txt"),
    "raw": ("the raw row", "raw-row.txt"),
}
#: Actions on the selected block: offered while the timeline has the focus and a block is selected.
BLOCK_ACTIONS = ("copy_block", "view_block")


def block_label(block: Block) -> str:
    """The block as the toast names it: ``the result of run_shell_command``."""
    label, _ = BLOCK_NAMES.get(block.kind, ("the block", ""))
    entry = getattr(block, "entry", None)
    return label.format(name=one_line(getattr(entry, "name", None) or "a tool", 40))


def lines(text: str) -> str:
    count = text.count("\n") + 1
    return f"{count:,} line{'' if count == 1 else 's'}"


class BlockKeys:
    """Part of :class:`~dasshh_history.screens.browser.BrowserScreen`: ``y``, ``v`` and ``V``."""

    def selected_block(self) -> Block | None:
        """The timeline's selected block, or None (no session shown, or only a placeholder)."""
        timeline = self.timeline
        blocks, cursor = timeline.blocks, timeline.cursor
        return blocks[cursor] if 0 <= cursor < len(blocks) and blocks[cursor].selectable else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in BLOCK_ACTIONS:
            return self.timeline.has_focus and self.selected_block() is not None
        return super().check_action(action, parameters)  # type: ignore[misc]

    def _block_text_or_warn(self) -> tuple[Block, str] | None:
        block = self.selected_block()
        text = block.copy_text if block is not None else None
        text = unmark(text) if text is not None else None  # a masked secret copied as it reads (README, "Privacy")
        if block is None or text is None:
            self.say("No block selected: open a session's timeline (enter) and move to one.", severity="warning")
            return None
        if not text.strip():
            self.say(f"Nothing to copy: {block_label(block)} is empty.", severity="warning")
            return None
        return block, text

    def action_copy_block(self) -> None:
        """Send the selected block's text to the clipboard through the terminal (OSC 52), as ``c`` sends a session."""
        found = self._block_text_or_warn()
        if found is not None:
            block, text = found
            self.app.copy_to_clipboard(text)
            self.say(
                f"Sent {block_label(block)} ({lines(text)}) to the terminal's clipboard (OSC 52)."
                " Nothing to paste? The terminal must allow OSC 52 (in tmux: set -g set-clipboard on)."
            )

    def action_view_block(self) -> None:
        """The selected block's text (what ``y`` copies) in the pager."""
        found = self._block_text_or_warn()
        if found is not None:
            block, text = found
            self._page(text, BLOCK_NAMES.get(block.kind, ("", "block.txt"))[1])

    def action_view_session(self) -> None:
        """The highlighted session as the export writes it (read in a worker), in the pager."""
        summary = self._current_or_warn("view")
        if summary is not None:
            self.run_worker(lambda: (summary, self.actions.session_markdown(summary)), name="view_session",
                            group="view", description="Could not read the session", thread=True, exclusive=True,
                            exit_on_error=False)

    def _view_session_done(self, read: tuple[SessionSummary, str | None]) -> None:
        summary, text = read
        if text is None:
            self.say(GONE, severity="warning")
        else:
            self._page(text, export_filename(summary.created_at, summary.detail, self.tz))

    def _page(self, text: str, name: str) -> None:
        """Show ``text`` in the pager, the app suspended; back at the same place after (nothing here moves)."""
        problem = run_pager(self.app, text, name)
        if problem is not None:
            self.say(problem, severity="warning")
