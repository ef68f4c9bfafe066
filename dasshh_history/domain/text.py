"""Text made safe for a terminal, and times made readable."""

from __future__ import annotations

import re
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


def to_local(dt: datetime, tz: tzinfo | None) -> datetime:
    """A stored naive-UTC datetime in the given (or the system's) time zone."""
    aware = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
    return aware.astimezone(tz) if tz is not None else aware.astimezone()


def format_when(dt: datetime | None, *, now: datetime, tz: tzinfo | None) -> str:
    """Relative when recent ("5m ago", "yesterday"), a date when older."""
    if dt is None:
        return "—"
    local = to_local(dt, tz)
    delta = to_local(now, tz) - local
    seconds = delta.total_seconds()
    if seconds < -60:
        return local.strftime("%d %b %Y %H:%M")  # in the future: a clock was wrong
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d ago"
    if local.year == to_local(now, tz).year:
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
