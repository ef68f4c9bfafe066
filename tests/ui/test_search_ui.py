"""Search from the keyboard: `/`, typing, Enter, n / N, Escape."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
from uiutil import plain_title, settle

from dasshh_history.domain.text import one_line
from dasshh_history.widgets.blocks import HeaderBlock


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press("space" if char == " " else char)
    await settle(pilot)


async def type_without_pause(pilot, text: str) -> None:
    """Type as a person does, and wait only until the list shows the results (not for the timeline)."""
    for char in text:
        await pilot.press(char)
    while pilot.app.browser.listed_query.text != text:
        await pilot.pause(0.01)


def titles(app) -> list[str]:
    return [s.detail for s in app.browser.session_list.summaries]


async def test_slash_opens_the_search_and_typing_filters_the_list_with_snippets(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        everything = app.browser.session_list.total
        await pilot.press("slash")
        await settle(pilot)
        assert app.browser.search_bar.display and app.focused is app.browser.search_bar.input
        await type_text(pilot, "nginx")
        assert titles(app) == ["Show me the nginx config for the api location"]
        assert app.browser.session_list.border_title == "Search (1) · by last update"
        assert app.browser.session_list.highlighted == 0
        row = app.browser.session_list.row_text(0)
        assert "nginx" in row.splitlines()[1].lower(), row  # the snippet line shows the match
        assert app.query_one("#search-status").render().plain.startswith("1 session matches")
        await type_text(pilot, " zzzz")
        assert app.browser.session_list.total == 0
        for _ in range(5):
            await pilot.press("backspace")
        await settle(pilot)
        assert app.browser.session_list.total == 1
        assert everything > 1


#: A file a tool read, as dasshh stores a tool's text result: ``json.dumps``-ed, a quoted string with escapes.
BROWSERS_MD = (
    "# Browsers\n\nThe browsers installed on this machine, and where each one lives:\n\n"
    "| name | path |\n|------|------|\n| **firefox** | `/usr/bin/firefox` |\n| *lynx* | `/usr/bin/lynx` |\n\n"
    "- Set with `update-alternatives`, see [the manual](https://example.org/alternatives).\n"
    "- The default one is **\"chrome\"** since the upgrade, for every user.\n"
)


def add_tool_result_session(path) -> None:
    content = {"role": "tool", "tool_call_id": "c1", "name": "read_file", "content": json.dumps(BROWSERS_MD, indent=2)}
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO sessions VALUES ('browsers', 'Which browsers are there?', "
                     "'2026-03-14 15:00:00', '2026-03-14 15:00:00')")
        conn.execute("INSERT INTO events VALUES ('browsers-1', 'inv', 'browsers', '2026-03-14 15:00:00', ?)",
                     (json.dumps(content),))
    conn.close()


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_a_snippet_shows_its_match_as_readable_text_at_any_width(demo_db, make_app, size):
    """A tool's text result (escapes, Markdown) matched near its end: the row shows the match, centred, readable."""
    add_tool_result_session(demo_db)
    app = make_app(demo_db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "chrome")
        session_list = app.browser.session_list
        assert titles(app) == ["Which browsers are there?"]
        drawn = ["".join(segment.text for segment in session_list.render_line(y)) for y in range(2)]
        for line in (drawn[1], session_list.row_text(0).splitlines()[1]):
            assert "chrome" in line, line
            for syntax in ("\\n", '\\"', "**", "\\"):
                assert syntax not in line, (syntax, line)
        assert '"chrome"' in drawn[1] and drawn[1].strip().endswith("…")  # centred: context either side
        marked = [segment.text for segment in session_list.render_line(1) if segment.style and segment.style.underline]
        assert marked == ["chrome"], marked  # and highlighted


async def test_any_characters_typed_are_safe(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, '"(*) NEAR( -a OR ^ \\ \'')
        assert not [n for n in app._notifications if n.severity == "error"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.browser.session_list.total == 12


async def test_enter_opens_at_the_first_match_and_n_moves_between_matches(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "pip cache")
        assert titles(app)[0] == "Clean the pip cache only, please."
        await pilot.press("enter")
        await settle(pilot)
        timeline = app.browser.timeline
        assert app.focused is timeline
        matches = [i for i, block in enumerate(timeline.blocks) if timeline.is_match(i)]
        assert len(matches) >= 2
        assert timeline.cursor == matches[0]
        assert not isinstance(timeline.blocks[matches[0]], HeaderBlock)
        await pilot.press("n")
        assert timeline.cursor == matches[1]
        await pilot.press("N")
        assert timeline.cursor == matches[0]
        await pilot.press("N")  # wraps around to the last match
        assert timeline.cursor == matches[-1]


async def test_matches_are_highlighted_in_the_timeline(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "pip")
        await pilot.press("enter")
        await settle(pilot)
        timeline = app.browser.timeline
        match_style = timeline.get_component_rich_style("timeline--match", partial=True)
        lines = [timeline.render_line(y) for y in range(timeline.scrollable_content_region.height)]
        highlighted = [seg.text for strip in lines for seg in strip if seg.style and seg.style.bgcolor == match_style.bgcolor]
        assert highlighted and all(text.lower() == "pip" for text in highlighted), highlighted


async def test_escape_clears_the_search_and_keeps_the_session_highlighted(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "weather")
        assert titles(app) == ["What's the weather in Lisbon tomorrow?"]
        await pilot.press("escape")
        await settle(pilot)
        assert not app.browser.search_bar.display
        assert app.browser.session_list.total == 12
        assert app.browser.session_list.current.detail == "What's the weather in Lisbon tomorrow?"
        assert app.focused is app.browser.session_list
        assert app.browser.timeline.is_match(0) is False  # nothing is highlighted any more


async def test_down_and_up_move_through_results_while_typing(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "the")
        assert app.browser.session_list.total > 2
        await pilot.press("down")
        await settle(pilot)
        assert app.browser.session_list.highlighted == 1
        assert app.focused is app.browser.search_bar.input
        assert app.browser.timeline.border_title  # the highlighted result's timeline is shown
        await pilot.press("up")
        assert app.browser.session_list.highlighted == 0


async def test_while_typing_the_timeline_waits_for_a_pause_and_enter_shows_it_at_once(demo_db, make_app):
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.browser.displayed_session_id
        await pilot.press("slash")
        await type_without_pause(pilot, "nginx")
        result = app.browser.session_list.current.id
        assert result != first
        assert app.browser.timeline_pending and app.browser.displayed_session_id == first  # the list first
        assert app.browser.timeline.search_pattern is None  # its highlights too
        await pilot.pause(0.3)
        await settle(pilot)
        assert not app.browser.timeline_pending and app.browser.displayed_session_id == result
        assert app.browser.timeline.search_pattern == app.browser.search_query.pattern()
        # Moving through the results with the arrows, once typing has paused: the timeline follows at once.
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await pilot.pause(0.3)
        await settle(pilot)
        assert app.browser.session_list.total > 1
        await pilot.press("down")
        await pilot.pause()  # well under the typing pause
        assert not app.browser.timeline_pending
        assert plain_title(app.browser.timeline) == one_line(app.browser.session_list.current.detail, 120)
        # Typing on and pressing Enter at once: no pause needed.
        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace")
        await settle(pilot)
        await type_without_pause(pilot, "nginx")
        await pilot.press("enter")
        assert not app.browser.timeline_pending
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.browser.displayed_session_id == result and app.focused is app.browser.timeline


async def test_a_query_longer_than_the_box_scrolls_to_the_cursor(demo_db, make_app):
    """The search box never asks for a layout (its size is fixed), yet still scrolls with its text."""
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        text = "abcdefghij" * 8 + "XYZ"
        await type_without_pause(pilot, text)
        await settle(pilot)
        box = app.browser.search_bar.input
        shown = "".join(segment.text for segment in box.render_line(0)).rstrip()
        assert len(text) > box.size.width and shown.endswith("XYZ"), shown
        await pilot.press("home")
        await settle(pilot)
        shown = "".join(segment.text for segment in box.render_line(0))
        assert shown.startswith("abcdefghijabc"), shown


def search_status(app) -> str:
    return app.query_one("#search-status").render().plain


async def test_the_status_under_the_search_box_says_what_the_list_shows(demo_db, make_app):
    """Emptied, or holding only punctuation, the box searches nothing: the status no longer counts matches."""
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        everything = app.browser.session_list.total
        await pilot.press("slash")
        await settle(pilot)
        hint = search_status(app)
        assert hint.startswith("Words are ANDed")
        await type_text(pilot, "nginx")
        assert search_status(app) == "1 session matches"
        for _ in "nginx":
            await pilot.press("backspace")
        await settle(pilot)
        assert app.browser.session_list.total == everything and app.browser.search_bar.input.value == ""
        assert search_status(app) == hint
        await type_text(pilot, "nginx")
        assert search_status(app) == "1 session matches"
        for _ in "nginx":
            await pilot.press("backspace")
        await type_text(pilot, "?!-")
        assert app.browser.session_list.total == everything
        assert search_status(app) == "Type letters or digits to search · all sessions shown"
        await type_text(pilot, " pip")
        assert search_status(app).endswith("match") and app.browser.session_list.total < everything
        for _ in " pip":
            await pilot.press("backspace")
        await settle(pilot)
        assert search_status(app) == "Type letters or digits to search · all sessions shown"


def titles_in_list_order(path, where: str) -> list[str]:
    """The titles of the sessions for which ``where`` holds (``s`` the session), as the list orders them."""
    with sqlite3.connect(path) as conn:
        found = conn.execute(f"SELECT s.detail FROM sessions s WHERE {where} "
                             "ORDER BY coalesce(s.updated_at, NULL) DESC, s.rowid").fetchall()
    conn.close()
    return [title for (title,) in found]


CALLS_SHELL = (
    "s.id IN (SELECT e.session_id FROM events e, json_each(e.content, '$.tool_calls') c "
    "WHERE json_extract(c.value, '$.function.name') = 'run_shell_command')"
)
#: The demo's failed results: a command's non-zero exit status, dasshh's reply to cut-off arguments.
FAILED = (
    "s.id IN (SELECT e.session_id FROM events e WHERE json_extract(e.content, '$.role') = 'tool' AND ("
    "json_extract(json_extract(e.content, '$.content'), '$.exit_code') != 0 "
    "OR json_extract(json_extract(e.content, '$.content'), '$.error') IS NOT NULL))"
)


async def test_a_filter_query_lists_the_sessions_passing_it_with_its_count_and_status(demo_db, make_app):
    shell = titles_in_list_order(demo_db, CALLS_SHELL)
    shell_and_failed = titles_in_list_order(demo_db, f"{CALLS_SHELL} AND {FAILED}")
    assert 1 <= len(shell_and_failed) < len(shell) < 12  # the demo has some of each
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "tool:run_shell_command")
        session_list = app.browser.session_list
        assert titles(app) == shell
        assert session_list.border_title == f"Search ({len(shell)}) · by last update"
        assert app.query_one("#search-status").render().plain.startswith(f"{len(shell)} sessions match")
        # Filters alone: the snippet is the session's first call of the tool, its name highlighted, never "tool:".
        snippet = session_list.row_text(0).splitlines()[1]
        assert "run_shell_command" in snippet and "tool:" not in snippet, snippet
        marked = [s.text for s in session_list.render_line(1) if s.style and s.style.underline]
        assert marked and {text.lower() for text in marked} == {"run_shell_command"}, marked
        await type_text(pilot, " is:failed")
        assert titles(app) == shell_and_failed
        assert session_list.border_title == f"Search ({len(shell_and_failed)}) · by last update"
        # Enter opens the session, its calls of the tool highlighted as matches.
        await pilot.press("enter")
        await settle(pilot)
        timeline = app.browser.timeline
        assert any(timeline.is_match(i) for i in range(len(timeline.blocks)))
        # A filter being typed is left out, so the list never shows "nothing matches is:fa".
        await pilot.press("slash")
        for _ in range(len("failed")):
            await pilot.press("backspace")
        await settle(pilot)
        assert titles(app) == shell  # "tool:run_shell_command is:" searches the tool alone
        await type_text(pilot, "nonsense ")
        assert session_list.total == 0  # an unknown value is words, which match nothing here


async def test_help_lists_the_search_syntax(demo_db, make_app):
    from rich.console import Console

    from dasshh_history.screens.help import HelpScreen, keys_table

    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(keys_table(app.screen.sections))
        text = console.export_text()
        assert "Search syntax" in text
        for syntax in ('"a phrase"', "tool:NAME", "is:failed", "after:DATE", "before:DATE", "7d 2w 3m 1y", "in:title"):
            assert syntax in text, syntax
