"""Settings of SQLite for the whole process, made once at start, before its first connection.

SQLite keeps statistics of its memory (how much is in use, the most ever)
under one lock that every allocation of every connection takes.  Python's
``sqlite3`` module reads none of them, and SQLite's own advice is to build
without them ("Recommended Compile-time Options": ``SQLITE_DEFAULT_MEMSTATUS=0``,
which makes its allocations "run much faster"), but Debian's library, among
others, keeps them.  Threads of one process working at once (the stats' two
lanes, the app's workers) then spend much of their time waiting on that lock:
at 50,000 sessions the first stats computation takes 2.5 s without them, 3.2
s with them.

Only ``sqlite3_config()`` turns them off, while SQLite is stopped, and
Python's module has no call for it (and starts SQLite when imported).  So,
through :mod:`ctypes`, in the library that module uses, and on Linux only
(where a function of variable arguments takes them as ctypes passes them):
while no connection is open (SQLite holds no memory), SQLite is stopped
(``sqlite3_shutdown()``, which its documentation allows then), told, and
started again.  A library built without them counts nothing (a probe
allocation tells): it is left as it is.  With a connection open, or anywhere
else, nothing changes: only the speed depends on it.
"""

from __future__ import annotations

import ctypes
import sys

#: ``SQLITE_CONFIG_MEMSTATUS`` and ``SQLITE_OK`` (sqlite3.h).
_CONFIG_MEMSTATUS = 9
_OK = 0

_quiet: bool | None = None


def quiet_memory_statistics() -> bool:
    """Turn SQLite's memory statistics off for this process: once, at its start (before any connection).

    Whether they are off: False where SQLite cannot be told (not on Linux, its library not found) or a
    connection is open.  Not to be called while another thread may open one.
    """
    global _quiet
    if _quiet is None:
        _quiet = _configure()
    return _quiet


def _configure() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import _sqlite3

        # The module's own library: dlsym on the module searches it and the libraries it was linked with.
        library = ctypes.CDLL(getattr(_sqlite3, "__file__", None))
        malloc, free, memory_used = library.sqlite3_malloc, library.sqlite3_free, library.sqlite3_memory_used
        shutdown, config, initialize = library.sqlite3_shutdown, library.sqlite3_config, library.sqlite3_initialize
    except (ImportError, OSError, AttributeError):
        return False
    malloc.restype = ctypes.c_void_p
    free.argtypes = [ctypes.c_void_p]
    memory_used.restype = ctypes.c_int64
    config.argtypes = [ctypes.c_int, ctypes.c_int]
    probe = malloc(64)
    if not probe:
        return False
    counted = memory_used()
    free(probe)
    if counted == 0:
        return True  # SQLite counts nothing: built without the statistics, or told already
    if memory_used() != 0 or shutdown() != _OK:  # memory held: a connection is open, SQLite keeps running
        return False
    quiet = config(_CONFIG_MEMSTATUS, 0) == _OK
    initialize()  # (the first connection would, too)
    return quiet


__all__ = ["quiet_memory_statistics"]
