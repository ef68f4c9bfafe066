"""What the user typed into the search box, made safe.

Words are ANDed, "quoted phrases" match as phrases, case is ignored, and the
last word is matched as a prefix while it is still being typed.  Every term is
passed to FTS5 as a quoted string, so no character typed can be read as query
syntax; the same terms give the pattern that highlights matches on screen.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A parsed search; empty when nothing searchable was typed."""

    text: str
    terms: tuple[Term, ...]

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        terms: list[Term] = []
        chunks = _split(text)
        for index, (chunk, closed) in enumerate(chunks):
            tokens = tuple(token.lower() for token in _TOKEN.findall(chunk))
            if not tokens:
                continue
            typing = index == len(chunks) - 1 and not closed and not text[-1:].isspace()
            # A word with punctuation inside ("foo.bar", "tool_call") is a phrase of its tokens.
            terms.append(Term(tokens, prefix=typing))
        return cls(text=text, terms=tuple(dict.fromkeys(terms)))

    def __bool__(self) -> bool:
        return bool(self.terms)

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
        return SearchQuery(text=self.text, terms=terms)

    def fts(self) -> str:
        """The FTS5 MATCH expression (implicit AND of quoted strings)."""
        return " ".join(term.fts() for term in self.terms)

    def pattern(self) -> re.Pattern[str] | None:
        """A case-insensitive pattern that finds any term in displayed text."""
        if not self.terms:
            return None
        return re.compile("|".join(term.regex() for term in self.terms), re.IGNORECASE)

    def snippet(self, text: str, *, context: int = SNIPPET_CONTEXT) -> str:
        """The readable text around the first match in ``text``, on one line: up to ``context``
        characters either side of it, "…" where ``text`` goes on.

        The text is read as Markdown (see :func:`~dasshh_history.domain.plain.plain`), and
        its syntax left out, unless that leaves out the match (a word of a link's URL).  The
        list cuts this down to its width, around the match (:func:`~dasshh_history.domain.text.centre_on_match`).
        """
        pattern = self.pattern()
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


def _split(text: str) -> list[tuple[str, bool]]:
    """Chunks of the query: (text, closed) — a phrase is closed by its quote; an unmatched quote runs to the end."""
    chunks: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                chunks.append((text[i + 1:], False))
                break
            chunks.append((text[i + 1:end], True))
            i = end + 1
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] != '"':
                end += 1
            chunks.append((text[i:end], False))
            i = end
    return chunks
