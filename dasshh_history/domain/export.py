"""A session as a Markdown document or a JSON file; pure functions, no I/O.

Both exports stream: :func:`iter_session_markdown` and :func:`iter_session_json`
yield the document piece by piece, so a session of thousands of events never
has to be held whole; :func:`session_markdown` and :func:`session_json` join them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from dasshh_history.domain.entries import (
    AssistantReply,
    Entry,
    Invocation,
    RawEntry,
    ToolCall,
    ToolResult,
    UserMessage,
)
from dasshh_history.domain.jsondepth import dumped_nests_deeper_than, is_json
from dasshh_history.domain.markdown import close_open_fence, escape_inline, fenced, inline_code
from dasshh_history.domain.parse import EventLike
from dasshh_history.domain.text import format_timestamp, one_line, sanitize, to_local
from dasshh_history.domain.values import BrokenValue


class SessionFields(Protocol):
    """What an export needs of a session: a ``SessionSummary`` or a ``StorageSession``."""

    id: str
    detail: str | None
    created_at: datetime | None
    updated_at: datetime | None


#: Longest title shown in a Markdown heading (longer ones end in "…").
TITLE_LIMIT = 300


def _datetime_or_none(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _title(detail: object) -> str:
    return one_line(None if detail is None else str(detail), TITLE_LIMIT)


# -- Markdown ----------------------------------------------------------------


def _user(entry: UserMessage) -> str:
    text = sanitize(entry.text)
    return "### You\n\n" + (fenced(text, "text") if text.strip() else "*(empty message)*")


def _assistant(entry: AssistantReply) -> str:
    text = sanitize(entry.text).strip("\n")
    return "### Assistant\n\n" + (close_open_fence(text) if text.strip() else "*(no text)*")


def _tool_call(entry: ToolCall) -> str:
    title = f"**Tool call** {inline_code(entry.name)}"
    if entry.call_id:
        title += f" ({inline_code(entry.call_id)})"
    if entry.arguments_valid:
        return f"{title}\n\n{fenced(sanitize(entry.pretty), 'json')}"
    problem = entry.problem or "arguments are not valid JSON"
    raw = sanitize(entry.arguments_raw)
    if not raw:
        return f"{title}\n\n*({escape_inline(problem)})*"
    return f"{title}\n\n*{escape_inline(problem)}; as stored:*\n\n{fenced(raw, 'text')}"


def _tool_result(entry: ToolResult) -> str:
    title = "**Result**"
    if entry.name:
        title += f" of {inline_code(entry.name)}"
    if entry.call_id:
        title += f" ({inline_code(entry.call_id)})"
    return f"{title}\n\n{fenced(sanitize(entry.pretty), 'json' if entry.is_json else 'text')}"


def _raw(entry: RawEntry) -> str:
    title = f"**Raw event**: {escape_inline(entry.reason)}"
    if entry.role and entry.reason != "system message":
        title += f" (role {inline_code(entry.role)})"
    raw = sanitize(entry.raw)
    return f"{title}\n\n{fenced(raw, 'json' if is_json(entry.raw) else 'text')}"


_RENDERERS = {
    UserMessage: _user,
    AssistantReply: _assistant,
    ToolCall: _tool_call,
    ToolResult: _tool_result,
    RawEntry: _raw,
}


def entry_markdown(entry: Entry) -> str:
    """One timeline entry as a Markdown block (no trailing newline)."""
    return _RENDERERS[type(entry)](entry)


def markdown_header(fields: SessionFields, *, tz: tzinfo | None) -> str:
    """The document's title and the session's facts."""
    lines = [
        f"# {escape_inline(_title(fields.detail))}",
        "",
        f"- Session: {inline_code(str(fields.id))}",
        f"- Created: {format_timestamp(_datetime_or_none(fields.created_at), tz)}",
        f"- Updated: {format_timestamp(_datetime_or_none(fields.updated_at), tz)}",
    ]
    count = getattr(fields, "event_count", None)
    if isinstance(count, int):
        lines.append(f"- Events: {count:,}")
    return "\n".join(lines)


def invocation_markdown(invocation: Invocation, *, tz: tzinfo | None) -> str:
    """One invocation: a sub-heading with its time, then each entry."""
    blocks = [f"## {format_timestamp(invocation.started_at, tz)}"]
    blocks.extend(entry_markdown(entry) for entry in invocation.entries)
    return "\n\n".join(blocks)


def iter_session_markdown(
    fields: SessionFields, invocations: Iterable[Invocation], *, tz: tzinfo | None
) -> Iterator[str]:
    """The Markdown document of a session, in pieces that join to :func:`session_markdown`.

    Everything from the database is literal: terminal control sequences are
    stripped (:func:`~dasshh_history.domain.text.sanitize`), the title is
    backslash-escaped, and what the user typed goes in a fenced ``text``
    block.  User text is plain text, not Markdown: a fence keeps it exactly as
    typed (line breaks, indentation, ``*``, ``#``, ``<tags>``, a lone ``>``)
    without escaping every punctuation mark, which a blockquote would need and
    which would clutter the raw file, and a fence longer than any backtick run
    inside cannot be closed early.  Assistant replies are Markdown already and
    are kept as their source (a code block left open is closed).  Tool calls
    and JSON results are pretty-printed in ``json`` fences; other results,
    invalid arguments and raw rows in ``text`` fences, with what is wrong.
    """
    yield markdown_header(fields, tz=tz)
    for invocation in invocations:
        yield "\n\n" + invocation_markdown(invocation, tz=tz)
    yield "\n"


def session_markdown(fields: SessionFields, invocations: Iterable[Invocation], *, tz: tzinfo | None) -> str:
    """The whole Markdown document of a session (see :func:`iter_session_markdown`)."""
    return "".join(iter_session_markdown(fields, invocations, tz=tz))


# -- JSON --------------------------------------------------------------------


def iso_utc(value: object) -> str | None:
    """A stored time as ISO 8601 with an explicit UTC offset; None when missing or unparseable."""
    if not isinstance(value, datetime):
        return None
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat()


def session_record(fields: SessionFields) -> dict[str, Any]:
    """The session's own fields as JSON values."""
    return {
        "id": fields.id,
        "detail": fields.detail,
        "created_at": iso_utc(fields.created_at),
        "updated_at": iso_utc(fields.updated_at),
    }


def _dumps(value: object) -> str:
    # default=str: a column SQLite hands back as another type (bytes in an id, say) never stops the export.
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def event_json(row: EventLike, session_id: str) -> str:
    """One event as an indented JSON object; never raises.

    ``content`` is the stored JSON value.  An undecodable row gets
    ``"content": null`` with ``content_raw`` (the stored text) and
    ``content_error``, stored text nested deeper than
    :data:`~dasshh_history.domain.jsondepth.MAX_JSON_DEPTH`
    included; so does a value nested deeper than that (only a value handed in,
    not one read from storage, can be), with no ``content_raw``: only the
    decoded value is at hand.
    """
    record: dict[str, Any] = {
        "id": getattr(row, "id", None),
        "invocation_id": getattr(row, "invocation_id", None),
        "session_id": getattr(row, "session_id", session_id),
        "created_at": iso_utc(getattr(row, "created_at", None)),
        "content": None,
    }
    content = getattr(row, "content", None)
    if isinstance(content, BrokenValue):
        return _dumps(record | {"content_raw": content.raw, "content_error": content.error})
    try:
        text = _dumps(record | {"content": content})
    except (RecursionError, ValueError, TypeError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else type(exc).__name__
    else:
        if not dumped_nests_deeper_than(content, text):
            return text
        reason = "nested too deeply"
    return _dumps(record | {"content_error": f"content cannot be exported ({reason})"})


def _indent(text: str) -> str:
    # Not textwrap.indent: it would also split at U+2028 or U+0085, which json leaves unescaped in strings.
    return "\n".join("    " + line for line in text.split("\n"))


def iter_session_json(fields: SessionFields, rows: Iterable[EventLike]) -> Iterator[str]:
    """The JSON document of a session, in pieces; joined, it equals :func:`session_json`.

    ``{"id", "detail", "created_at", "updated_at", "events": [...]}``, the
    events in the order given (the stored order: insertion, by rowid),
    each ``{"id", "invocation_id", "session_id", "created_at", "content"}``.
    Times are ISO 8601 in UTC (``+00:00``), null when missing or unparseable.
    """
    head = _dumps(session_record(fields))
    yield head[: -len("\n}")] + ',\n  "events": ['
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + _indent(event_json(row, fields.id))
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def session_json(fields: SessionFields, rows: Iterable[EventLike]) -> str:
    """The whole JSON export of a session (see :func:`iter_session_json`), indented, UTF-8 as is."""
    return "".join(iter_session_json(fields, rows))


# -- file names --------------------------------------------------------------

SLUG_LIMIT = 50
#: Variation selectors (an emoji's "show as picture", ...): dropped without splitting a word.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _words(text: str) -> Iterator[str]:
    """Runs of letters and digits of any script, with the marks that belong to them; anything else splits."""
    word: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LN" or (word and category in ("Mn", "Mc")):
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


def slugify(title: str | None, limit: int = SLUG_LIMIT) -> str:
    """Lowercase words joined by ``-``, at most ``limit`` characters; "untitled" when none.

    Words are letters and digits of any script (``日本語のメモ``, ``заметки``,
    ``café``), compatibility forms folded (NFKC: full-width Latin, half-width
    kana), with their combining marks (Arabic vowels, Devanagari signs).
    Everything else separates words: punctuation, spaces, emoji and other
    symbols, and so every character unsafe in a file name on Linux, macOS or
    Windows (``/ \\ : * ? " < > |``, control characters); with the date in
    front, the name is never a reserved one (``CON``) nor ends in a dot or a space.
    """
    text = unicodedata.normalize("NFKC", (title or "")[: limit * 8])
    text = unicodedata.normalize("NFC", _VARIATION_SELECTORS.sub("", text).lower())
    slug = ""
    for word in _words(text):
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            slug = slug or word[:limit]
            break
        slug = candidate
    return slug or "untitled"


def export_filename(created_at: datetime | None, title: str | None, tz: tzinfo | None, ext: str = "md") -> str:
    """``2025-03-12-fix-the-flaky-test.md``: the session's local start date ("undated" if unknown) and title."""
    date = to_local(created_at, tz).strftime("%Y-%m-%d") if isinstance(created_at, datetime) else "undated"
    return f"{date}-{slugify(None if title is None else str(title))}.{ext}"
