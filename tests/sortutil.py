"""A history on which every order of the session list disagrees with the others and with insertion order.

Ten sessions, inserted ``a`` to ``j``, with NULL, unparseable and non-text
dates, equal dates, equal sizes, and events dated after their session's
``updated_at``.  Equal values are listed first inserted first, but equal
creation times last inserted first.  The expected orders are written out by hand below.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from dasshh_history.data.client import DBClient
from dasshh_history.domain.order import ListOrder

#: (id, created_at, updated_at, the created_at of each of its events), in insertion order.
SESSIONS: list[tuple[str, object, object, list[object]]] = [
    ("a", "2026-03-01 10:00:00", "2026-03-05 10:00:00", ["2026-03-01 10:00:00"] * 2),
    # updated early, but an event dated after every updated_at: the most active (tied with i, inserted later)
    ("b", "2026-03-04 10:00:00", "2026-03-02 10:00:00", ["2026-03-02 09:00:00"] * 4 + ["2026-03-09 10:00:00"]),
    ("c", None, "2026-03-05 10:00:00", []),  # updated as a; created unknown
    ("d", "garbage", "not a date", ["2026-03-03 10:00:00"] * 3),  # text that is no date sorts first as stored
    ("e", "2026-03-06 10:00:00", None, ["2026-03-01 09:00:00"] * 4 + ["soon"]),  # as large as b
    ("f", "2026-03-04 10:00:00", "2026-03-04 12:00:00", [None]),  # created as b
    ("g", "2026-03-08 10:00:00", "2026-03-08 10:00:00", []),
    ("h", "2026-03-02 10:00:00", "2026-03-01 00:00:00", [None] * 7),  # the largest
    ("i", "2026-03-07 10:00:00", "2026-03-09 10:00:00", ["2026-03-07 10:00:00"] * 2),
    ("j", None, 12345, []),  # a number is no date (but sorts above NULL as stored)
]

#: Each order, by hand.
EXPECTED: dict[ListOrder, list[str]] = {
    # stored values, as dasshh's ORDER BY updated_at DESC: text > numbers > NULL; equal ones by rowid
    ListOrder.UPDATED: ["d", "i", "g", "a", "c", "f", "b", "h", "j", "e"],
    # the latest of updated_at and the events' dates: b 03-09 (its event) = i 03-09, g 03-08, a = c 03-05,
    # f 03-04, d 03-03 (its events), e 03-01 09:00 (its events), h 03-01 00:00, j none
    ListOrder.ACTIVITY: ["b", "i", "g", "a", "c", "f", "d", "e", "h", "j"],
    # g 03-08, i 03-07, e 03-06, f = b 03-04 (the later inserted first), h 03-02, a 03-01, then no date: j, d, c
    ListOrder.CREATED: ["g", "i", "e", "f", "b", "h", "a", "j", "d", "c"],
    # h 7, b = e 5, d 3, a = i 2, f 1, c = g = j 0
    ListOrder.SIZE: ["h", "b", "e", "d", "a", "i", "f", "c", "g", "j"],
}

#: The sessions with the word "kiwi" in an event.
KIWI = {"b", "d", "e", "h", "i"}


def title(session_id: str) -> str:
    return f"Session {session_id.upper()}"


def write_sorted_history(path: Path) -> Path:
    """The history of :data:`SESSIONS`, with the browser's indexes already added (as its first open does)."""
    DBClient(db_path=path).dispose()
    conn = sqlite3.connect(path)
    with conn:
        for sid, created, updated, dates in SESSIONS:
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", (sid, title(sid), created, updated))
            for n, date in enumerate(dates):
                word = "kiwi" if sid in KIWI and n == 0 else "plum"
                content = json.dumps({"role": "user", "content": f"message {n} of {sid}: {word}"})
                row = (f"{sid}-{n}", f"inv-{sid}", sid, date, content)
                conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", row)
    conn.close()
    return path
