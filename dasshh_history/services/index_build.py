"""The search index built in a process of its own, at low priority: the process's entry point and the app's handle.

    python -m dasshh_history.services.index_build --db HISTORY --cache CACHE [--parent PID] [--chunk N]

A first build (hundreds of thousands of events) takes a minute of CPU; in a
thread of the app it would compete with the interface for the GIL.  This
process opens the history read-only (SQLite's ``mode=ro``: no byte of dasshh's
database changes) and writes only the search cache, in the sync's usual
transactions, so the app searches what is indexed so far and a kill at any
moment leaves a cache that the next sync completes.  It runs niced, takes the
cache's build lock without waiting (another instance building: it leaves at
once), stops when asked (SIGTERM) or when the process that started it is gone,
and tells how far it got in the cache (see
:mod:`~dasshh_history.data.search.building`), never through a pipe.

Exit status: 0 built (or stopped), :data:`EXIT_BUSY` another sync holds the
cache, 1 failed (why, on one line of standard error).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

import dasshh_history
from dasshh_history.data.client import DatabaseOpenError, DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search import sync as sync_module
from dasshh_history.data.search.purge import purge
from dasshh_history.data.sqlite_setup import quiet_memory_statistics
from dasshh_history.errors import DB_ERRORS, describe_error

#: Added to the builder's niceness: the interface, and everything else, comes first.
NICENESS = 10
#: The builder's exit status when another sync holds the cache (EX_TEMPFAIL).
EXIT_BUSY = 75
#: Seconds a builder asked to stop is given before it is killed (a kill is safe too, only less tidy).
STOP_WAIT = 1.0
#: The interpreter that runs the builder (this one).
PYTHON = sys.executable
#: Whether builders can run here: a niced process of our own, POSIX only.
SUPPORTED = os.name == "posix"


class _Terminated(SystemExit):
    """SIGTERM: leave now, the open transaction rolled back on the way out."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dasshh_history.services.index_build")
    parser.add_argument("--db", required=True, type=Path, help="the history (opened read-only)")
    parser.add_argument("--cache", required=True, type=Path, help="the search cache file to bring up to date")
    parser.add_argument("--parent", type=int, help="stop once this process is gone")
    parser.add_argument("--chunk", type=int, help="events per transaction (the sync's CHUNK)")
    parser.add_argument("--purge", action="store_true",
                        help="then purge the cache of every trace of deleted text (after the trash expired)")
    args = parser.parse_args(argv)
    quiet_memory_statistics()  # before any connection (see the module)
    if hasattr(os, "nice"):
        try:
            os.nice(NICENESS)
        except OSError:
            pass

    def terminate(signum: int, frame: object) -> None:
        raise _Terminated(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    if args.chunk:
        sync_module.CHUNK = args.chunk

    def orphaned() -> bool:
        return args.parent is not None and os.getppid() != args.parent

    try:
        client = DBClient(db_path=args.db, read_only=True)
    except DatabaseOpenError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    index = None
    try:
        index = SearchIndex(client, path=args.cache)
        if str(index.path) == ":memory:":
            print(f"cannot write the search cache {args.cache}", file=sys.stderr)
            return 1
        if not args.purge:
            return EXIT_BUSY if index.sync(should_stop=orphaned, wait=False).busy else 0
        # A purge waits for another sync (a build) to end; once started it is finished even if we are orphaned.
        if index.sync(should_stop=orphaned, wait=True).busy:
            return EXIT_BUSY
        purge(index)
        return 0
    except DB_ERRORS as exc:
        print(describe_error(exc), file=sys.stderr)
        return 1
    finally:
        if index is not None:
            index.close()
        client.dispose()


class BuildProcess:
    """A builder process for one history's cache, started by this process; stopped with it."""

    def __init__(self, db_path: Path, cache: Path, *, purge: bool = False) -> None:
        self.db_path = db_path
        self.cache = cache
        self.purge = purge  # then purge the cache (see ``--purge``)
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None  # a file, not a pipe: a builder never waits on us

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the builder; raises OSError (or ValueError) when it cannot start."""
        package_root = str(Path(dasshh_history.__file__).resolve().parents[1])  # this code, however it was found
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        command = [PYTHON, "-m", __name__, "--db", str(self.db_path), "--cache", str(self.cache),
                   "--parent", str(os.getpid()), "--chunk", str(sync_module.CHUNK), *(["--purge"] if self.purge else [])]
        self._stderr = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=self._stderr, env=env, close_fds=True)
        except BaseException:
            self._stderr.close()
            self._stderr = None
            raise

    def poll(self) -> int | None:
        """Its exit status once it ended (negative: killed by that signal); None while it runs."""
        return self._process.poll() if self._process is not None else None

    def reason(self) -> str:
        """Why it failed: the last line it wrote, else its exit status."""
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            said = lines[-1].strip()[:200] if lines else ""
        code = self.poll()
        if said:
            return said
        if code is not None and code < 0:
            try:
                return f"it was killed ({signal.Signals(-code).name})"
            except ValueError:
                return "it was killed"
        return f"it exited with status {code}"

    def stop(self) -> None:
        """Ask it to stop, and kill it if it has not within :data:`STOP_WAIT`; it is gone on return."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.close()

    def close(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


if __name__ == "__main__":
    sys.exit(main())
