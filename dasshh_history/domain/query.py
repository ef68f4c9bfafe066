"""What the user typed into the search box, made safe.

Words are ANDed, "quoted phrases" match as phrases, case is ignored, and the
last word is matched as a prefix while it is still being typed.  Every term is
passed to FTS5 as a quoted string, so no character typed can be read as query
syntax; the same terms give the pattern that highlights matches on screen.
Filters (``tool:NAME``, ``is:failed``, ``after:``/``before:DATE``,
``in:title``) are read by :mod:`~dasshh_history.domain.filters`; anything
else with a colon is words.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from dasshh_history.domain.filters import IN_TITLE, INCOMPLETE, Filter, ToolFilter, read_filter
from dasshh_history.domain.plain import plain

# FTS5's unicode61 tokenizer keeps letters, numbers and private-use characters
# together and splits on everything else (underscore included).
_TOKEN = re.compile(r"[^\W_]+")
#: The longest prefix the search index holds (its ``prefix`` option).
SEEK_PREFIX = 3
#: Characters of context kept either side of a match for the session list, which shows what its width allows.
SNIPPET_CONTEXT = 200
#: At most how far a snippet's cut end moves, to the next space, so as not to cut a word.
SNIPPET_WORD = 16


#: Combining marks, which may follow a letter in decomposed text ("e" + U+0301).
_MARKS = "[\u0300-\u036f]*"


def _base(char: str) -> str:
    """A character without its accents ("é" -> "e"), lower case."""
    return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)).lower()


#: For each unaccented Latin letter, itself and the accented letters FTS5 folds to it ("e": "eèéêë…").
_VARIANTS: dict[str, str] = {}
for _code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
    if len(_folded := _base(chr(_code))) == 1 and _folded.isascii() and _folded.isalpha():
        _VARIANTS[_folded] = _VARIANTS.get(_folded, _folded) + chr(_code)


def _letter(char: str) -> str:
    """A pattern for one character of a term: any accented form of its letter, then any combining marks."""
    variants = _VARIANTS.get(_base(char))
    if variants is None:
        return re.escape(char)
    return "[" + variants + "]" + _MARKS


@lru_cache(maxsize=256)
def _term_regex(tokens: tuple[str, ...], prefix: bool) -> str:
    """Built once per term: snippets test every candidate text against it at each keystroke."""
    body = r"[\W_]+".join("".join(_letter(char) for char in token) for token in tokens)
    return r"(?<![^\W_])" + body + ("" if prefix else r"(?![^\W_])")


@dataclass(frozen=True, slots=True)
class Term:
    """A word or a phrase: its tokens, and whether the last one is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        quoted = '"' + " ".join(self.tokens) + '"'
        return quoted + "*" if self.prefix else quoted

    def regex(self) -> str:
        """A pattern for the term in displayed text: accents ignored, as the index ignores them."""
        return _term_regex(self.tokens, self.prefix)


def _tool_regex(tool: ToolFilter) -> str:
    """A pattern for a tool's name in displayed text: the whole name, or a word starting with it while typed."""
    return r"(?<!\w)" + re.escape(tool.name) + (r"\w*" if tool.prefix else r"(?!\w)")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search: its words and its filters; empty when nothing searchable was typed.

    With ``in_title`` every term must match in the session's title.
    """

    text: str
    terms: tuple[Term, ...]
    filters: tuple[Filter, ...] = ()
    in_title: bool = False

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        """The query ``text`` asks for; never raises, whatever it holds."""
        terms: list[Term] = []
        filters: list[Filter] = []
        in_title = False
        chunks = _split(text)
        open_end = not text[-1:].isspace()
        index = 0
        while index < len(chunks):
            chunk = chunks[index]
            found: Filter | str | None = None
            used = 1
            if not chunk.quoted and ":" in chunk.text:
                after = chunks[index + 1] if index + 1 < len(chunks) else None
                if chunk.text.endswith(":") and after is not None and after.quoted and after.glued:
                    # key:"quoted value"
                    typing = index + 2 == len(chunks) and not after.closed and open_end
                    found, used = read_filter(chunk.text, typing=typing, value=after.text), 2
                else:
                    found = read_filter(chunk.text, typing=index + 1 == len(chunks) and open_end)
            if found is None:
                tokens = tuple(token.lower() for token in _TOKEN.findall(chunk.text))
                if tokens:
                    typing = index + 1 == len(chunks) and not chunk.closed and open_end
                    # A word with punctuation inside ("foo.bar", "tool_call") is a phrase of its tokens.
                    terms.append(Term(tokens, prefix=typing))
                used = 1
            elif found == IN_TITLE:
                in_title = True
            elif found != INCOMPLETE:
                filters.append(found)  # type: ignore[arg-type]
            index += used
        return cls(text=text, terms=tuple(dict.fromkeys(terms)), filters=tuple(dict.fromkeys(filters)),
                   in_title=in_title)

    def __bool__(self) -> bool:
        return bool(self.terms or self.filters or self.in_title)

    @property
    def tools(self) -> tuple[ToolFilter, ...]:
        return tuple(f for f in self.filters if isinstance(f, ToolFilter))

    def matches(self, text: str) -> bool:
        """Whether every term occurs in ``text``, as the index would find it."""
        return all(re.search(term.regex(), text, re.IGNORECASE) for term in self.terms)

    def seekable(self) -> SearchQuery:
        """The query with long prefixes cut to :data:`SEEK_PREFIX` characters.

        FTS5 can seek through a prefix only as long as its prefix index;
        the shorter query finds a superset, to be checked with :meth:`matches`.
        """
        terms = tuple(
            Term((*term.tokens[:-1], term.tokens[-1][:SEEK_PREFIX]), prefix=True)
            if term.prefix and len(term.tokens[-1]) > SEEK_PREFIX
            else term
            for term in self.terms
        )
        return dataclasses.replace(self, terms=terms)

    def fts(self) -> str:
        """The FTS5 MATCH expression (implicit AND of quoted strings)."""
        return " ".join(term.fts() for term in self.terms)

    def pattern(self) -> re.Pattern[str] | None:
        """A case-insensitive pattern that finds any term, or the name of a ``tool:`` filter, in displayed text.

        The filters' own syntax (``tool:``, ``is:failed``) is never highlighted.
        """
        parts = [term.regex() for term in self.terms] + [_tool_regex(tool) for tool in self.tools]
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def _snippet_pattern(self) -> re.Pattern[str] | None:
        """What a snippet is centred on: the first term, or without words the tool's name."""
        if self.terms or not self.tools:
            return dataclasses.replace(self, filters=()).pattern()
        return self.pattern()

    def snippet(self, text: str, *, context: int = SNIPPET_CONTEXT) -> str:
        """The readable text around the first match in ``text``, on one line: up to ``context``
        characters either side of it, "…" where ``text`` goes on.

        The text is read as Markdown (see :func:`~dasshh_history.domain.plain.plain`), and
        its syntax left out, unless that leaves out the match (a word of a link's URL).  The
        list cuts this down to its width, around the match (:func:`~dasshh_history.domain.text.centre_on_match`).
        """
        pattern = self._snippet_pattern()
        found = pattern.search(text) if pattern else None
        start, end = (found.start(), found.end()) if found else (0, 0)
        # The source read: several times the context (syntax and runs of spaces go), from a line's start
        # and to a line's end where one is far enough from the match, so that its Markdown reads right.
        low, high = max(0, start - 4 * context), min(len(text), end + 4 * context)
        if low > 0 and (newline := text.find("\n", low, max(low, start - 2 * context))) >= 0:
            low = newline + 1
        if high < len(text) and (newline := text.rfind("\n", min(high, end + 2 * context), high)) >= 0:
            high = newline
        source = text[low:high]
        line = " ".join(plain(source).split())
        found = pattern.search(line) if pattern else None
        if found is None and pattern is not None and pattern.search(source):
            line = " ".join(source.split())  # the match was in the syntax: shown as written
            found = pattern.search(line)
        start, end = (found.start(), found.end()) if found else (0, 0)
        cut, stop = max(0, start - context), min(len(line), end + context)
        if cut > 0 and 0 <= (space := line.find(" ", cut, start)) < cut + SNIPPET_WORD:
            cut = space + 1  # start at a word
        if stop < len(line) and (space := line.rfind(" ", end, stop)) >= 0 and space > stop - SNIPPET_WORD:
            stop = space  # end at one
        head = "…" if cut > 0 or low > 0 else ""
        tail = "…" if stop < len(line) or high < len(text) else ""
        return head + line[cut:stop] + tail


class _Chunk(NamedTuple):
    """A piece of the query: a word (anything up to a space or a quote) or a quoted phrase."""

    text: str
    closed: bool  # a phrase is closed by its quote
    quoted: bool
    glued: bool  # right after the previous chunk, no space between (``key:"value"``)


def _split(text: str) -> list[_Chunk]:
    """The query's chunks: words and quoted phrases; an unmatched quote runs to the end."""
    chunks: list[_Chunk] = []
    i = 0
    while i < len(text):
        glued = i > 0 and not text[i - 1].isspace()
        if text[i].isspace():
            i += 1
        elif text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                chunks.append(_Chunk(text[i + 1:], False, True, glued))
                break
            chunks.append(_Chunk(text[i + 1:end], True, True, glued))
            i = end + 1
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] != '"':
                end += 1
            chunks.append(_Chunk(text[i:end], False, False, glued))
            i = end
    return chunks
