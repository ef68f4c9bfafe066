"""Command line: ``dasshh-history [--db PATH] [--demo] [list ... | search ... | export ...]``.

Without a command the app opens (in a terminal only). ``list``, ``search`` and
``export`` are for scripts: they open the file read-only, print to stdout,
never change a byte of it, and do not import Textual (``search`` writes only
its own cache file, as the browser's search does).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from dasshh_history import __version__, cli_reports, cli_secrets, cli_trash
from dasshh_history.cli_common import PROG, _fail, _non_negative, _one_line, _stdout
from dasshh_history.data import client as client_module
from dasshh_history.data.client import (
    DEFAULT_DB_PATH,
    DatabaseOpenError,
    DatabaseUnavailableError,
    DBClient,
    check_file_is_usable,
)
from dasshh_history.data.sqlite_setup import quiet_memory_statistics

if TYPE_CHECKING:
    from dasshh_history.domain.values import SessionSummary
    from dasshh_history.services.settings import Settings

#: The narrowest the title column of ``list`` gets, whatever the terminal width.
MIN_TITLE_WIDTH = 20


def _add_source_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--db`` / ``--demo``; a command's copies leave the values given before the command alone."""
    extra: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        help=f"the SQLite database to open (default: {DEFAULT_DB_PATH})",
        **extra,
    )
    source.add_argument(
        "--demo",
        action="store_true",
        help="open a generated sample history in a temporary database (nothing is written to ~/.dasshh)",
        **extra,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [-h] [--version] [--db PATH | --demo] [--config PATH] [COMMAND ...]",
        description="Browse, search and manage the chat history of the dasshh terminal assistant.",
        epilog="Without a command the browser opens. 'COMMAND --help' describes a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", metavar="PATH", type=Path,
                        help="the settings file (default: $XDG_CONFIG_HOME/dasshh-history/config.toml)")
    _add_source_options(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands for scripts")

    listing = commands.add_parser(
        "list", help="print the sessions, newest first", description="Print the sessions, newest first."
    )
    _add_source_options(listing, defaults=False)
    listing.add_argument(
        "--json", action="store_true",
        help="a JSON array of {id, detail, created_at, updated_at, event_count} (times in UTC)",
    )
    listing.add_argument("--limit", metavar="N", type=_non_negative, help="print at most N sessions")

    export = commands.add_parser(
        "export",
        help="print one session as Markdown or JSON",
        description="Print one session as Markdown (readable) or JSON (every event's content as stored).",
    )
    _add_source_options(export, defaults=False)
    export.add_argument("session_id", metavar="SESSION_ID", help="the session's id, as 'list' prints it")
    export.add_argument("--format", choices=("md", "json"), default="md", help="the output format (default: md)")
    export.add_argument("-o", "--output", metavar="FILE", type=Path, help="write to FILE instead of stdout")
    cli_reports.add_commands(commands, _add_source_options)
    cli_secrets.add_commands(commands, _add_source_options)
    cli_trash.add_commands(commands, _add_source_options)
    return parser


def history_path(path: Path | None) -> Path:
    """The file a command reads: *path*, or dasshh's own database when None."""
    return path.expanduser() if path is not None else client_module.DEFAULT_DB_PATH


def has_terminal() -> bool:
    """Whether the browser can run here: standard input, output and error are all a terminal.

    Textual reads keys from standard input and draws on standard error; with
    either redirected it would spin or draw into a file.
    """
    streams = (sys.stdin, sys.stdout, sys.stderr)
    return all(stream is not None and stream.isatty() for stream in streams)


def run_app(
    client: DBClient, search_path: Path | None = None, history: Path | None = None, config: Path | None = None,
    trash_dir: Path | None = None,
) -> str | None:
    """Run the browser; the dasshh to start when it exited for ``R`` (:func:`start_dasshh`), else None."""
    from dasshh_history.app import HistoryApp
    from dasshh_history.services.settings import SettingsStore

    result = HistoryApp(client, search_path=search_path, history_path=history, settings=SettingsStore(config),
                        trash_dir=trash_dir).run()
    return result.launch if result is not None else None


def start_dasshh(path: str) -> int:
    """After ``R``, in the terminal Textual gave back: run dasshh (see :func:`services.resume.run_dasshh`)."""
    from dasshh_history.services.resume import run_dasshh

    status, error = run_dasshh(path)
    return _fail(error) if error else status


def command_settings(config: Path | None) -> Settings:
    """The settings for a command that uses one (the trash's ``trash_days``); each warning on standard error."""
    from dasshh_history.services.settings import SettingsStore

    settings, warnings = SettingsStore(config).load()
    print(*(f"{PROG}: {warning}\n" for warning in warnings), sep="", end="", file=sys.stderr)
    return settings


def browse(
    path: Path | None, *, search_path: Path | None = None, config: Path | None = None, trash_dir: Path | None = None
) -> int:
    """Open the database at *path* (the default one when None) in the app; the exit status.

    The search index goes to ``search_path`` (default: the user's cache directory).
    A history that does not exist yet is shown empty, and no file or folder is
    created for it: dasshh creates it at its first conversation.
    """
    db_path = history_path(path)
    try:
        client = DBClient(db_path=db_path) if db_path.exists() else DBClient(url="sqlite://")
    except DatabaseOpenError as exc:
        return _fail(str(exc))
    try:
        launch = run_app(client, search_path, db_path, config, trash_dir)
    finally:
        client.dispose()
    return 0 if launch is None else start_dasshh(launch)


# -- list ----------------------------------------------------------------------


def _table_lines(summaries: list[SessionSummary], width: int) -> list[str]:
    """An aligned table: id, local update time, event count, the title on one line cut to fit ``width``."""
    from dasshh_history.domain.text import format_timestamp, one_line, sanitize

    cells = [
        (" ".join(sanitize(str(s.id)).split()), format_timestamp(s.updated_at, None), f"{s.event_count:,}",
         None if s.detail is None else str(s.detail))
        for s in summaries
    ]
    id_width = max([2, *(len(c[0]) for c in cells)])
    time_width = max([7, *(len(c[1]) for c in cells)])
    count_width = max([6, *(len(c[2]) for c in cells)])
    title_width = max(MIN_TITLE_WIDTH, width - id_width - time_width - count_width - 6)
    lines = [f"{'ID':<{id_width}}  {'UPDATED':<{time_width}}  {'EVENTS':>{count_width}}  TITLE"]
    lines.extend(
        f"{sid:<{id_width}}  {when:<{time_width}}  {count:>{count_width}}  {one_line(title, title_width)}"
        for sid, when, count, title in cells
    )
    return lines


def cmd_list(client: DBClient, args: argparse.Namespace) -> int:
    """``list``: the sessions newest first, as a table or (``--json``) a JSON array."""
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.domain.export import iso_utc

    summaries = HistoryReader(client).list_summaries(limit=args.limit)
    if args.json:
        records = [
            {"id": s.id, "detail": s.detail, "created_at": iso_utc(s.created_at),
             "updated_at": iso_utc(s.updated_at), "event_count": s.event_count}
            for s in summaries
        ]
        # Machine-readable output is UTF-8 whatever the locale says; the table is for the terminal.
        _stdout(encoding="utf-8").write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        return 0
    width = shutil.get_terminal_size((100, 24)).columns
    _stdout(errors="replace").write("".join(line + "\n" for line in _table_lines(summaries, width)))
    return 0


# -- session ids -------------------------------------------------------------------

#: At most this many candidates are listed for an ambiguous id prefix.
MAX_CANDIDATES = 10


def resolve_session_id(client: DBClient, given: str) -> str | None:
    """The id of the session *given* names: its whole id or a unique prefix of it (8 characters
    are typical).  None, after saying why on stderr, when none or several match."""
    from dasshh_history.data.browse import HistoryReader
    from dasshh_history.domain.text import one_line, sanitize

    reader = HistoryReader(client)
    ids = reader.ids_starting_with(given, limit=MAX_CANDIDATES + 1)
    if given in ids:
        return given
    if len(ids) == 1:
        return ids[0]
    if not ids:
        _fail(f"no session with id {given!r}")
        return None
    more = "" if len(ids) <= MAX_CANDIDATES else f"; the first {MAX_CANDIDATES}"
    lines = [f"{PROG}: {given!r} starts the ids of several sessions{more}; give more of the id:"]
    for summary in reader.list_summaries_by_ids(ids[:MAX_CANDIDATES]):
        lines.append(f"  {sanitize(summary.id)}  {one_line(summary.detail, 60)}")
    print("\n".join(lines), file=sys.stderr)
    return None


# -- export --------------------------------------------------------------------


def _same_file(a: Path, b: Path | None) -> bool:
    try:
        return b is not None and a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def cmd_export(client: DBClient, args: argparse.Namespace) -> int:
    """``export``: one session as Markdown or JSON, to stdout or (``-o``) a file."""
    from dasshh_history.services.exporting import iter_export

    output: Path | None = args.output
    if output is not None and _same_file(output, client.db_path):
        return _fail(f"refusing to write the export over the database {output}")
    session_id = resolve_session_id(client, args.session_id)
    if session_id is None:
        return 1
    pieces = iter_export(client, session_id, args.format)
    if pieces is None:
        return _fail(f"no session with id {args.session_id!r}")  # deleted meanwhile
    with closing(pieces):
        first = next(pieces, "")  # read before the output file is opened or truncated
        if output is None:
            stream = _stdout(encoding="utf-8")
            stream.write(first)
            for piece in pieces:
                stream.write(piece)
            return 0
        try:
            with output.open("w", encoding="utf-8", newline="") as stream:
                stream.write(first)
                for piece in pieces:
                    stream.write(piece)
        except OSError as exc:
            return _fail(f"cannot write {output}: {exc.strerror or exc}")
        except BaseException:
            output.unlink(missing_ok=True)  # no half-written export
            raise
    return 0


COMMANDS: dict[str, Callable[[DBClient, argparse.Namespace], int]] = {
    "list": cmd_list,
    "search": cli_reports.cmd_search,
    "stats": cli_reports.cmd_stats,
    "export": cmd_export,
    "secrets": cli_secrets.cmd_secrets,
    "redact": cli_secrets.cmd_redact,
}


def no_history(db_path: Path, args: argparse.Namespace) -> int:
    """What a command says where dasshh has not written a history yet: nothing to list, no session to export."""
    if args.command == "export":
        return _fail(f"no session with id {args.session_id!r} (there is no history yet at {db_path})")
    if args.command == "redact":
        args.json = False
    print(f"{PROG}: there is no history yet at {db_path} (dasshh writes it at your first conversation); "
          f"'{PROG} --demo' opens a sample one", file=sys.stderr)
    if args.json:
        _stdout(encoding="utf-8").write("{}\n" if args.command == "stats" else "[]\n")
    return 0


def run_command(path: Path | None, args: argparse.Namespace) -> int:
    """Run ``list``, ``search`` or ``export`` on the database at *path* (the default one when None).

    Each only reads: the file is opened read-only and no byte of it changes.
    A history that does not exist yet (no file, or a file without dasshh's
    tables) is an empty one, and nothing is created for it.
    """
    db_path = history_path(path)
    if args.command in ("prune", "restore"):  # they write (with --yes, or ids to restore): their own opening
        return cli_trash.run(db_path, args, _table_lines)
    if not db_path.exists():
        return no_history(db_path, args)
    try:
        client = DBClient(db_path=db_path, read_only=True)
    except DatabaseOpenError as exc:
        return _fail(str(exc))
    if not client.has_tables:
        client.dispose()
        return no_history(db_path, args)
    try:
        status = COMMANDS[args.command](client, args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep the final flush from failing too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except DatabaseUnavailableError as exc:
        return _fail(str(exc))
    except SQLAlchemyError as exc:
        return _fail(f"cannot read {db_path}: {_one_line(exc)}")
    finally:
        client.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    quiet_memory_statistics()  # before any connection (see the module)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db is not None and args.demo:
        parser.error("argument --demo: not allowed with argument --db")
    if args.command is None:
        if not args.demo:  # an unusable file is said first (exit 1), without a terminal too
            try:
                check_file_is_usable(history_path(args.db))
            except DatabaseOpenError as exc:
                return _fail(str(exc))
        if not has_terminal():
            print(f"{PROG}: the browser needs a terminal (its input or output is redirected); "
                  f"for scripts use '{PROG} list', '{PROG} search QUERY' and '{PROG} export SESSION_ID'",
                  file=sys.stderr)
            return 2

    if args.demo:
        from dasshh_history.demo import write_demo

        with tempfile.TemporaryDirectory(prefix="dasshh-history-demo-") as tmp:
            demo = write_demo(Path(tmp) / "demo.db")
            if args.command is None:  # the demo's search index stays in the demo's directory too
                return browse(demo, search_path=Path(tmp) / "demo.search.db", config=args.config,
                              trash_dir=Path(tmp) / "trash")
            args.search_path = Path(tmp) / "demo.search.db"
            args.trash_dir = Path(tmp) / "trash"  # the demo's deletes stay in its directory
            return run_command(demo, args)
    return browse(args.db, config=args.config) if args.command is None else run_command(args.db, args)
