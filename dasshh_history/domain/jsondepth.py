"""How deeply stored JSON may nest and still be read as JSON: one limit, the same on every Python.

Python's ``json`` gives up on deep nesting at a depth that depends on the
interpreter (about 1,000 levels on 3.11, 1,500 on 3.12, 10,000 on 3.13) and on
how deep the calling stack already is.  Whether a stored value is shown,
searched and exported as JSON or as text must not depend on that: JSON that
has more than :data:`MAX_JSON_DEPTH` arrays or objects open at once is never
handed back decoded, and every place that reads stored JSON goes through
:func:`loads`.  The limit is far below what any supported interpreter can
decode, encode, indent and ``repr``, so a value it lets through never meets a
``RecursionError`` later.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any

#: The most arrays/objects stored JSON may have open at once (``[]`` is 1 level, ``[[]]`` 2, ``"x"`` 0).
MAX_JSON_DEPTH = 500

# A JSON string, escapes included; one left open runs to the end of the text (as the text would read).
# The closing quote is optional so that a match never fails: failed attempts could rescan the text
# once per quote (quadratic on a hostile row).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes


class TooDeepError(ValueError):
    """JSON text (or a value) nested deeper than :data:`MAX_JSON_DEPTH`."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        super().__init__(f"nested deeper than {limit:,} levels")


def text_depth(text: str) -> int:
    """The most brackets open at once in JSON text, brackets inside strings left out.

    Linear in the text and mostly in C; for invalid JSON it still answers
    (unbalanced closing brackets only lower the running count).
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(array("b", brackets.encode("ascii").translate(_STEP)))))


def nests_deeper_than(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text opens more than ``limit`` arrays/objects at once.

    Cheap for ordinary rows: text holding at most ``limit`` opening brackets
    (inside strings or not) cannot nest deeper, and counting them takes two
    C-speed passes; only other texts are scanned.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    return text_depth(text) > limit


def value_nests_deeper_than(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON value has more than ``limit`` arrays/objects (dicts, lists, tuples) open at once.

    One level at a time, so a deep value is found after ``limit`` short steps
    and a wide one costs one pass over its containers; never recursive.
    """
    level = [value] if type(value) in _CONTAINERS else []
    for _ in range(limit):
        if not level:
            return False
        level = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item)
            if type(child) in _CONTAINERS
        ]
    return bool(level)


_CONTAINERS = frozenset({dict, list, tuple})  # what json reads and writes as objects and arrays (exact types)


def dumped_nests_deeper_than(value: object, text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value``, which ``json.dumps`` wrote as ``text``, nests deeper than ``limit``.

    Counting the brackets of ``text`` spares the walk of :func:`value_nests_deeper_than`
    for nearly every value; the text itself is not scanned (slower than the walk).
    """
    return text.count("[") + text.count("{") > limit and value_nests_deeper_than(value, limit)


_SCAN = json.JSONDecoder().scan_once  # the C scanner (it forgets its memo after each call)
_SPACE = " \t\n\r"  # JSON's whitespace


def _json_loads(text: str) -> Any:
    """``json.loads(text)`` for a ``str``, the same value or the same error, without its layers of Python
    (half of its time on a short row): the scanner between JSON's whitespace."""
    if not isinstance(text, str) or text.startswith("\ufeff"):
        return json.loads(text)  # what json says of these
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = _SCAN(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):
        rest = text[end:].lstrip(_SPACE)
        if rest:
            raise json.JSONDecodeError("Extra data", text, len(text) - len(rest))
    return value


def loads(text: str) -> Any:
    """``json.loads`` that refuses JSON nested deeper than :data:`MAX_JSON_DEPTH`.

    Raises :class:`TooDeepError` for such text (valid or not: invalid text is
    too deep when it nests deeper than the limit before the point where it
    stops being JSON), ``ValueError`` (``json.JSONDecodeError``) for other
    invalid JSON; never ``RecursionError``.  The decision is the same on every
    Python version: the interpreter's own limit is only ever met above ours.
    """
    try:
        value = _json_loads(text)
    except json.JSONDecodeError as exc:
        if nests_deeper_than(text[: exc.pos]):
            raise TooDeepError() from None
        raise
    except RecursionError:
        # Deeper than the interpreter goes (so deeper than the limit), or called with the
        # stack nearly full already: either way not decoded.
        raise TooDeepError() from None
    # Fewer opening brackets than the limit (the usual row) cannot nest deeper: no walk.
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and value_nests_deeper_than(value):
        raise TooDeepError()
    return value


def is_json(text: str) -> bool:
    """Whether text is JSON that :func:`loads` accepts."""
    try:
        loads(text)
    except ValueError:
        return False
    return True
