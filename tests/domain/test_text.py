"""Terminal-safe text and readable times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dasshh_history.domain.text import (
    UNTITLED,
    cell_len,
    centre_on_match,
    format_timestamp,
    format_when,
    one_line,
    sanitize,
)

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


def utc(local: str, zone: str) -> datetime:
    """A local wall-clock time in ``zone`` as the naive UTC datetime the database stores."""
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


KOLKATA_NOW = "2026-03-30 02:08"  # 20:38 UTC on the 29th: the local date is a day ahead of UTC's
LOS_ANGELES_NOW = "2026-03-09 00:30"  # PDT, the day after the switch from PST: yesterday was 23 hours long


@pytest.mark.parametrize(
    ("zone", "now", "then", "shown"),
    [
        # The report: at 02:08 on the 30th, a session from 23:07 on the 28th is two calendar days back.
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-28 23:07", "2d ago"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-29 23:07", "yesterday"),  # 3 hours, but the day before
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-29 00:00", "yesterday"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-28 23:59", "2d ago"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-30 00:00", "2h ago"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-30 01:10", "58m ago"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-30 02:07:30", "just now"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-24 09:00", "6d ago"),
        ("Asia/Kolkata", KOLKATA_NOW, "2026-03-23 23:59", "23 Mar"),
        ("Asia/Kolkata", "2026-01-01 00:30", "2025-12-31 23:50", "40m ago"),  # within the hour: minutes
        ("Asia/Kolkata", "2026-01-01 00:30", "2025-12-31 22:00", "yesterday"),
        ("Asia/Kolkata", "2026-01-01 00:30", "2025-12-24 22:00", "24 Dec 2025"),
        # 24 hours back across the change to daylight saving time is two calendar days back ...
        ("America/Los_Angeles", LOS_ANGELES_NOW, "2026-03-07 23:30", "2d ago"),
        # ... and 22.5 hours back is yesterday.
        ("America/Los_Angeles", LOS_ANGELES_NOW, "2026-03-08 01:00", "yesterday"),
        ("America/Los_Angeles", LOS_ANGELES_NOW, "2026-03-08 23:59", "31m ago"),
        ("America/Los_Angeles", LOS_ANGELES_NOW, "2026-03-09 00:00", "30m ago"),
        ("America/Los_Angeles", "2026-03-14 09:00", "2026-03-08 23:00", "6d ago"),  # 5 days 10 hours
        ("America/Los_Angeles", "2026-03-14 09:00", "2026-03-07 23:00", "7 Mar"),  # 6 days 9 hours
        ("America/Los_Angeles", "2026-03-14 23:30", "2026-03-14 00:30", "23h ago"),  # the same day: hours
    ],
)
def test_format_when_counts_calendar_days_in_the_local_zone(zone: str, now: str, then: str, shown: str):
    assert format_when(utc(then, zone), now=utc(now, zone), tz=ZoneInfo(zone)) == shown


# -- a line cut to a width around a match ---------------------------------------------

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa"
PLACES = {"start": "chrome " + WORDS, "middle": WORDS[:43] + " chrome " + WORDS[44:], "end": WORDS + " chrome"}


@pytest.mark.parametrize("width", [20, 30, 40, 80])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_the_match_is_centred_and_whole_at_any_width(place: str, width: int):
    text = PLACES[place]
    shown = centre_on_match(text, re.compile("chrome"), width)
    assert cell_len(shown) <= width and width - cell_len(shown) <= 2, shown  # the width used (a space may go)
    assert "chrome" in shown
    inner = shown.removeprefix("…").removesuffix("…")
    assert inner in text
    assert shown.startswith("…") is (not text.startswith(inner))  # "…" exactly where the text is cut
    assert shown.endswith("…") is (not text.endswith(inner))
    before, _, after = shown.partition("chrome")
    if place == "middle":  # as much context on each side, give or take a cell and the spaces cut
        assert abs(len(before) - len(after)) <= 2, shown
    elif place == "start":  # the rest of the width after it ("…" and all; a space before it may go)
        assert before == "" and width - 7 <= len(after) <= width - 6, shown
    else:
        assert after == "" and width - 7 <= len(before) <= width - 6, shown


@pytest.mark.parametrize(
    ("width", "shown"),
    [
        (20, "…golf chrome hotel…"),
        (30, "…xtrot golf chrome hotel indi…"),
        (40, "…ho foxtrot golf chrome hotel india jul…"),
    ],
)
def test_centred_examples(width: int, shown: str):
    assert centre_on_match(PLACES["middle"], re.compile("chrome"), width) == shown


def test_a_match_wider_than_the_width_is_shown_from_its_start():
    text = "see " + "supercalifragilistic" * 3 + " there"
    pattern = re.compile("(?:supercalifragilistic)+")
    assert centre_on_match(text, pattern, 20) == "…supercalifragilist…"
    assert centre_on_match(text[4:], pattern, 20) == "supercalifragilisti…"


def test_no_match_cuts_at_the_end_and_text_that_fits_is_kept():
    assert centre_on_match(WORDS, re.compile("zulu"), 20) == "alpha bravo charlie…"
    assert centre_on_match(WORDS, None, 12) == "alpha bravo…"
    assert centre_on_match("short chrome", re.compile("chrome"), 20) == "short chrome"
    assert centre_on_match(WORDS, re.compile("chrome"), 1) == "…"
    assert centre_on_match(WORDS, re.compile("chrome"), 0) == ""


def test_wide_characters_take_two_cells():
    assert cell_len("漢字 ｗｉｄｅ 🎉 e\u0301") == 4 + 1 + 8 + 1 + 2 + 1 + 1
    text = "漢字" * 20 + " chrome " + "かな" * 20
    for width in (20, 30, 40, 80):
        shown = centre_on_match(text, re.compile("chrome"), width)
        assert "chrome" in shown and width - 2 <= cell_len(shown) <= width, (width, shown)
        before, _, after = shown.partition("chrome")
        assert abs(cell_len(before) - cell_len(after)) <= 2, shown
