"""The searchable text of a stored value: the words of a message, its tool arguments and results.

Also what the filters need of an event (:func:`read_event`): its text and its
facts (the tools it calls, whether it failed) from one decoding of its content.
"""

from __future__ import annotations

from collections.abc import Iterator

from dasshh_history.domain.facts import NO_FACTS, EventFacts, event_facts
from dasshh_history.domain.jsondepth import loads

#: The most text indexed for one event.
MAX_TEXT = 1_000_000
#: Keys whose values say what a message is, not what it says.
_STRUCTURAL_KEYS = frozenset({"role", "id", "type", "tool_call_id", "index"})


def searchable_text(raw: object) -> str:
    """The words of a stored ``content`` value: every string in it, JSON inside strings included.

    Keys and structural values (role, ids, types) are left out, so that
    searching "user" or "content" does not match every event.  Never raises.
    """
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    value = _loads(raw) if isinstance(raw, str) else raw
    parts = list(_strings(value)) if value is not None else [str(raw)]
    return "\n".join(parts)[:MAX_TEXT]


def read_event(raw: object) -> tuple[str, EventFacts]:
    """The searchable text of a stored ``content`` and its facts, the JSON decoded once.

    The content is decoded as the timeline decodes it: text that is not JSON
    (or nests too deep) is a raw row there, with no calls and no failure.
    """
    if not isinstance(raw, str):
        return searchable_text(raw), NO_FACTS
    value = _loads(raw)
    if value is None:  # not JSON (or null): indexed as the text it is
        return raw[:MAX_TEXT], NO_FACTS
    return "\n".join(_strings(value))[:MAX_TEXT], event_facts(value)


def _loads(text: str) -> object | None:
    """The JSON value of text, None when it is not JSON or nests deeper than the limit (indexed as text)."""
    try:
        return loads(text)
    except ValueError:
        return None


def _strings(value: object) -> Iterator[str]:
    """Strings and numbers in document order; inside JSON-in-a-string (tool arguments, results) keys too.

    A string holding a JSON string literal (a tool's text result, which dasshh
    stores ``json.dumps``-ed: ``"NAME=\\"Debian\\"\\n..."``) is indexed decoded,
    so its words are not glued to escapes (``nDebian``) and snippets read as text.
    """
    stack: list[tuple[object, bool]] = [(value, False)]
    while stack:
        item, nested = stack.pop()
        if isinstance(item, str):
            if item.lstrip()[:1] in ("{", "[", '"') and (inner := _loads(item)) is not None:
                stack.append((inner, True))
            else:
                yield item
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if nested:
                    stack.extend([(inner, True), (str(key), True)])
                elif key not in _STRUCTURAL_KEYS:
                    stack.append((inner, False))
        elif isinstance(item, list):
            stack.extend((inner, nested) for inner in reversed(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            yield str(item)
