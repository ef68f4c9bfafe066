"""Sets of sessions as byte maps: one byte per session rowid, 1 for each session in the set.

A few tens of kilobytes where a set of the rowids would take megabytes; read
from SQLite in one step, combined as big integers and listed in list order
with loops that run in C.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from itertools import compress
from operator import itemgetter


def read_marks(conn: sqlite3.Connection, found: str, match: object, top: int) -> bytes:
    """One byte per session rowid, 1 for each session ``found`` (a query of ``session`` rowids, its one
    parameter ``?1`` given as ``match``) lists; ``top`` is the largest session rowid there is.

    The rowids come back in one row, as one JSON array: a single step of
    SQLite, which runs without the GIL, and a string the JSON decoder (C)
    turns into numbers in one call.  Measured on ``"h"*`` in 54,000
    segments: 24 ms, where one character per rowid (``char(65536 +
    session)``, decoded as UTF-32) took 43 ms -- SQLite's ``char()`` costs
    far more per row than writing the number -- and reading rows one by one
    longer still, holding the GIL for tens of milliseconds.  A session may
    be listed several times (once per matching segment or event): it is
    marked once.  Removing the repeats in SQL (``DISTINCT``) cost more than
    the longer string.  ``top`` is not needed to read them; it is kept for
    the callers' symmetry with :func:`in_list_order`.
    """
    (joined,) = conn.execute(f"SELECT '[' || group_concat(session) || ']' FROM ({found})", numbered(match)).fetchone()
    if not joined:
        return b""
    codes = json.loads(joined)
    marks = bytearray(max(codes) + 1)
    for code in codes:
        if code >= 0:
            marks[code] = 1
    return bytes(marks)


def numbered(*values: object) -> dict[str, object]:
    """Parameters for SQL with numbered placeholders (``?1``, ``?2``): as a mapping, which Python 3.14 requires
    (3.12 and 3.13 warn when a sequence is given for them)."""
    return {str(number): value for number, value in enumerate(values, 1)}


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


def session_ranges(sessions: Iterable[int], limit: int) -> list[tuple[int, int]]:
    """The sessions as at most ``limit`` ranges of rowids (first, last), sorted: runs of consecutive rowids,
    the nearest runs joined when there are more.  A range may take in sessions not given."""
    runs: list[list[int]] = []
    for session in sorted(set(sessions)):
        if runs and session == runs[-1][1] + 1:
            runs[-1][1] = session
        else:
            runs.append([session, session])
    if len(runs) > limit:
        # cut where the gaps are widest: limit - 1 of them
        gaps = sorted(range(1, len(runs)), key=lambda i: runs[i][0] - runs[i - 1][1], reverse=True)[: limit - 1]
        cuts = [0, *sorted(gaps), len(runs)]
        runs = [[runs[a][0], runs[b - 1][1]] for a, b in zip(cuts, cuts[1:])]
    return [(first, last) for first, last in runs]
