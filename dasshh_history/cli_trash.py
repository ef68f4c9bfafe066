"""Command line: ``prune`` (a dry run unless ``--yes``) and ``restore`` (no argument: list the trash).

``prune`` deletes through the trash, as the app's ``d`` does; its dry run opens
the history read-only and changes no byte of it (the search index, when
``--before`` or ``--match`` asks for a search, is in its own cache file).
``restore`` brings trashed sessions back byte for byte; with no argument it
lists the trash of the history, newest delete first.  No Textual here.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from dasshh_history.cli_common import PROG, _fail, _one_line
from dasshh_history.data.client import (
    DatabaseOpenError,
    DatabaseUnavailableError,
    DBClient,
)
from dasshh_history.data.models import utcnow
from dasshh_history.data.trash import RestoreConflictError
from dasshh_history.data.trash_store import (
    TrashedSession,
    TrashStore,
    default_trash_dir,
)
from dasshh_history.domain.text import (
    count_messages,
    format_timestamp,
    one_line,
    sanitize,
)

#: At most this many candidates are listed for an ambiguous id prefix.
MAX_CANDIDATES = 10


def add_commands(commands: Any, add_source_options: Callable[..., None]) -> None:
    """The ``prune`` and ``restore`` subcommands."""
    prune = commands.add_parser(
        "prune",
        help="delete sessions by age, emptiness or search (a dry run unless --yes)",
        description="Delete the sessions passing every criterion given, and with --orphans the events whose "
        "session is gone. A dry run by default: it prints what would go (sessions, messages, bytes) and changes "
        "nothing. With --yes they are deleted in one transaction, after being written to the trash "
        f"('{PROG} restore' brings them back).",
    )
    add_source_options(prune, defaults=False)
    prune.add_argument("--before", metavar="DATE",
                       help="sessions last active before DATE: 2026-03-14 (local day), or 90d, 2w, 3m, 1y before now")
    prune.add_argument("--empty", action="store_true", help="sessions without any event")
    prune.add_argument("--match", metavar="QUERY", help="sessions a search matches (the search syntax of 'search')")
    prune.add_argument("--orphans", action="store_true",
                       help="also the events whose session is gone (dasshh's delete leaves them behind)")
    prune.add_argument("--yes", action="store_true", help="delete them (into the trash) instead of printing them")

    restore = commands.add_parser(
        "restore",
        help="bring trashed sessions back (no argument: list the trash)",
        description="Bring sessions back from the trash, byte for byte (same ids, times, contents, order). "
        "Without an argument, list the trash of the history, newest delete first. A session whose id is in "
        "the history again is not restored.",
    )
    add_source_options(restore, defaults=False)
    restore.add_argument("ids", metavar="ID", nargs="*", help="a trashed session's id, or a unique start of it")
    restore.add_argument("--all-since", metavar="DATE",
                         help="every session deleted since DATE: 2026-03-14 (local day), or 7d, 2w, 3m before now")


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return str(count)


def _sessions(count: int) -> str:
    return f"{count:,} session{'' if count == 1 else 's'}"


def trash_dir(args: argparse.Namespace) -> Path:
    return getattr(args, "trash_dir", None) or default_trash_dir()


def run(db_path: Path, args: argparse.Namespace, table_lines: Callable[..., list[str]]) -> int:
    """``prune`` or ``restore`` on the history at ``db_path``."""
    from dasshh_history.services.pruning import PruneError, date_filter

    if args.command == "prune" and not (args.before or args.empty or args.match or args.orphans):
        return _fail("prune what? give --before DATE, --empty, --match QUERY and/or --orphans")
    try:
        if args.command == "prune" and args.before is not None:
            date_filter(args.before, after=False)
        if args.command == "restore" and args.all_since is not None:
            date_filter(args.all_since, after=True)
    except PruneError as exc:
        return _fail(str(exc))
    if not db_path.exists():
        print(f"{PROG}: there is no history yet at {db_path}", file=sys.stderr)
        return 0
    writes = bool(args.yes) if args.command == "prune" else bool(args.ids or args.all_since)
    try:
        client = DBClient(db_path=db_path, read_only=not writes)
    except DatabaseOpenError as exc:
        return _fail(str(exc))
    try:
        if writes and client.read_only:
            return _fail(f"cannot write {db_path} (read-only); nothing was deleted or restored")
        store = TrashStore(trash_dir(args), db_path)
        if args.command == "prune":
            return _prune(client, store, args, table_lines)
        return _restore(client, store, args)
    except DatabaseUnavailableError as exc:
        return _fail(f"{exc}; nothing was changed")
    except SQLAlchemyError as exc:
        return _fail(f"cannot {args.command} in {db_path}: {_one_line(exc)}; nothing was changed")
    except OSError as exc:
        reason = str(exc.strerror or exc)
        reason = reason if reason.startswith("cannot write the trash") else f"cannot write the trash: {reason}"
        return _fail(f"{reason}; nothing was deleted")
    finally:
        client.dispose()


def _prune(client: DBClient, store: TrashStore, args: argparse.Namespace, table_lines: Callable[..., list[str]]) -> int:
    from dasshh_history.services.index_keeper import IndexKeeper
    from dasshh_history.services.pruning import select

    keeper = IndexKeeper(client, getattr(args, "search_path", None)) if args.before or args.match else None
    try:
        if keeper is not None:
            synced = keeper.sync()
            if synced.failed:
                print(f"{PROG}: {synced.error or 'could not bring the search index up to date'}", file=sys.stderr)
        chosen = select(client, keeper, before=args.before, empty=args.empty, match=args.match, orphans=args.orphans)
    finally:
        if keeper is not None:
            keeper.close()
    out = sys.stdout
    if chosen.sessions:
        width = shutil.get_terminal_size((100, 24)).columns
        out.write("".join(line + "\n" for line in table_lines(chosen.sessions, width)))
    what = f"{_sessions(len(chosen.sessions))} with {count_messages(chosen.messages)}"
    if args.orphans:
        what += f", and {chosen.orphan_events:,} orphan event{'' if chosen.orphan_events == 1 else 's'}" \
                f" of {_sessions(len(chosen.orphans))} already gone"
    what += f" ({_size(chosen.bytes)})"
    if not chosen:
        out.write(f"Nothing to prune: {what}.\n")
        return 0
    if not args.yes:
        out.write(f"Would delete {what}.\nDry run: nothing was changed. Add --yes to delete them (into the trash; "
                  f"'{PROG} restore' brings them back).\n")
        return 0
    batch, deleted = store.delete(client, chosen.ids, orphans=chosen.orphans)
    events = sum(item.event_count for item in deleted)
    sessions = sum(not item.is_orphans for item in deleted)
    out.write(f"Deleted {_sessions(sessions)} ({events:,} events) into the trash"
              f"{f' as {batch.name}' if batch else ''}; '{PROG} restore' brings them back.\n")
    return 0


def _restore(client: DBClient, store: TrashStore, args: argparse.Namespace) -> int:
    from dasshh_history.services.pruning import date_filter

    entries = store.sessions(client)
    if not args.ids and args.all_since is None:
        return _list(store, entries)
    chosen: list[TrashedSession] = []
    status = 0
    if args.all_since is not None:
        bound = date_filter(args.all_since, after=True).bound(utcnow())
        chosen.extend(e for e in entries if e.deleted_at >= bound)
    for given in args.ids:
        found = _resolve(entries, given)
        if found is None:
            status = 1
        elif found not in chosen:
            chosen.append(found)
    by_batch: dict[str, list[TrashedSession]] = {}
    for entry in chosen:
        by_batch.setdefault(entry.batch, []).append(entry)
    restored = messages = 0
    for batch, members in by_batch.items():
        try:
            done = store.restore(client, batch, [e.position for e in members])
        except RestoreConflictError as exc:
            status = _fail(f"not restored: a session with id {exc.session_id!r} exists again "
                           f"(with {len(members) - 1} other(s) deleted at the same time)")
            continue
        except FileNotFoundError:
            status = _fail("not restored: no longer in the trash (restored or expired meanwhile)")
            continue
        restored += len(done)
        messages += sum(item.event_count for item in done)
    if chosen or not args.ids:
        print(f"Restored {_sessions(restored)} with {count_messages(messages)}.")
    return status


def _resolve(entries: list[TrashedSession], given: str) -> TrashedSession | None:
    exact = [e for e in entries if e.session_id == given]
    if exact:
        return exact[0]  # the newest delete of that id
    found = {e.session_id: e for e in reversed(entries) if e.session_id.startswith(given)}
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        _fail(f"no session with id {given!r} in the trash")
        return None
    lines = [f"{PROG}: {given!r} starts the ids of several trashed sessions; give more of the id:"]
    lines.extend(f"  {sanitize(e.session_id)}  {one_line(e.title, 60)}" for e in list(found.values())[:MAX_CANDIDATES])
    print("\n".join(lines), file=sys.stderr)
    return None


def _list(store: TrashStore, entries: list[TrashedSession]) -> int:
    files, size = store.size()
    cells = [(" ".join(sanitize(e.session_id).split()) or "(no id)", format_timestamp(e.deleted_at, None),
              f"{e.event_count:,}", ("(events of a session already gone)" if e.orphans else one_line(e.title, 60))
              + (" [id in the history again]" if e.exists_again else ""))
             for e in entries]
    id_width = max([2, *(len(c[0]) for c in cells)])
    count_width = max([6, *(len(c[2]) for c in cells)])
    out = sys.stdout
    if cells:
        out.write(f"{'ID':<{id_width}}  {'DELETED':<16}  {'EVENTS':>{count_width}}  TITLE\n")
        out.writelines(f"{sid:<{id_width}}  {when:<16}  {count:>{count_width}}  {title}\n"
                       for sid, when, count, title in cells)
    out.write(f"{_sessions(len(entries))} in the trash of this history. The trash: {store.directory} "
              f"({files:,} delete{'' if files == 1 else 's'} of every history, {_size(size)}).\n")
    return 0
