"""Filters in the search syntax: tool:, is:failed, after:/before:, in:title; anything else is words."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.domain.filters import DateFilter, FailedFilter, ToolFilter, epoch_ms
from dasshh_history.domain.query import SearchQuery, Term

KOLKATA = ZoneInfo("Asia/Kolkata")  # UTC+05:30, no daylight saving time


def test_filters_combine_with_words_and_with_each_other():
    query = SearchQuery.parse("tool:run_shell_command is:failed after:2026-03-14 before:7d how ")
    assert query.terms == (Term(("how",)),)
    assert query.filters == (
        ToolFilter("run_shell_command"),
        FailedFilter(),
        DateFilter(after=True, day=date(2026, 3, 14)),
        DateFilter(after=False, amount=7, unit="d"),
    )
    assert query.fts() == '"how"'  # the filters are not words


def test_keys_and_values_are_read_case_insensitively():
    query = SearchQuery.parse("TOOL:Run_Shell_Command IS:Failed In:TITLE nginx ")
    assert query.filters == (ToolFilter("run_shell_command"), FailedFilter())
    assert query.in_title and query.terms == (Term(("nginx",)),)


def test_the_tool_name_being_typed_is_a_prefix_like_a_word():
    assert SearchQuery.parse("tool:run_sh").filters == (ToolFilter("run_sh", prefix=True),)
    assert SearchQuery.parse("tool:run_sh ").filters == (ToolFilter("run_sh"),)
    assert SearchQuery.parse("tool:run_sh how").filters == (ToolFilter("run_sh"),)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("foo:bar ", [("foo", "bar")]),
        ("is:nonsense ", [("is", "nonsense")]),
        ("in:body ", [("in", "body")]),
        ("after:garbage ", [("after", "garbage")]),
        ("before:2026-02-30 ", [("before", "2026", "02", "30")]),  # no such day
        ("after:2026-3-1 ", [("after", "2026", "3", "1")]),
        ("after:7x ", [("after", "7x")]),
        ("tool: ", [("tool",)]),  # an empty name, once typed
        ('"tool:run_shell_command" ', [("tool", "run", "shell", "command")]),  # quoted: words
        ("http://example.org ", [("http", "example", "org")]),
    ],
)
def test_unknown_or_invalid_filters_are_searched_as_words(text: str, words: list[tuple[str, ...]]):
    query = SearchQuery.parse(text)
    assert query.filters == () and not query.in_title
    assert [term.tokens for term in query.terms] == words


@pytest.mark.parametrize("text", ["tool:", "is:", "is:fai", "in:ti", "after:", "after:2026", "after:2026-0",
                                  "before:2026-03-1", "after:12", 'tool:"', "nginx is:f"])
def test_a_filter_still_being_typed_is_left_out_until_complete(text: str):
    query = SearchQuery.parse(text)
    assert query.filters == () and not query.in_title
    assert [term.tokens for term in query.terms] == ([("nginx",)] if text.startswith("nginx") else [])


def test_quoted_filter_values():
    assert SearchQuery.parse('tool:"run_shell_command" ').filters == (ToolFilter("run_shell_command"),)
    assert SearchQuery.parse('tool:"Run Shell"').filters == (ToolFilter("run shell"),)
    assert SearchQuery.parse('tool:"run').filters == (ToolFilter("run", prefix=True),)  # still typed
    assert SearchQuery.parse('after:"2026-03-14"').filters == (DateFilter(after=True, day=date(2026, 3, 14)),)
    assert SearchQuery.parse('is:"failed"').filters == (FailedFilter(),)
    nonsense = SearchQuery.parse('is:"nonsense" ')
    assert nonsense.filters == () and [t.tokens for t in nonsense.terms] == [("is",), ("nonsense",)]


def test_a_query_of_filters_alone_is_a_search():
    assert SearchQuery.parse("is:failed")
    assert SearchQuery.parse("in:title")
    assert not SearchQuery.parse("tool:")  # nothing complete yet


def test_highlights_never_show_filter_syntax_but_show_the_tool_name():
    pattern = SearchQuery.parse("tool:run_shell_command is:failed after:7d disk ").pattern()
    assert pattern is not None
    text = "tool: is:failed after disk run_shell_command my_run_shell_command_x"
    assert [m.group() for m in pattern.finditer(text)] == ["disk", "run_shell_command"]
    assert SearchQuery.parse("is:failed after:7d").pattern() is None


def test_a_snippet_is_centred_on_the_words_not_the_tool_name():
    query = SearchQuery.parse("tool:run_shell_command disk ")
    text = "run_shell_command " + "x " * 300 + "disk full"
    assert query.snippet(text, context=20).endswith("disk full")
    alone = SearchQuery.parse("tool:read_file ").snippet("a " * 300 + "read_file path", context=20)
    assert alone.endswith("read_file path")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('tool:isfaedrbeinxy 0123456789-"dwmTI\\*()\u00e9\t')), max_size=40)
       | st.text(max_size=40))
def test_any_text_parses_and_gives_a_query_fts5_accepts(text: str):
    query = SearchQuery.parse(text)
    assert isinstance(query.filters, tuple)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    if query.terms:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query.fts(),)).fetchall()
    query.pattern()
    for item in query.filters:
        if isinstance(item, DateFilter):
            epoch_ms(item.bound(datetime(2026, 3, 14, 12, 0), KOLKATA))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["tool", "is", "in", "after", "before", "foo"]), st.text(max_size=20))
def test_any_value_of_any_key_parses(key: str, value: str):
    for text in (f"{key}:{value}", f"{key}:{value} ", f'{key}:"{value}"', f'{key}:"{value}'):
        query = SearchQuery.parse(text)
        for item in query.filters:
            assert isinstance(item, (ToolFilter, FailedFilter, DateFilter))


# -- dates --------------------------------------------------------------------------

NOW = datetime(2026, 3, 14, 20, 0)  # naive UTC: already 15 March, 01:30, in Kolkata


def test_a_day_is_a_local_calendar_day():
    day = DateFilter(after=True, day=date(2026, 3, 14))
    assert day.bound(NOW, KOLKATA) == datetime(2026, 3, 13, 18, 30)  # local midnight, as UTC
    assert day.bound(NOW, UTC) == datetime(2026, 3, 14)
    assert day.bound(NOW, timezone(timedelta(hours=-5))) == datetime(2026, 3, 14, 5, 0)


def test_relative_dates_count_back_from_now():
    assert DateFilter(True, amount=7, unit="d").bound(NOW, KOLKATA) == NOW - timedelta(days=7)
    assert DateFilter(True, amount=2, unit="w").bound(NOW, KOLKATA) == NOW - timedelta(days=14)
    # Months and years are calendar ones, in local time: 15 March 01:30 in Kolkata -> 15 December 01:30.
    assert DateFilter(True, amount=3, unit="m").bound(NOW, KOLKATA) == datetime(2025, 12, 14, 20, 0)
    assert DateFilter(True, amount=1, unit="y").bound(NOW, KOLKATA) == datetime(2025, 3, 14, 20, 0)
    # The 31st, a month back, is the last day of a shorter month.
    assert DateFilter(True, amount=1, unit="m").bound(datetime(2026, 3, 31, 12), UTC) == datetime(2026, 2, 28, 12)


def test_dates_out_of_range_are_the_first_or_last_moment():
    assert DateFilter(True, amount=999_999, unit="y").bound(NOW, KOLKATA) == datetime.min
    assert DateFilter(True, amount=999_999, unit="d").bound(NOW, KOLKATA) == datetime.min
    assert DateFilter(True, day=date(1, 1, 1)).bound(NOW, KOLKATA) == datetime.min
    assert DateFilter(True, day=date(9999, 12, 31)).bound(NOW, KOLKATA) == datetime(9999, 12, 30, 18, 30)
    assert isinstance(epoch_ms(datetime.min), int) and isinstance(epoch_ms(datetime.max), int)
