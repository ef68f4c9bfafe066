"""Command line: ``search`` and ``stats``, read-only on the history (they write only our cache files).

No Textual here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
from collections.abc import Callable

from dasshh_history.cli_common import PROG, _fail, _non_negative, _one_line, _stdout, progress
from dasshh_history.data.client import DBClient


def add_commands(commands: argparse._SubParsersAction, add_source_options: Callable[..., None]) -> None:
    """Add ``search`` and ``stats`` to the command line's commands."""
    search = commands.add_parser(
        "search",
        help="print the sessions a search matches, newest first",
        description="Print the sessions a search matches, newest first: the browser's search syntax, words ANDed, "
        "\"quoted phrases\", and the filters tool:NAME, is:failed, after:DATE, before:DATE (2026-03-14, or "
        "7d, 2w, 3m, 1y before now; a session's date is its last activity, days are local) and in:title. "
        "A query of filters alone lists every session passing them. The search index is built or brought "
        "up to date first, in its cache file (never in the history). Exit status 0, matches or not.",
    )
    add_source_options(search, defaults=False)
    search.add_argument("query", metavar="QUERY", nargs="+", help="what to search for (several arguments are joined)")
    search.add_argument(
        "--json", action="store_true",
        help="a JSON array of {id, detail, created_at, updated_at, last_active, event_count, snippet} (times in UTC)",
    )
    search.add_argument("--limit", metavar="N", type=_non_negative, help="print at most N sessions")

    stats = commands.add_parser(
        "stats",
        help="print the history's stats: activity, hours, tools and their failures, the largest sessions",
        description="Print the stats of the whole history, or of the sessions a search matches (QUERY, the "
        "search syntax of 'search'): totals, sessions and messages per day or week, messages per weekday and "
        "hour (local time), tool calls and failure rates, the largest tool outputs, the largest and longest "
        "sessions. Worked out in a cache file beside the search cache (never in the history), incrementally.",
    )
    add_source_options(stats, defaults=False)
    stats.add_argument("query", metavar="QUERY", nargs="*", help="only the sessions this search matches")
    stats.add_argument("--json", action="store_true", help="the figures as one JSON object (times in UTC)")


# -- search ------------------------------------------------------------------------


def cmd_search(client: DBClient, args: argparse.Namespace) -> int:
    """``search``: the sessions a query matches, as a table or (``--json``) a JSON array; 0 with or without."""
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.services.index_keeper import IndexKeeper
    from dasshh_history.services.searching import (
        hit_lines,
        hit_record,
        script_query,
        search_history,
    )

    keeper = IndexKeeper(client, getattr(args, "search_path", None))
    try:
        synced = keeper.sync(progress("indexing for search"))
        if synced.failed:  # the cache is locked or cannot be written: what is indexed already is searched
            print(f"{PROG}: {synced.error or 'could not bring the search index up to date'}; "
                  "results may miss the latest changes", file=sys.stderr)
        query = script_query(" ".join(args.query))
        hits = search_history(keeper.open(), HistoryReader(client), query, limit=args.limit)
        if args.json:
            records = [hit_record(hit) for hit in hits]
            _stdout(encoding="utf-8").write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
            found = bool(records)
        else:
            stream = _stdout(errors="replace")
            width = shutil.get_terminal_size((100, 24)).columns
            found = False
            for number, line in enumerate(hit_lines(hits, query, width)):
                stream.write(line + "\n")
                found = number > 0
        if not found:
            print(f"{PROG}: no session matches {' '.join(args.query)!r}", file=sys.stderr)
        return 0
    except sqlite3.Error as exc:
        return _fail(f"cannot search {client.db_path}: {_one_line(exc)}")
    finally:
        keeper.close()


# -- stats -------------------------------------------------------------------------


def cmd_stats(client: DBClient, args: argparse.Namespace) -> int:
    """``stats``: the figures of the history (or of a search's results), as text or (``--json``) JSON."""
    from dasshh_history.domain.stats import stats_record, text_lines
    from dasshh_history.services.stats import stats_for_script

    def warn(message: str) -> None:
        print(f"{PROG}: {message}; results may miss the latest changes", file=sys.stderr)

    try:
        figures = stats_for_script(client, getattr(args, "search_path", None), " ".join(args.query).strip(),
                                   index_progress=progress("indexing for search"),
                                   stats_progress=progress("working out the stats"), warn=warn)
    except sqlite3.Error as exc:
        return _fail(f"cannot work out the stats of {client.db_path}: {_one_line(exc)}")
    if args.json:
        _stdout(encoding="utf-8").write(json.dumps(stats_record(figures), indent=2, ensure_ascii=False) + "\n")
    else:
        _stdout(errors="replace").write("".join(line + "\n" for line in text_lines(figures, None)))
    return 0
