"""Files and folders of ours that only their owner can read: folders 0700, files 0600, whatever the umask.

Everything dasshh-history keeps for itself (the search cache, the trash, the
settings, a demo's temporary history) is a copy of the user's conversations or
about them, so it is made private when created, and an existing one that is
readable by others is tightened (its group and other bits cleared, nothing
else).  What the user asks for by name (an export) keeps the usual modes: this
module is not used for it.

SQLite makes a database's ``-wal``, ``-shm`` and ``-journal`` files with the
mode of the database file, so :func:`sqlite_file` makes that file 0600 before
SQLite opens it, and tightens companions left by an older version.

Symbolic links are never followed to change a mode, and a file that is not
ours (another owner) is left alone: tightening is best effort, creating is not.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
#: The files SQLite keeps beside a database (see :func:`sqlite_file`).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_dirs(path: Path) -> Path:
    """Make ``path`` and its missing parents, each made 0700; folders that were there are not changed."""
    missing: list[Path] = []
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            os.mkdir(made, DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to change
        os.chmod(made, DIR_MODE)  # mkdir's mode goes through the umask (a umask of 0277 would leave 0500)
    return path


def private_dir(path: Path) -> Path:
    """Make the folder ``path`` (0700, with its missing parents) or, when it exists, tighten it (and only it)."""
    make_dirs(path)
    tighten(path)
    return path


def create_file(path: Path, flags: int = os.O_WRONLY) -> int:
    """Open ``path`` (``flags``: the access and O_EXCL, O_TRUNC...), made 0600 when created; a descriptor.

    An existing file is tightened.  The mode is set on the descriptor, so the
    umask plays no part and no other process sees the file wider meanwhile
    (it is never wider than 0600, even before).
    """
    cloexec = getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags | os.O_CREAT | os.O_EXCL | cloexec, FILE_MODE)
        created = True
    except FileExistsError:
        if flags & os.O_EXCL:
            raise
        descriptor = os.open(path, flags | cloexec)
        created = False
    try:
        if created and hasattr(os, "fchmod"):
            os.fchmod(descriptor, FILE_MODE)  # exactly 0600: the umask may have taken a bit of it
        else:
            _tighten_descriptor(descriptor)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def open_private(path: Path, mode: str = "w", *, encoding: str | None = "utf-8", newline: str | None = ""):
    """:func:`open` for a file of ours: ``"w"``, ``"x"``, ``"a"`` or with ``"b"``, made 0600 when created."""
    flags = {"w": os.O_WRONLY | os.O_TRUNC, "x": os.O_WRONLY | os.O_EXCL, "a": os.O_WRONLY | os.O_APPEND}
    base = mode.replace("b", "").replace("+", "")
    access = flags[base] if "+" not in mode else (flags[base] & ~os.O_WRONLY) | os.O_RDWR
    descriptor = create_file(path, access)
    if "b" in mode:
        return open(descriptor, mode)
    return open(descriptor, mode, encoding=encoding, newline=newline)


def sqlite_file(path: Path) -> Path:
    """Make sure the SQLite database ``path`` exists as a 0600 file before SQLite opens it.

    An empty file is a valid, empty database; SQLite makes its ``-wal``,
    ``-shm`` and ``-journal`` with the same mode.  Those left from an earlier
    run with a wider mode are tightened.  ``:memory:`` and URIs are left alone.
    """
    if str(path) == ":memory:" or str(path).startswith("file:"):
        return path
    os.close(create_file(Path(path), os.O_RDONLY))
    for suffix in SQLITE_COMPANIONS:
        tighten(Path(f"{path}{suffix}"))
    return path


def tighten(path: Path) -> bool:
    """Clear the group and other bits of ``path`` if it is ours and has any; whether it changed.

    Missing files, symbolic links and files of other owners are left alone.
    """
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISLNK(info.st_mode) or not _owned(info):
        return False
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return False
    try:
        os.chmod(path, mode & ~0o077)
    except OSError:
        return False
    return True


def tighten_tree(folder: Path) -> int:
    """Tighten the folder ``folder`` and everything in it (symbolic links not followed); how many changed."""
    changed = int(tighten(folder))
    if not Path(folder).is_dir() or Path(folder).is_symlink():
        return changed
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            changed += tighten(Path(root) / name)
    return changed


def shred(path: Path) -> bool:
    """Overwrite the file ``path`` with zeros (written through to the disk) and remove it; whether it was there.

    For files of ours whose old content must not survive in them: a removed
    file's blocks are the file system's, but no file of ours holds the text
    any more (copy-on-write and journalling file systems may keep old blocks
    regardless: this is no guarantee against someone reading the raw disk).
    Symbolic links are removed, never followed.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISREG(info.st_mode) and info.st_size:
        try:
            descriptor = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            descriptor = -1
        if descriptor >= 0:
            try:
                zeros = bytes(1 << 20)
                left = info.st_size
                while left > 0:
                    left -= os.write(descriptor, zeros[: min(left, len(zeros))])
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    os.unlink(path)
    return True


def is_private(path: Path) -> bool:
    """Whether nobody but the owner may read, write or enter ``path`` (group and other bits all clear)."""
    return not stat.S_IMODE(os.lstat(path).st_mode) & 0o077


def _tighten_descriptor(descriptor: int) -> None:
    info = os.fstat(descriptor)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077 and _owned(info) and hasattr(os, "fchmod"):
        os.fchmod(descriptor, mode & ~0o077)


def _owned(info: os.stat_result) -> bool:
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()
