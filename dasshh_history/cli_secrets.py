"""Command line: ``secrets`` and ``redact`` (README, "Privacy"); :mod:`dasshh_history.cli` runs them.

``secrets`` only reads the history (it writes its findings to the search
cache); ``redact`` writes it, with ``--yes`` only.  Neither imports Textual.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dasshh_history.cli_common import PROG, _fail, _one_line, _stdout, progress
from dasshh_history.data.client import DatabaseOpenError, DBClient


def _session_id(client: DBClient, given: str) -> str | None:
    """The session ``--session`` names (its id, or a unique prefix); None after saying why."""
    from dasshh_history.data.browse import HistoryReader

    ids = HistoryReader(client).ids_starting_with(given, limit=2)
    if given in ids or len(ids) == 1:
        return given if given in ids else ids[0]
    _fail(f"no session with id {given!r}" if not ids else f"{given!r} starts the ids of several sessions")
    return None


def add_commands(commands: argparse._SubParsersAction, add_source_options: Callable[..., None]) -> None:
    """``secrets`` and ``redact`` (README, "Privacy")."""
    secrets = commands.add_parser(
        "secrets", help="list the likely credentials (API keys, tokens, passwords) in the history, masked",
        description="List every session and event holding a likely credential (AWS, GitHub, GitLab, Slack, "
        "Stripe, OpenAI and Anthropic keys, private key blocks, JWTs, passwords in URLs, *_KEY/*_TOKEN/"
        "*_SECRET/PASSWORD assignments, bearer tokens), masked: kind, session, event, field; without QUERY, "
        "the deleted sessions kept in the trash too. Read-only on the "
        "history; what was scanned is kept in the search cache, so later runs scan only new events.",
    )
    add_source_options(secrets, defaults=False)
    secrets.add_argument("query", metavar="QUERY", nargs="*", help="only the sessions this search matches")
    secrets.add_argument("--json", action="store_true", help="a JSON array of findings")
    secrets.add_argument("--trash-dir", type=Path, help=argparse.SUPPRESS)  # tests: the trash folder
    redact = commands.add_parser(
        "redact", help="replace the likely credentials in the history with [REDACTED:kind] (dry run by default)",
        description="Replace each likely credential that 'secrets' lists (of the sessions QUERY matches, or of "
        "one session) with [REDACTED:kind] inside the stored messages and titles, every value keeping its shape. "
        "Without QUERY or --session the deleted sessions kept in the trash are redacted too. "
        "Without --yes nothing is written: what would change is listed. With --yes it is done in one "
        "transaction, the freed space zeroed, and the search cache updated so that it keeps no copy. "
        "This cannot be undone.",
    )
    add_source_options(redact, defaults=False)
    redact.add_argument("query", metavar="QUERY", nargs="*", help="only the sessions this search matches")
    redact.add_argument("--session", metavar="ID", help="only this session (its id or a unique prefix)")
    redact.add_argument("--yes", action="store_true", help="do it (it cannot be undone)")
    redact.add_argument("--trash-dir", type=Path, help=argparse.SUPPRESS)


def _secret_findings(client: DBClient, args: argparse.Namespace, service: Any) -> list[Any] | None:
    """The findings ``secrets``/``redact`` act on: of the sessions QUERY matches (or ``--session``), else all."""
    session = getattr(args, "session", None)
    ids: list[str] | None = None
    if session is not None:
        resolved = _session_id(client, session)
        if resolved is None:
            return None
        ids = [resolved]
    if args.query:
        from dasshh_history.services.index_keeper import IndexKeeper
        from dasshh_history.services.searching import script_query

        keeper = IndexKeeper(client, getattr(args, "search_path", None))
        try:
            keeper.sync(progress("indexing for search"))
            matched = keeper.open().search(script_query(" ".join(args.query))).session_ids
        finally:
            keeper.close()
        ids = matched if ids is None else [i for i in ids if i in set(matched)]
    scanning = progress("scanning for secrets")
    if scanning is not None:  # on a terminal, the scan is done here to say how it goes
        service.scan(scanning)
    return service.findings(ids)


def _finding_lines(findings: list[Any]) -> list[str]:
    from dasshh_history.domain.secrets import KINDS
    from dasshh_history.domain.text import sanitize

    lines = [f"{'SESSION':<36}  {'EVENT':<36}  {'FIELD':<9}  {'KIND':<27}  SECRET"]
    for f in findings:
        where = "(title)" if f.event_id is None else sanitize(str(f.event_id))
        lines.append(f"{sanitize(f.session_id):<36}  {where:<36}  {f.field:<9}  {KINDS.get(f.kind, f.kind):<27}  "
                     f"{sanitize(f.masked)}")
    return lines


def _trash_lines(found: list[Any]) -> list[str]:
    from dasshh_history.domain.secrets import KINDS
    from dasshh_history.domain.text import sanitize

    lines = [f"In the trash (deleted sessions, kept until they expire): {len(found):,} likely "
             f"secret{'s' * (len(found) != 1)}",
             f"{'SESSION':<36}  {'EVENT':<36}  {'FIELD':<9}  {'KIND':<27}  SECRET"]
    for f in found:
        where = "(title)" if f.event_id is None and f.field == "title" else sanitize(str(f.event_id))
        lines.append(f"{sanitize(f.session_id):<36}  {where:<36}  {f.field:<9}  {KINDS.get(f.kind, f.kind):<27}  "
                     f"{sanitize(f.masked)}")
    return lines


def _in_trash(args: argparse.Namespace, service: Any) -> list[Any]:
    """The findings in the trash, when ``secrets``/``redact`` act on the whole history (no QUERY, no --session)."""
    if args.query or getattr(args, "session", None) is not None:
        return []
    return service.trash_findings(getattr(args, "trash_dir", None))


def _findings_summary(findings: list[Any]) -> str:
    events = len({f.event_rowid for f in findings if f.event_rowid is not None})
    titles = len({f.session_id for f in findings if f.event_rowid is None})
    sessions = len({f.session_id for f in findings})
    return (f"{len(findings):,} likely secret{'s' * (len(findings) != 1)} in {events:,} event{'s' * (events != 1)}"
            f" and {titles:,} title{'s' * (titles != 1)} of {sessions:,} session{'s' * (sessions != 1)}")


def cmd_secrets(client: DBClient, args: argparse.Namespace) -> int:
    """``secrets``: the likely credentials, masked, as a table or (``--json``) a JSON array; 0 with or without."""
    from dasshh_history.services.secrets import SecretsService, finding_record, trash_record

    service = SecretsService(client, getattr(args, "search_path", None))
    try:
        findings = _secret_findings(client, args, service)
        if findings is None:
            return 1
        trashed = _in_trash(args, service)
        if args.json:
            records = [finding_record(f) for f in findings] + [trash_record(f) for f in trashed]
            _stdout(encoding="utf-8").write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
        else:
            lines = (_finding_lines(findings) if findings else []) + (_trash_lines(trashed) if trashed else [])
            _stdout(errors="replace").write("".join(line + "\n" for line in lines))
        said = _findings_summary(findings) if findings else "no likely secret found"
        if trashed:
            said += f", and {len(trashed):,} in the trash"
        print(f"{PROG}: {said}", file=sys.stderr)
        return 0
    except sqlite3.Error as exc:
        return _fail(f"cannot scan {client.db_path}: {_one_line(exc)}")
    finally:
        service.close()


def cmd_redact(client: DBClient, args: argparse.Namespace) -> int:
    """``redact``: a dry run listing what would change, or (``--yes``) the redaction itself."""
    from dasshh_history.services.secrets import SecretsService

    service = SecretsService(client, getattr(args, "search_path", None))
    try:
        findings = _secret_findings(client, args, service)
        if findings is None:
            return 1
        trashed = _in_trash(args, service)
        if not findings and not trashed:
            print(f"{PROG}: no likely secret found: nothing to redact", file=sys.stderr)
            return 0
        stream = _stdout(errors="replace")
        lines = (_finding_lines(findings) if findings else []) + (_trash_lines(trashed) if trashed else [])
        stream.write("".join(line + "\n" for line in lines))
        in_trash = f" and {len(trashed):,} in the trash" if trashed else ""
        if not args.yes:
            stream.write(f"Would replace {_findings_summary(findings)}{in_trash} with [REDACTED:kind]. Nothing was "
                         f"written; run again with --yes to do it (it cannot be undone).\n")
            return 0
        done = None
        if findings:
            try:
                writer = DBClient(db_path=client.db_path)
            except DatabaseOpenError as exc:
                return _fail(str(exc))
            try:
                done = service.redact(findings, writer)
            finally:
                writer.dispose()
            cache = {True: "the search cache updated in place", False: "the search cache discarded (rebuilt at "
                     "the next search)", None: "no search cache to update"}[service.cache_updated]
            stream.write(f"Redacted {done.secrets:,} secret{'s' * (done.secrets != 1)} in "
                         f"{len(done.event_rowids):,} events and {len(done.session_ids):,} titles; {cache}.\n")
        if trashed:
            count, files = service.redact_trash(getattr(args, "trash_dir", None))
            stream.write(f"Redacted {count:,} secret{'s' * (count != 1)} in the trash "
                         f"({files:,} file{'s' * (files != 1)} rewritten).\n")
        if done is not None and done.checkpointed is False:
            print(f"{PROG}: the database's write-ahead log is in use (is dasshh running?): the old text stays in "
                  f"{client.db_path}-wal until SQLite's next checkpoint", file=sys.stderr)
        return 0
    except sqlite3.Error as exc:
        return _fail(f"cannot redact {client.db_path}: {_one_line(exc)}")
    finally:
        service.close()
