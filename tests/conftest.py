"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def make_read_only() -> Iterator[Callable[..., None]]:
    """Make files and directories unwritable, undone after the test.

    ``chmod`` does not stop root, so as root the immutable attribute is used
    (``chattr +i``); where that is not available the test is skipped.
    """
    undo: list[Callable[[], object]] = []

    def make(*paths: Path) -> None:
        for path in paths:
            if os.geteuid() == 0:
                done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
                if done.returncode != 0:
                    pytest.skip("root ignores file permissions and chattr +i is not available here")
                undo.append(lambda path=path: subprocess.run(["chattr", "-i", str(path)], check=True))
            else:
                mode = path.stat().st_mode
                path.chmod(stat.S_IRUSR | (stat.S_IXUSR if path.is_dir() else 0))
                undo.append(lambda path=path, mode=mode: path.chmod(mode))

    yield make
    for step in reversed(undo):
        step()


@pytest.fixture(autouse=True)
def _private_trash(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deletes go to a trash under a temporary ``XDG_DATA_HOME``, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture(autouse=True)
def _settings_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real ``~/.config``: the app's settings file is in a folder of the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
