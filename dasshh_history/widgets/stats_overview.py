"""The top of the stats screen, drawn as one widget: the totals, the activity per day or week (two sparklines,
Textual's own renderable) and the messages by local weekday and hour (a grid of shade characters, readable in any
theme and without colour).

One widget rather than eleven (labels, rows, sparkline widgets, statics): every widget of a screen is styled
three times as the screen opens (mounted, focused, resumed), and the screen must open at once.  Its lines are
rendered once per width and style (Textual's line API), not once to measure them and again to draw them.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.renderables.sparkline import Sparkline
from textual.strip import Strip
from textual.widget import Widget

from dasshh_history.domain.stats import WEEKDAYS, Stats, local_text, rate_text

#: Shades of the weekday × hour grid, from no message to the busiest hour.
SHADES = "·░▒▓█"
#: Width of the sparklines' labels ("sessions", "messages").
LABEL_WIDTH = 10
#: Height of a sparkline, in lines.
SPARK_HEIGHT = 2


def totals_text(stats: Stats, tz: tzinfo | None) -> Text:
    text = Text()
    for value, label in ((stats.sessions, "sessions"), (stats.messages, "messages"), (stats.events, "events")):
        text.append(f"{value:,}", style="bold").append(f" {label}   ")
    text.append("\n")
    text.append(f"{stats.calls:,}", style="bold").append(" tool calls   ")
    text.append(f"{stats.failed:,}", style="bold").append(f" of {stats.results:,} results failed "
                                                          f"({rate_text(stats.failure_rate)})\n")
    text.append(f"{local_text(stats.first, tz, '%Y-%m-%d')} → {local_text(stats.last, tz, '%Y-%m-%d')}   ")
    text.append(stats.sizes)
    if stats.orphans:
        text.append(f"   {stats.orphans:,} orphan events (session gone) not counted")
    return text


def grid_text(grid: list[list[int]]) -> Text:
    """Messages per local weekday and hour: a shade per hour, two columns wide.  A narrow screen cuts a day's
    total short (…) rather than breaking the grid's rows."""
    busiest = max((count for row in grid for count in row), default=0)
    text = Text("     " + "".join(f"{hour:<6}" for hour in range(0, 24, 3)) + "\n", style="dim",
                no_wrap=True, overflow="ellipsis")
    for day, row in zip(WEEKDAYS, grid, strict=True):
        text.append(f"{day}  ", style="bold")
        for count in row:
            level = 0 if not count else 1 + min(len(SHADES) - 2, (count * (len(SHADES) - 1) - 1) // busiest)
            text.append(SHADES[level] * 2, style="dim" if not count else "")
        text.append(f"  {sum(row):,}\n", style="dim")
    text.append(f"     {SHADES[1]} fewest   {SHADES[-1]} most ({busiest:,} messages in an hour)", style="dim")
    return text


class StatsOverview(Widget):
    """The totals, the activity and the weekday × hour grid of ``Stats`` (nothing until :meth:`show`)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "stats-overview--heading",
        "stats-overview--label",
        "stats-overview--spark-min",
        "stats-overview--spark-max",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stats: Stats | None = None
        self.tz: tzinfo | None = None
        self._lines: tuple[int, list[Strip]] | None = None  # the width they were rendered at, and the lines

    def show(self, stats: Stats, tz: tzinfo | None) -> None:
        self.stats, self.tz = stats, tz
        self._lines = None
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        self._lines = None  # another theme, or focus: drawn again
        super().notify_style_update()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rendered(width))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self._rendered(width)
        return lines[y] if y < len(lines) else Strip.blank(width, self.rich_style)

    def _rendered(self, width: int) -> list[Strip]:
        if self._lines is None or self._lines[0] != width:
            console = self.app.console
            rendered = console.render_lines(self._renderable(width), console.options.update_width(max(1, width)),
                                            style=self.rich_style, pad=True)
            self._lines = width, [Strip(line, width) for line in rendered]
        return self._lines[1]

    def _renderable(self, width: int) -> RenderableType:
        stats = self.stats
        if stats is None:
            return ""
        heading = self.get_component_rich_style("stats-overview--heading")
        activity = stats.activity
        parts: list[RenderableType] = [
            totals_text(stats, self.tz),
            Text(f"\nActivity per {activity.unit}", style=heading),
            self._sparkline("sessions", activity.sessions, width),
            self._sparkline("messages", activity.messages, width),
        ]
        if activity.starts:
            first, last = activity.starts[0].isoformat(), activity.starts[-1].isoformat()
            peak = max(activity.messages, default=0)
            parts.append(Text(f"{first} → {last}   busiest {activity.unit}: {peak:,} messages", style="dim"))
        parts.append(Text("\nWhen you work: messages by weekday and hour (local time)", style=heading))
        parts.append(grid_text(stats.grid))
        return Group(*parts)

    def _sparkline(self, label: str, counts: list[int], width: int) -> Table:
        """``label``, then the sparkline of ``counts`` over the rest of the width."""
        _, base = self.background_colors
        low = base + self.get_component_styles("stats-overview--spark-min").color
        high = base + self.get_component_styles("stats-overview--spark-max").color
        width = max(1, width - LABEL_WIDTH)
        row = Table.grid(padding=0)
        row.add_column(width=LABEL_WIDTH, no_wrap=True)
        row.add_column(width=width)
        row.add_row(Text(label, style=self.get_component_rich_style("stats-overview--label")),
                    Sparkline([float(n) for n in counts] or [0.0], width=width, height=SPARK_HEIGHT,
                              min_color=low.rich_color, max_color=high.rich_color))
        return row


__all__ = ["StatsOverview", "grid_text", "totals_text"]
