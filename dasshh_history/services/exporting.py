"""Exporting a stored session: read it from the database, render it, write a new file (or one the user agreed to replace).

The glue between the data layer (:class:`HistoryReader`) and the pure
renderers of :mod:`dasshh_history.domain.export`; used by the command line and
by the app (``e`` writes a file, ``E`` a folder of them, ``c`` copies, ``V``
pages). Nothing here changes the database.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from datetime import tzinfo
from pathlib import Path
from typing import IO, Literal

from dasshh_history.data.browse import HistoryReader
from dasshh_history.data.client import DBClient
from dasshh_history.domain.entries import Invocation
from dasshh_history.domain.export import export_filename, iter_session_json, iter_session_markdown
from dasshh_history.domain.parse import EventLike, TimelineBuilder
from dasshh_history.domain.values import SessionSummary

Format = Literal["md", "json"]
FORMATS: tuple[Format, ...] = ("md", "json")
#: How many numbered alternatives :func:`write_new_file` tries before giving up.
MAX_ATTEMPTS = 10_000


def _invocations(batches: Iterable[Iterable[EventLike]]) -> Iterator[Invocation]:
    builder = TimelineBuilder()
    for batch in batches:
        yield from builder.add(batch)
    yield from builder.finish()


def iter_export(
    client: DBClient, session_id: str, fmt: Format = "md", *, tz: tzinfo | None = None
) -> Iterator[str] | None:
    """The export of a session in pieces, or None when no session has that id.

    The session is looked up at once (so an unknown id is known before any
    output); its events are read as the pieces are consumed, a batch at a time.
    Database errors surface from this call or while iterating.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (expected one of {', '.join(FORMATS)})")
    reader = HistoryReader(client)
    summary = reader.get_summary(session_id=session_id)
    return None if summary is None else _pieces(reader, summary, fmt, tz)


def _pieces(reader: HistoryReader, summary: SessionSummary, fmt: Format, tz: tzinfo | None) -> Iterator[str]:
    batches = reader.iter_event_batches(session_id=summary.id)
    try:
        if fmt == "json":
            yield from iter_session_json(summary, (row for batch in batches for row in batch))
        else:
            yield from iter_session_markdown(summary, _invocations(batches), tz=tz)
    finally:
        batches.close()


def export_session(client: DBClient, session_id: str, fmt: Format = "md", *, tz: tzinfo | None = None) -> str | None:
    """The whole export of a session as text (Markdown or JSON), or None when no session has that id.

    For the clipboard (``c``): ``export_session(client, session_id, "md", tz=tz)``.
    """
    pieces = iter_export(client, session_id, fmt, tz=tz)
    return None if pieces is None else "".join(pieces)


def _candidates(directory: Path, name: str) -> Iterator[Path]:
    """``directory/name``, then ``stem-2.ext``, ``stem-3.ext``, ... (:data:`MAX_ATTEMPTS` in all)."""
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        yield directory / (name if attempt == 1 else f"{stem}-{attempt}{dot}{ext}")


def free_name(directory: Path | str, name: str) -> str:
    """The name :func:`write_new_file` would write ``name`` as in ``directory`` now: ``name``, or numbered when taken."""
    for candidate in _candidates(Path(directory), name):
        if not os.path.lexists(candidate):
            return candidate.name
    raise FileExistsError(f"{Path(directory) / name} and {MAX_ATTEMPTS - 1} numbered alternatives exist")


def _write(handle: IO[str], text: str | Iterable[str]) -> None:
    with handle:
        for piece in [text] if isinstance(text, str) else text:
            handle.write(piece)


def write_new_file(directory: Path | str, name: str, text: str | Iterable[str]) -> Path:
    """Write ``text`` to a new file ``directory/name`` and return its path; never overwrites.

    When ``name`` is taken, ``stem-2.ext``, ``stem-3.ext``, ... are tried (the
    file is created exclusively, so a file appearing meanwhile is not
    clobbered either). ``text`` may be an iterable of pieces. A file left
    half-written by an error is removed before the error propagates.
    """
    directory = Path(directory)
    for candidate in _candidates(directory, name):
        try:
            handle = candidate.open("x", encoding="utf-8", newline="")
        except FileExistsError:
            continue
        try:
            _write(handle, text)
        except BaseException:
            candidate.unlink(missing_ok=True)
            raise
        return candidate
    raise FileExistsError(f"{directory / name} and {MAX_ATTEMPTS - 1} numbered alternatives exist")


def write_file(path: Path | str, text: str | Iterable[str], *, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` and return it; raises ``FileExistsError`` if it exists, unless ``overwrite``.

    Without ``overwrite`` the file is created exclusively (a file appearing
    meanwhile is not clobbered).  With it, the text is written to a new file
    beside the old one, which it then replaces (keeping its permissions; a
    symbolic link's target is replaced): an error leaves the old file as it
    was.  Nothing half-written is left behind.
    """
    path = Path(path)
    if not overwrite:
        handle = path.open("x", encoding="utf-8", newline="")
        try:
            _write(handle, text)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return write_file(path, text)  # gone meanwhile: nothing to replace
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, mode)
        _write(open(descriptor, "w", encoding="utf-8", newline=""), text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def export_to_directory(
    client: DBClient, session_id: str, directory: Path | str, *, tz: tzinfo | None = None
) -> Path | None:
    """Export a session as Markdown to a new file in ``directory`` named from its date and title.

    Returns the path written, or None when no session has that id. The name is
    :func:`~dasshh_history.domain.export.export_filename` (``2025-03-12-fix-the-flaky-test.md``),
    numbered when taken; an existing file is never overwritten. Raises
    ``OSError`` when the file cannot be written (nothing is left behind) and
    the database errors of :func:`iter_export`.
    """
    reader = HistoryReader(client)
    summary = reader.get_summary(session_id=session_id)
    if summary is None:
        return None
    name = export_filename(summary.created_at, summary.detail, tz)
    with closing(_pieces(reader, summary, "md", tz)) as pieces:
        return write_new_file(directory, name, pieces)


def export_to_file(
    client: DBClient, session_id: str, path: Path | str, *, overwrite: bool = False, tz: tzinfo | None = None
) -> Path | None:
    """Export a session as Markdown to ``path`` (see :func:`write_file`); None when no session has that id.

    Raises ``FileExistsError`` when ``path`` exists and not ``overwrite``,
    ``OSError`` when it cannot be written, and the database errors of :func:`iter_export`.
    """
    reader = HistoryReader(client)
    summary = reader.get_summary(session_id=session_id)
    if summary is None:
        return None
    with closing(_pieces(reader, summary, "md", tz)) as pieces:
        return write_file(path, pieces, overwrite=overwrite)
