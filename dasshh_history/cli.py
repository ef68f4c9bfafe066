"""Command line: ``dasshh-history [--db PATH] [--demo]``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dasshh_history import __version__
from dasshh_history.data.client import DEFAULT_DB_PATH, DatabaseOpenError, DBClient

PROG = "dasshh-history"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Browse, search and manage the chat history of the dasshh terminal assistant.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--db",
        metavar="PATH",
        type=Path,
        help=f"the SQLite database to open (default: {DEFAULT_DB_PATH})",
    )
    source.add_argument(
        "--demo",
        action="store_true",
        help="open a generated sample history in a temporary database (nothing is written to ~/.dasshh)",
    )
    return parser


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def open_client(path: Path | None) -> DBClient:
    return DBClient(db_path=path) if path is not None else DBClient()


def run_app(client: DBClient) -> None:
    from dasshh_history.app import HistoryApp

    HistoryApp(client).run()


def browse(path: Path | None) -> int:
    """Open the database at *path* (the default one when None) in the app; the exit status."""
    try:
        client = open_client(path)
    except DatabaseOpenError as exc:
        return _fail(str(exc))
    try:
        run_app(client)
    finally:
        client.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.demo:
        from dasshh_history.demo import write_demo

        with tempfile.TemporaryDirectory(prefix="dasshh-history-demo-") as tmp:
            return browse(write_demo(Path(tmp) / "demo.db"))
    return browse(args.db)
