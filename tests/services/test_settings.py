"""The settings file: read with defaults for whatever is bad, written atomically and privately."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from dasshh_history.domain.order import ListOrder
from dasshh_history.services.settings import Settings, SettingsStore, default_config_path, to_toml


def test_the_default_path_follows_xdg_config_home_and_tests_never_use_the_real_one(tmp_path: Path):
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "dasshh-history" / "config.toml"
    assert default_config_path({}) == Path.home() / ".config" / "dasshh-history" / "config.toml"
    assert default_config_path({"XDG_CONFIG_HOME": "relative/dir"}) == Path.home() / ".config/dasshh-history/config.toml"
    # The autouse fixture of tests/conftest.py: the default store is in a temporary folder.
    assert SettingsStore().path != Path.home() / ".config" / "dasshh-history" / "config.toml"
    assert Path(os.environ["XDG_CONFIG_HOME"]) in SettingsStore().path.parents


def test_no_file_is_the_defaults_without_a_warning(tmp_path: Path):
    assert SettingsStore(tmp_path / "none.toml").load() == (Settings(), [])
    assert Settings() == Settings(theme="textual-dark", sort=ListOrder.UPDATED, conversation_view=False, trash_days=30)


def test_saved_settings_read_back_and_the_file_is_toml(tmp_path: Path):
    store = SettingsStore(tmp_path / "deep" / "er" / "config.toml")
    kept = Settings(theme='we"ird\\ \x01 théme', sort=ListOrder.SIZE, conversation_view=True, trash_days=7)
    store.save(kept)
    assert store.load() == (kept, [])
    assert tomllib.loads(store.path.read_text("utf-8")) == {
        "theme": 'we"ird\\ \x01 théme', "sort": "size", "conversation_view": True, "trash_days": 7,
    }


def test_folder_0700_and_file_0600_whatever_the_umask_and_no_temporary_file_left(tmp_path: Path):
    old = os.umask(0)
    try:
        store = SettingsStore(tmp_path / "made" / "config.toml")
        store.save(Settings())
        store.save(Settings(sort=ListOrder.CREATED))  # replaces
    finally:
        os.umask(old)
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["config.toml"]
    assert store.load()[0].sort is ListOrder.CREATED


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = SettingsStore(tmp_path / "config.toml")
    store.save(Settings(trash_days=5))
    before = store.path.read_bytes()

    def broken_replace(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        store.save(Settings(trash_days=6))
    assert store.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


@pytest.mark.parametrize(
    ("text", "expected", "warned"),
    [
        ("this is [not toml", Settings(), ["not valid TOML"]),
        ('sort = "size"\ncolour = "red"\n', Settings(sort=ListOrder.SIZE), ["unknown setting 'colour'"]),
        ('sort = "sideways"\ntrash_days = 9\n', Settings(trash_days=9), ["sort = 'sideways' is not valid"]),
        ("trash_days = -1\nconversation_view = true\n", Settings(conversation_view=True), ["trash_days = -1"]),
        ('trash_days = "30"\n', Settings(), ["trash_days = '30' is not valid"]),
        ("trash_days = true\n", Settings(), ["trash_days = True is not valid"]),
        ('conversation_view = "yes"\ntheme = "nord"\n', Settings(theme="nord"), ["conversation_view = 'yes'"]),
        ("theme = 3\n", Settings(), ["theme = 3 is not valid"]),
        ("[section]\nsort = 'size'\n", Settings(), ["unknown setting 'section'"]),
    ],
)
def test_a_bad_file_or_value_is_a_warning_and_the_default_for_what_is_bad(tmp_path: Path, text, expected, warned):
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    settings, warnings = SettingsStore(path).load()
    assert settings == expected
    assert len(warnings) == len(warned)
    for warning, part in zip(warnings, warned, strict=True):
        assert part in warning and str(path) in warning


def test_a_file_that_cannot_be_read_is_never_written_over(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"sort = [oops\n\xff")
    store = SettingsStore(path)
    settings, warnings = store.load()
    assert settings == Settings() and len(warnings) == 1
    assert not store.writable
    with pytest.raises(PermissionError):
        store.save(Settings(sort=ListOrder.SIZE))
    assert path.read_bytes() == b"sort = [oops\n\xff"


def test_the_file_written_lists_every_setting():
    assert to_toml(Settings()).splitlines()[1:] == [
        'theme = "textual-dark"', 'sort = "updated"', "conversation_view = false", "trash_days = 30",
    ]
