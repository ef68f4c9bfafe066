"""What every command of the command line shares: the program's name, failing on one line, standard output."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from typing import IO

PROG = "dasshh-history"


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig if orig is not None else exc).split())[:300]


def _stdout(**settings: str) -> IO[str]:
    """``sys.stdout``, reconfigured when it can be (``encoding="utf-8"``, ``errors="replace"``)."""
    try:
        sys.stdout.reconfigure(**settings)  # type: ignore[union-attr]
    except (AttributeError, ValueError, io.UnsupportedOperation):
        pass
    return sys.stdout


def progress(what: str) -> Callable[[int, int], None] | None:
    """How far a long step got (``what: 1,000 of 5,000 events``), on standard error when it is a terminal;
    None (nothing said) otherwise."""
    if not sys.stderr.isatty():
        return None

    def say(done: int, total: int) -> None:
        if total:
            print(f"\r{PROG}: {what}: {done:,} of {total:,} events", end="\n" if done >= total else "",
                  file=sys.stderr, flush=True)

    return say
