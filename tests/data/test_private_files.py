"""Our files are their owner's only: folders 0700, files 0600 whatever the umask; wider ones are tightened."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from dbutil import dasshh_database

from dasshh_history.data import private_files
from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex, default_cache_path
from dasshh_history.data.search.building import BuildLock
from dasshh_history.demo import write_demo

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


@pytest.fixture(params=[0o022, 0o077, 0o002, 0o277], ids=lambda m: f"umask{m:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def history(path: Path) -> Path:
    return dasshh_database(path, [("s1", "title", "2025-01-01 10:00:00", "2025-01-01 10:00:00")],
                           [("e1", "i", "s1", "2025-01-01 10:00:00", json.dumps({"role": "user", "content": "hi"}))])


def test_made_folders_and_files_are_private(tmp_path: Path, umask: int):
    made = private_files.make_dirs(tmp_path / "a" / "b")
    assert (mode(tmp_path / "a"), mode(made)) == (0o700, 0o700)
    with private_files.open_private(made / "f.txt", "w") as handle:
        handle.write("x")
    assert mode(made / "f.txt") == 0o600
    os.close(private_files.create_file(made / "g", os.O_RDWR))
    assert mode(made / "g") == 0o600
    assert mode(tmp_path) == 0o700  # pytest's; an existing parent is not changed by make_dirs


def test_an_existing_parent_is_not_changed_and_a_wide_file_is_tightened(tmp_path: Path):
    tmp_path.chmod(0o755)
    private_files.make_dirs(tmp_path / "x")
    assert mode(tmp_path) == 0o755
    wide = tmp_path / "wide"
    wide.write_text("secret")
    wide.chmod(0o664)
    os.close(private_files.create_file(wide, os.O_RDONLY))
    assert mode(wide) == 0o600
    wide.chmod(0o400)  # narrower than 0600: left so (only group and other bits are cleared)
    assert private_files.tighten(wide) is False and mode(wide) == 0o400
    with pytest.raises(FileExistsError):
        private_files.open_private(wide, "x")


def test_symlinks_are_not_followed(tmp_path: Path):
    target = tmp_path / "target"
    target.write_text("")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    assert private_files.tighten(tmp_path / "link") is False
    assert mode(target) == 0o644


def test_the_search_cache_and_its_companions_are_private(tmp_path: Path, umask: int, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db, read_only=True)
    try:
        path = default_cache_path(db)
        lock = BuildLock(path)
        index = SearchIndex(client)
        try:
            index.sync()
            assert lock.acquire(wait=False)
            made = sorted(p.name for p in path.parent.iterdir())
            assert f"{path.name}-wal" in made and f"{path.name}-shm" in made, made  # open in WAL mode
            for name in made:
                assert mode(path.parent / name) == 0o600, name
            assert mode(path.parent) == 0o700
            assert mode(tmp_path / "xdg") == 0o700  # made by us too
        finally:
            lock.release()
            index.close()
    finally:
        client.dispose()


def test_the_stats_file_beside_the_search_cache_is_private(tmp_path: Path, umask: int, monkeypatch):
    from dasshh_history.services.stats import StatsKeeper

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db, read_only=True)
    keeper = StatsKeeper(client)
    try:
        keeper.sync()
        folder = default_cache_path(db).parent
        made = sorted(p.name for p in folder.iterdir())
        stats = default_cache_path(db).name.replace(".db", ".stats.db")
        assert stats in made and f"{stats}-wal" in made, made
        assert {name: mode(folder / name) for name in made} == {name: 0o600 for name in made}
        assert mode(folder) == 0o700
    finally:
        keeper.close()
        client.dispose()


def test_an_existing_wide_cache_is_tightened_at_start(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    db = history(tmp_path / "history.db")
    client = DBClient(db_path=db, read_only=True)
    try:
        index = SearchIndex(client)
        index.sync()
        index.close()
        folder = default_cache_path(db).parent
        (folder / "other-file").write_text("x")  # e.g. an older version's, or another history's cache
        (folder / "sub").mkdir()
        for path in [folder, *folder.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (tmp_path / "xdg").chmod(0o755)  # the user's cache directory: not ours to change
        index = SearchIndex(client)
        index.close()
        assert {p.name: mode(p) for p in folder.iterdir()} == {
            p.name: (0o700 if p.is_dir() else 0o600) for p in folder.iterdir()}
        assert mode(folder) == 0o700
        assert mode(tmp_path / "xdg") == 0o755
    finally:
        client.dispose()


def test_a_cache_path_given_leaves_its_existing_folder_alone(tmp_path: Path, umask: int):
    db = history(tmp_path / "history.db")
    folder = tmp_path / "mine"
    folder.mkdir()
    folder.chmod(0o755)
    client = DBClient(db_path=db, read_only=True)
    try:
        index = SearchIndex(client, path=folder / "search.db")
        index.sync()
        index.close()
    finally:
        client.dispose()
    assert mode(folder) == 0o755
    assert mode(folder / "search.db") == 0o600


def test_the_demo_history_is_private(tmp_path: Path, umask: int):
    path = write_demo(tmp_path / "demo.db")
    assert mode(path) == 0o600
    assert not (tmp_path / "demo.db-wal").exists() or mode(tmp_path / "demo.db-wal") == 0o600
