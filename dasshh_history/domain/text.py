"""Text made safe for a terminal, cut to a width around a match, and times made readable."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, tzinfo

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST),
# DCS/SOS/PM/APC (ESC P/X/^/_ ... ST), and two-character escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"
    r"|\x1b[@-Z\\-_]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d.*?(?:\x07|\x9c|$)",
    re.DOTALL,
)
_DROP = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
     0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), 0x2060,
     *range(0x2066, 0x206A), 0xFEFF],
)
_WHITESPACE = re.compile(r"\s+")

UNTITLED = "(untitled)"


def sanitize(text: str) -> str:
    """Remove terminal escape sequences, control and direction-changing characters.

    Newlines are kept (``\\r\\n`` and lone ``\\r`` become ``\\n``), tabs become
    four spaces; what remains is shown literally.
    """
    if not text:
        return ""
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPES.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_DROP).replace("\t", "    ")


def one_line(text: str | None, max_len: int | None = None) -> str:
    """A title on one line: whitespace collapsed, "(untitled)" when blank, "…" when cut."""
    if not text:
        return UNTITLED
    if max_len is not None and len(text) > max_len * 4 + 64:
        text = text[: max_len * 4 + 64]  # never scan megabytes for a title
    line = _WHITESPACE.sub(" ", sanitize(text)).strip()
    if not line:
        return UNTITLED
    if max_len is not None and len(line) > max_len:
        return line[: max(0, max_len - 1)].rstrip() + "…"
    return line


def cell_width(char: str) -> int:
    """Terminal cells a character takes: 2 for wide and fullwidth (CJK) ones, 0 for combining marks, else 1."""
    if char.isascii():
        return 1
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_len(text: str) -> int:
    """Terminal cells a line of text takes."""
    return len(text) if text.isascii() else sum(map(cell_width, text))


def centre_on_match(text: str, pattern: re.Pattern[str] | None, width: int) -> str:
    """A line of ``text`` at most ``width`` cells wide, its first match of ``pattern`` in the middle.

    The context on each side is as even as the text's ends allow; "…" marks
    a cut end.  A match wider than ``width`` is shown from its start.  With
    no match, the text is cut at its end.  Text that fits is returned as is.
    """
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:max(width, 0)]
    widths = [cell_width(char) for char in text]
    found = pattern.search(text) if pattern is not None else None
    left, right = (found.start(), found.end()) if found else (0, 0)
    used = sum(widths[left:right])
    end = len(text)

    def fits(low: int, high: int, cells: int) -> bool:
        return cells + (low > 0) + (high < end) <= width

    if not fits(left, right, used):  # the match alone is too wide: as much of it as fits
        right, used = left, 0
        while right < end and fits(left, right + 1, used + widths[right]):
            used += widths[right]
            right += 1
        return _cut(text, left, right)
    before = after = 0  # cells of context on each side
    while True:
        sides = ("left", "right") if before <= after else ("right", "left")
        for side in sides:
            if side == "left" and left > 0 and fits(left - 1, right, used + widths[left - 1]):
                left -= 1
                used += widths[left]
                before += widths[left]
                break
            if side == "right" and right < end and fits(left, right + 1, used + widths[right]):
                used += widths[right]
                after += widths[right]
                right += 1
                break
        else:
            return _cut(text, left, right)


def _cut(text: str, left: int, right: int) -> str:
    """``text[left:right]`` with "…" for each end cut off, no space beside it."""
    part = text[left:right]
    head = "…" + part.lstrip() if left > 0 else part
    return head.rstrip() + "…" if right < len(text) else head


def to_local(dt: datetime, tz: tzinfo | None) -> datetime:
    """A stored naive-UTC datetime in the given (or the system's) time zone."""
    aware = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
    return aware.astimezone(tz) if tz is not None else aware.astimezone()


def format_when(dt: datetime | None, *, now: datetime, tz: tzinfo | None) -> str:
    """Relative when recent, a date when older; days are calendar days in the local zone.

    Within the last hour: "just now", "5m ago"; earlier the same local day:
    "3h ago"; the previous local day: "yesterday" (at 02:08, a session from
    23:07 is "yesterday", one from 23:07 the day before "2d ago"); two to six
    days back: "2d ago" ... "6d ago"; then "5 Jan", or "5 Dec 2024" in
    another year.  A time more than a minute ahead (a wrong clock) is given
    in full.
    """
    if dt is None:
        return "—"
    local = to_local(dt, tz)
    local_now = to_local(now, tz)
    seconds = (local_now - local).total_seconds()
    if seconds < -60:
        return local.strftime("%d %b %Y %H:%M")  # in the future: a clock was wrong
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    days = (local_now.date() - local.date()).days
    if days <= 0:
        return f"{int(seconds // 3600)}h ago"
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days}d ago"
    if local.year == local_now.year:
        return local.strftime("%d %b").lstrip("0")
    return local.strftime("%d %b %Y").lstrip("0")


def format_timestamp(dt: datetime | None, tz: tzinfo | None) -> str:
    """An absolute local time, "2025-03-12 14:05"."""
    if dt is None:
        return "unknown time"
    return to_local(dt, tz).strftime("%Y-%m-%d %H:%M")


def count_messages(count: int) -> str:
    """``1 message``, ``1,234 messages``."""
    return f"{count:,} message{'' if count == 1 else 's'}"
