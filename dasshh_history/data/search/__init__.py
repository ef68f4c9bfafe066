"""Full-text search over every session: an SQLite FTS5 index kept beside the history.

The index lives in a cache file of its own (``~/.cache/dasshh-history/``), never
in dasshh's database: dasshh's rows and schema stay untouched, a read-only
history is searchable, and deleting the cache only costs a rebuild.  The cache
connection attaches the history read-only and :meth:`SearchIndex.sync` brings
the index in step with it: new events are indexed by rowid, events and sessions
removed by anyone are dropped, changed titles are indexed again.

One document per event (the text of its message, tool arguments and tool
results) and one per session title, in ``fts``: phrases and snippets come from
there.  The same text is indexed again per session, without positions, in
``words``: which sessions hold a word is one short posting list there, where
``fts`` would list every event (150,000 of them for "h" in 300,000 events).
What the filters need is noted by the same sync, in the cache too: the tools
each event calls, whether it is a failed result, its date, and each session's
last activity.

One job a module; this one is what the rest of the application imports:

- ``schema``: the cache file: its tables and their version, opening it, and how a write takes its lock;
- ``extract``: the searchable text of a stored value;
- ``marks``: sets of sessions as byte maps (a byte per session rowid), read, combined and listed;
- ``sync``: the write path, bringing the index in step with the history;
- ``building``: who writes the cache now (one sync at a time, across processes), how far it got, the backlog;
- ``broad``: the answers kept for the broadest words and prefixes;
- ``filtering``: the sessions each filter (``tool:``, ``is:failed``, ``after:``/``before:``, ``in:title``)
  keeps, from what ``sync`` noted of each event and session;
- ``index``: :class:`SearchIndex`, with the read path (search, snippets), ``sync``, ``broad`` and ``filtering`` mixed in.

Each tunable (``CHUNK``, ``BROAD_DOCS``...) lives in the module that reads it:
change it there (``dasshh_history.data.search.sync.CHUNK``); the names
re-exported here are for reading.
"""

from __future__ import annotations

from dasshh_history.data.search.broad import BROAD_CHANGED, BROAD_DOCS, BROAD_MAX
from dasshh_history.data.search.extract import MAX_TEXT, searchable_text
from dasshh_history.data.search.index import (
    FIRST_KEYS,
    TERM_CACHE,
    SearchIndex,
    SearchResult,
)
from dasshh_history.data.search.schema import (
    BUSY_TIMEOUT_SECONDS,
    MAX_ROWID,
    SCHEMA_VERSION,
    SEQ_BITS,
    SEQ_MASK,
    default_cache_path,
)
from dasshh_history.data.search.sync import (
    CHUNK,
    OPTIMIZE_AFTER,
    SEGMENT_TEXT,
    STALE_SEGMENTS,
    Progress,
    SyncResult,
)

__all__ = [
    "BROAD_CHANGED",
    "BROAD_DOCS",
    "BROAD_MAX",
    "BUSY_TIMEOUT_SECONDS",  # the cache connection's; set here for a shorter wait
    "CHUNK",
    "FIRST_KEYS",
    "MAX_ROWID",
    "MAX_TEXT",
    "OPTIMIZE_AFTER",
    "SCHEMA_VERSION",
    "SEGMENT_TEXT",
    "SEQ_BITS",
    "SEQ_MASK",
    "STALE_SEGMENTS",
    "TERM_CACHE",
    "Progress",
    "SearchIndex",
    "SearchResult",
    "SyncResult",
    "default_cache_path",
    "searchable_text",
]
