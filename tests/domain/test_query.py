"""The search box's text to a safe FTS5 query and a highlight pattern."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dasshh_history.domain.query import SearchQuery, Term


def test_words_are_anded_and_the_last_one_is_a_prefix_while_typing():
    query = SearchQuery.parse("Nginx conf")
    assert query.terms == (Term(("nginx",)), Term(("conf",), prefix=True))
    assert query.fts() == '"nginx" "conf"*'


def test_a_trailing_space_ends_the_prefix():
    assert SearchQuery.parse("nginx conf ").fts() == '"nginx" "conf"'


def test_quoted_phrases_and_an_unclosed_quote():
    assert SearchQuery.parse('"rate limit" error').fts() == '"rate limit" "error"*'
    assert SearchQuery.parse('error "rate lim').fts() == '"error" "rate lim"*'
    assert SearchQuery.parse('"rate limit"').fts() == '"rate limit"'


def test_punctuation_inside_a_word_makes_a_phrase_and_lone_punctuation_is_dropped():
    assert SearchQuery.parse("tool_call ").fts() == '"tool call"'
    assert SearchQuery.parse("*** ( ) - ").fts() == ""
    assert not SearchQuery.parse("  ---  ")


def test_fts_keywords_are_plain_words():
    assert SearchQuery.parse("NOT AND OR NEAR ").fts() == '"not" "and" "or" "near"'


def test_pattern_finds_terms_case_insensitively_and_respects_word_starts():
    pattern = SearchQuery.parse("nginx conf").pattern()
    assert pattern is not None
    text = "Show the NGINX configuration; reconfigure nginx."
    assert [m.group() for m in pattern.finditer(text)] == ["NGINX", "conf", "nginx"]


def test_matches_needs_every_term():
    query = SearchQuery.parse("disk full ")
    assert query.matches("My disk is almost FULL")
    assert not query.matches("My disk is fine")


def test_seekable_cuts_long_prefixes_only():
    query = SearchQuery.parse("nginx configur")
    assert query.seekable().fts() == '"nginx" "con"*'
    assert SearchQuery.parse("nginx co").seekable().fts() == '"nginx" "co"*'


def test_snippet_is_the_line_around_the_first_match_with_context_either_side():
    text = "intro " * 100 + "the\nfirewall   blocks port 443 " + "outro " * 100
    snippet = SearchQuery.parse("firewall").snippet(text, context=60)
    assert snippet.startswith("…intro") and snippet.endswith("outro…")
    assert "\n" not in snippet
    assert "the firewall blocks port 443" in snippet
    before, _, after = snippet.partition("firewall")
    assert 60 - 16 <= len(before) <= 60 + 1 and 60 - 16 <= len(after) <= 60 + 1  # cut at words
    assert SearchQuery.parse("short").snippet("a short text") == "a short text"
    assert SearchQuery.parse("zzz").snippet("no match here") == "no match here"
    assert SearchQuery.parse("zzz").snippet("word " * 200).endswith("word…")


def test_snippet_is_the_readable_text_of_markdown():
    text = (
        "## Chrome flags\n\n| flag | use |\n|---|---|\n| `--headless` | no window |\n\n"
        "Run **chrome** with `--headless`, see [the docs](https://example.org/chrome-flags).\n"
        "```bash\nchrome --headless\n```\n- done"
    )
    snippet = SearchQuery.parse("headless").snippet(text)
    assert snippet == (
        "Chrome flags flag use --headless no window Run chrome with --headless, see the docs. chrome --headless done"
    )
    for syntax in ("**", "`", "|", "## ", "](", "- "):
        assert syntax not in snippet


def test_snippet_shows_the_source_when_only_its_syntax_matches():
    snippet = SearchQuery.parse("example").snippet("see [the docs](https://example.org) here")
    assert snippet == "see [the docs](https://example.org) here"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_query_fts5_accepts(text: str):
    query = SearchQuery.parse(text)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('some text')")
    if query.terms:  # a query of filters alone (in:title, is:failed, ...) asks the index no MATCH
        conn.execute("SELECT count(*) FROM t WHERE t MATCH ?", (query.fts(),)).fetchone()
        assert query.pattern() is not None
    query.snippet(text)


@pytest.mark.parametrize("text", ["IN:TITLE", "in:title", "is:failed", "IS:FAILED after:7d"])
def test_a_query_of_filters_alone_has_no_terms_to_match(text: str):
    query = SearchQuery.parse(text)
    assert query and not query.terms and query.fts() == ""


def test_pattern_ignores_accents_as_the_index_does():
    pattern = SearchQuery.parse("cafe deja").pattern()
    assert pattern is not None
    text = "Un CAFÉ, déjà vu, cafe\u0301 (decomposed), Cafè, caffeine"
    assert [m.group() for m in pattern.finditer(text)] == ["CAFÉ", "déjà", "cafe\u0301", "Cafè"]
    typed = SearchQuery.parse("café ").pattern()
    assert typed is not None and [m.group() for m in typed.finditer("cafe café cafés")] == ["cafe", "café"]
    assert SearchQuery.parse("naive resume ").matches("Naïve résumé")


def test_accented_letters_match_like_fts5_unicode61():
    """Every accented Latin letter: found by the pattern of its base letter exactly when FTS5 finds it."""
    import string

    letters = [chr(code) for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO t (rowid, body) VALUES (?, ?)", [(i, f"x{c}x") for i, c in enumerate(letters, 1)])
    differ: set[str] = set()
    for base in string.ascii_lowercase:
        by_fts = {letters[rowid - 1] for (rowid,) in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (f'"x{base}x"',))}
        pattern = SearchQuery.parse(f"x{base}x ").pattern()
        assert pattern is not None
        by_pattern = {c for c in letters if pattern.fullmatch(f"x{c}x")}
        differ |= by_fts ^ by_pattern
    # Known differences: the dotless i (Python's case folding takes it for i, FTS5 does not), the long s
    # (FTS5 folds it to s), A with dot above and macron (FTS5 does not fold it).
    assert differ <= {"ı", "ſ", "ẛ", "Ǡ", "ǡ"}
