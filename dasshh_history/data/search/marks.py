"""Sets of sessions as byte maps: one byte per session rowid, 1 for each session in the set.

A few tens of kilobytes where a set of the rowids would take megabytes; read
from SQLite in one step, combined as big integers and listed in list order
with loops that run in C.
"""

from __future__ import annotations

import sqlite3
import sys
from array import array
from collections.abc import Sequence
from itertools import compress
from operator import itemgetter

#: Session rowids are read as characters from this code point on (past the surrogates; see :func:`read_marks`).
_CHAR_BASE = 0x10000
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
_U32 = next(code for code in "ILH" if array(code).itemsize == 4)


def read_marks(conn: sqlite3.Connection, found: str, match: str, top: int) -> bytes:
    """One byte per session rowid, 1 for each session ``found`` (a query of ``session`` rowids) lists;
    ``top`` is the largest session rowid there is.

    The rowids come back in one row, as one character each (code point
    ``_CHAR_BASE + rowid``): a single step of SQLite, which runs without the
    GIL, and a string Python turns into numbers in one call.  Row by row,
    or as decimal text, turning tens of thousands of rowids into numbers
    held the GIL long enough to delay the UI thread, and be delayed by it,
    for tens of milliseconds.  Rowids too large for one character (over a
    million sessions, or rowids set by hand) are read as decimal text.  A
    session may be listed several times (once per matching segment or
    event): it is marked once.  Removing the repeats in SQL (``DISTINCT``)
    cost more than the longer string: 89 against 46 ms for ``h*`` in 71,000
    segments.
    """
    if top + _CHAR_BASE > sys.maxunicode:  # a rowid too large for one character
        (joined,) = conn.execute(f"SELECT group_concat(session) FROM ({found})", (match,)).fetchone()
        codes: Sequence[int] = [int(rowid) + _CHAR_BASE for rowid in joined.split(",")] if joined else []
    else:
        sql = f"SELECT group_concat(char({_CHAR_BASE} + session), '') FROM ({found})"
        (joined,) = conn.execute(sql, (match,)).fetchone()
        codes = array(_U32, (joined or "").encode(_UTF32))
    if not codes:
        return b""
    marks = bytearray(max(codes) + 1)
    for code in codes:
        marks[code] = 1
    return bytes(marks[_CHAR_BASE:])


def in_list_order(matched: bytes, rowids: list[int], ids: list[str], top: int) -> list[str]:
    """The ids whose rowid (``top`` the largest) is marked in ``matched``, in their order; the loop runs in C."""
    if len(rowids) < 2:  # itemgetter of one index gives a value, not a tuple
        return [sid for rowid, sid in zip(rowids, ids) if rowid < len(matched) and matched[rowid]]
    padded = matched + bytes(max(0, top + 1 - len(matched)))
    return list(compress(ids, itemgetter(*rowids)(padded)))


def either(one: bytes, other: bytes) -> bytes:
    """Sessions marked in one or the other (one byte per session rowid, 0 or 1)."""
    size = max(len(one), len(other))
    bits = int.from_bytes(one, "little") | int.from_bytes(other, "little")
    return bits.to_bytes(size, "little")


def both(one: bytes, other: bytes) -> bytes:
    """Sessions marked in both (one byte per session rowid, 0 or 1), as one big-integer AND."""
    size = min(len(one), len(other))
    bits = int.from_bytes(one[:size], "little") & int.from_bytes(other[:size], "little")
    return bits.to_bytes(size, "little")
