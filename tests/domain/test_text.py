"""Terminal-safe text and readable times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dasshh_history.domain.text import UNTITLED, format_timestamp, format_when, one_line, sanitize

NOW = datetime(2026, 3, 14, 15, 0, 0)  # naive UTC, as stored


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("a\x1b]0;evil title\x07b", "ab"),
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
        ("nul\x00byte", "nulbyte"),
        ("bell\x07", "bell"),
        ("cr\r\nlf\rx", "cr\nlf\nx"),
        ("tab\there", "tab    here"),
        ("\u202eevil\u202c ok", "evil ok"),
        ("zero\u200bwidth", "zerowidth"),
        ("[b]markup[/b] [@click=app.quit]x[/]", "[b]markup[/b] [@click=app.quit]x[/]"),
        ("wide 漢字 ok", "wide 漢字 ok"),
        ("\x9b31mc1", "c1"),
    ],
)
def test_sanitize(raw: str, shown: str):
    assert sanitize(raw) == shown


def test_one_line():
    assert one_line("first\nsecond\t third") == "first second third"
    assert one_line(None) == one_line("") == one_line(" \n\t") == UNTITLED
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abcde", 5) == "abcde"
    long = "x" * 1_000_000
    assert one_line(long, 40) == "x" * 39 + "…"


def test_format_when_relative_then_dates():
    tz = UTC
    assert format_when(NOW - timedelta(seconds=20), now=NOW, tz=tz) == "just now"
    assert format_when(NOW - timedelta(minutes=5), now=NOW, tz=tz) == "5m ago"
    assert format_when(NOW - timedelta(hours=3), now=NOW, tz=tz) == "3h ago"
    assert format_when(NOW - timedelta(hours=30), now=NOW, tz=tz) == "yesterday"
    assert format_when(NOW - timedelta(days=4), now=NOW, tz=tz) == "4d ago"
    assert format_when(datetime(2026, 1, 5, 9, 0), now=NOW, tz=tz) == "5 Jan"
    assert format_when(datetime(2024, 12, 5, 9, 0), now=NOW, tz=tz) == "5 Dec 2024"
    assert format_when(None, now=NOW, tz=tz) == "—"
    assert format_when(NOW + timedelta(days=3), now=NOW, tz=tz) == "17 Mar 2026 15:00"


def test_times_are_shown_in_the_local_zone():
    plus_two = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 3, 14, 23, 30), plus_two) == "2026-03-15 01:30"
    assert format_timestamp(datetime(2026, 3, 14, 23, 30), UTC) == "2026-03-14 23:30"
    assert format_timestamp(None, UTC) == "unknown time"
    # Near midnight the date follows the local zone, not UTC.
    assert format_when(datetime(2025, 12, 31, 23, 30), now=NOW, tz=plus_two) == "1 Jan"
