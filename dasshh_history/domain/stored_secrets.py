"""Secrets in stored values: where in an event they are, and the value with each one redacted.

An event's ``content`` is JSON as dasshh stores it; its strings are what is
scanned (JSON escapes decoded, so a private key's line breaks are line breaks),
and a string that is itself JSON (a tool call's ``function.arguments``, a tool
result, which is ``json.dumps(result)``) is scanned string by string in turn.
Each finding says its *field*: ``result`` (a ``role: tool`` event's
``content``), ``arguments`` (a tool call's arguments), ``title`` (the session's
``detail``) or ``content`` (anything else), and its *path* in the JSON.

Redacting replaces each secret with ``[REDACTED:kind]`` inside the string that
holds it and writes that string back in the same place, re-encoded as it was
(``\\u`` escapes or not; nested JSON keeps its own layout): every byte outside
the changed strings stays, so the value keeps its shape and stays valid JSON.
A value that is not JSON (or is nested too deep to read) is redacted as text,
only when that leaves it exactly as invalid as before; a BLOB is redacted in
its bytes and stays a BLOB.

Pure: the standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from dasshh_history.domain import jsondepth
from dasshh_history.domain.secret_marks import CLOSE, OPEN, mark
from dasshh_history.domain.secrets import (
    Secret,
    find_secrets,
    may_hold_secret,
    placeholder,
)
from dasshh_history.domain.values import BrokenValue

# A JSON string literal in valid JSON text (outside literals there are no quotes).
_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Deepest JSON-in-a-string looked into (a result holding JSON holding JSON...).
MAX_NESTING = 4


@dataclass(frozen=True, slots=True)
class Found:
    """A secret in a stored value: the field, the JSON path of the string holding it (``""``: the
    whole value, as text), and the secret (its span is in that string, decoded)."""

    field: str
    path: str
    secret: Secret

    @property
    def kind(self) -> str:
        return self.secret.kind

    @property
    def masked(self) -> str:
        return self.secret.masked


def find_in_title(detail: object) -> list[Found]:
    return [Found("title", "", secret) for secret in find_secrets(_as_text(detail))] if detail is not None else []


def find_in_content(content: object) -> list[Found]:
    """The secrets in an event's stored ``content`` (text, BLOB or anything else), in order."""
    text = _as_text(content)
    if text is None or not may_hold_secret(text):
        return []
    value = _json(text)
    if value is _NOT_JSON:
        return [Found("content", "", secret) for secret in find_secrets(text)]
    found: list[Found] = []
    if type(value) is not dict:
        _walk(value, "", "content", found, 0)
        return found
    tool = value.get("role") == "tool"
    for key, item in value.items():
        _walk_key(key, key, "content", found)
        if key == "tool_calls" and type(item) is list:
            for number, call in enumerate(item):
                if type(call) is dict:
                    _walk_call(call, f"tool_calls[{number}]", found)
                else:
                    _walk(call, f"tool_calls[{number}]", "content", found, 0)
        else:
            _walk(item, key, "result" if tool and key == "content" else "content", found, 0)
    return found


def redact_content(content: object) -> tuple[object, int]:
    """``content`` with every secret redacted, and how many were; the same object when none was.

    A string stays a string, a BLOB a BLOB; other values (NULL, numbers) are returned as they are.
    """
    if type(content) is bytes:
        text = content.decode("utf-8", "surrogateescape")
        new, count = redact_content(text)
        return (new.encode("utf-8", "surrogateescape"), count) if count else (content, 0)  # type: ignore[union-attr]
    if type(content) is not str or not may_hold_secret(content):
        return content, 0
    if _json(content) is _NOT_JSON:
        secrets = find_secrets(content)
        if not secrets:
            return content, 0
        new = _replace(content, secrets)
        if jsondepth.is_json(new):  # it would turn into JSON: left as it is (never happens with real text)
            return content, 0
        return new, len(secrets)
    new, count = _redact_json_text(content, 0)
    return (new, count) if count else (content, 0)


def redact_title(detail: object) -> tuple[object, int]:
    """A session's title with every secret redacted (as text), and how many were."""
    text = _as_text(detail)
    if text is None:
        return detail, 0
    secrets = find_secrets(text)
    if not secrets:
        return detail, 0
    new = _replace(text, secrets)
    return (new.encode("utf-8", "surrogateescape") if type(detail) is bytes else new), len(secrets)


# -- walking and replacing -------------------------------------------------------------------------------------

_NOT_JSON = object()


def _as_text(value: object) -> str | None:
    if type(value) is str:
        return value
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    return None


def _json(text: str) -> object:
    try:
        return jsondepth.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _nested(text: str, depth: int) -> object:
    """The JSON value a string holds, when it is JSON text of an object, array or string; else _NOT_JSON."""
    if depth >= MAX_NESTING or text.lstrip()[:1] not in ('{', '[', '"'):
        return _NOT_JSON
    value = _json(text)
    return value if type(value) in (dict, list, str) else _NOT_JSON


def _walk(value: object, path: str, field: str, found: list[Found], depth: int) -> None:
    if type(value) is str:
        if not may_hold_secret(value):
            return
        inner = _nested(value, depth)
        if inner is not _NOT_JSON:
            _walk(inner, f"{path}>", field, found, depth + 1)
        else:
            found.extend(Found(field, path, secret) for secret in find_secrets(value))
    elif type(value) is dict:
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else key
            _walk_key(key, key_path, field, found)
            _walk(item, key_path, field, found, depth)
    elif type(value) is list:
        for number, item in enumerate(value):
            _walk(item, f"{path}[{number}]", field, found, depth)


def _walk_key(key: str, path: str, field: str, found: list[Found]) -> None:
    """Secrets in an object's key (redacted too: keys are strings like any other)."""
    if may_hold_secret(key):
        found.extend(Found(field, path, secret) for secret in find_secrets(key))


def _walk_call(call: dict, path: str, found: list[Found]) -> None:
    """A tool call: its ``function.arguments`` are the ``arguments`` field, the rest ``content``."""
    for key, item in call.items():
        key_path = f"{path}.{key}"
        _walk_key(key, key_path, "content", found)
        if key == "function" and type(item) is dict:
            for name, part in item.items():
                _walk_key(name, f"{key_path}.{name}", "content", found)
                _walk(part, f"{key_path}.{name}", "arguments" if name == "arguments" else "content", found, 0)
        else:
            _walk(item, key_path, "content", found, 0)


def _redacted(secret: Secret) -> str:
    return placeholder(secret.kind)


def _replace(text: str, secrets: list[Secret], replacement: Callable[[Secret], str] = _redacted) -> str:
    for secret in sorted(secrets, key=lambda s: s.start, reverse=True):
        text = f"{text[:secret.start]}{replacement(secret)}{text[secret.end:]}"
    return text


def _redact_json_text(text: str, depth: int, replacement: Callable[[Secret], str] = _redacted) -> tuple[str, int]:
    """Valid JSON text with the secrets in its strings redacted, each string re-encoded as it was written."""
    total = 0
    pieces: list[str] = []
    last = 0
    for match in _LITERAL.finditer(text):
        literal = match.group()
        if "\\" not in literal and not may_hold_secret(literal):  # (what it decodes to is asked below)
            continue
        decoded = json.loads(literal)
        new, count = _redact_string(decoded, depth, replacement)
        if not count:
            continue
        pieces.append(text[last:match.start()])
        pieces.append(_encode_like(new, decoded, literal))
        last = match.end()
        total += count
    if not total:
        return text, 0
    pieces.append(text[last:])
    return "".join(pieces), total


def _redact_string(value: str, depth: int, replacement: Callable[[Secret], str] = _redacted) -> tuple[str, int]:
    if not may_hold_secret(value):
        return value, 0
    if _nested(value, depth) is not _NOT_JSON:
        return _redact_json_text(value, depth + 1, replacement)
    secrets = find_secrets(value)
    return (_replace(value, secrets, replacement), len(secrets)) if secrets else (value, 0)


def _masked(secret: Secret) -> str:
    return mark(secret.masked)


# A masked secret between its marks in a JSON string literal written with ``\\u`` escapes (see _encode_like).
_ESCAPED_MARKED = re.compile(
    "(?<!\\\\)((?:\\\\\\\\)*)" + re.escape(json.dumps(OPEN)[1:-1]) + "(.*?)" + re.escape(json.dumps(CLOSE)[1:-1])
)


def _unescape_marked(found: re.Match[str]) -> str:
    """A masked secret as the timeline shows it, its marks and ellipsis not ``\\u`` escapes: ``ghp_…9f3a``."""
    return found.group(1) + OPEN + found.group(2).replace("\\u2026", "…", 1) + CLOSE


def mask_value(value: object) -> object:
    """A decoded stored value (as the timeline reads it) with every secret in its strings shown masked
    (``ghp_…9f3a``), strings that hold JSON masked inside and kept JSON; the same object when none was.
    A :class:`~dasshh_history.domain.values.BrokenValue` has its raw text masked.  Each masked secret is
    between the invisible marks of :mod:`~dasshh_history.domain.secret_marks` (the timeline draws it apart),
    also inside nested JSON, where it is written unescaped (``ghp_…9f3a``, not ``ghp_\\u2026…``)."""
    if type(value) is str:
        return _redact_string(value, 0, _masked)[0]
    if type(value) is dict:
        items = {key: mask_value(item) for key, item in value.items()}
        return items if any(items[key] is not value[key] for key in value) else value
    if type(value) is list:
        masked = [mask_value(item) for item in value]
        return masked if any(new is not old for new, old in zip(masked, value)) else value
    if type(value) is BrokenValue:
        raw = value.raw
        secrets = find_secrets(raw) if type(raw) is str else []
        return BrokenValue(raw=_replace(raw, secrets, _masked), error=value.error) if secrets else value
    return value


def _encode_like(new: str, old: str, literal: str) -> str:
    """``new`` as a JSON string literal written the way ``literal`` (which is ``old``) was."""
    for ascii_only in (True, False):
        if json.dumps(old, ensure_ascii=ascii_only) == literal:
            break
    else:
        ascii_only = literal.isascii()
    encoded = json.dumps(new, ensure_ascii=ascii_only)
    return _ESCAPED_MARKED.sub(_unescape_marked, encoded) if ascii_only and OPEN in new else encoded
