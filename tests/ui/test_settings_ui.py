"""Settings kept: theme, order and conversation view read at the start and saved when changed; a bad file warns."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC
from pathlib import Path

from uiutil import SIZE, plain_title, said, settle, wait_for

from dasshh_history import cli
from dasshh_history.app import HistoryApp
from dasshh_history.data.client import DBClient
from dasshh_history.demo import DEMO_NOW
from dasshh_history.services.settings import SettingsStore, default_config_path


def app_with(path: Path, config: Path | None) -> HistoryApp:
    return HistoryApp(DBClient(db_path=path), clock=lambda: DEMO_NOW, tz=UTC, search_path=path.with_suffix(".search.db"),
                      settings=None if config is None else SettingsStore(config))


def saved(config: Path) -> dict[str, object]:
    return tomllib.loads(config.read_text("utf-8"))


async def test_saved_settings_are_read_at_the_start(demo_db, tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text('theme = "textual-light"\nsort = "size"\nconversation_view = true\ntrash_days = 12\n')
    app = app_with(demo_db, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-light"
        assert plain_title(app.browser.session_list) == "Sessions (12) · by size"
        assert app.browser.timeline.conversation_view
        assert app.settings.trash_days == 12
        assert said(app) == []
    app.client.dispose()


async def test_s_t_and_the_theme_are_saved_in_the_default_file(demo_db, make_app):
    config = default_config_path()  # under the test's own XDG_CONFIG_HOME (tests/conftest.py)
    assert Path(os.environ["XDG_CONFIG_HOME"]) in config.parents and not config.exists()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not config.exists()  # nothing written until something changes
        await pilot.press("s")
        await wait_for(pilot, lambda: config.exists())
        assert saved(config)["sort"] == "activity"
        await pilot.press("enter", "t")
        await wait_for(pilot, lambda: saved(config)["conversation_view"] is True)
        app.theme = "nord"  # what the palette's theme picker does
        await wait_for(pilot, lambda: saved(config)["theme"] == "nord")
        await pilot.press("t")
        await wait_for(pilot, lambda: saved(config)["conversation_view"] is False)
    assert saved(config) == {"theme": "nord", "sort": "activity", "conversation_view": False, "trash_days": 30}
    # The next start opens with them.
    again = make_app(demo_db)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == "nord" and plain_title(again.browser.session_list) == "Sessions (12) · by last activity"


async def test_a_broken_file_starts_with_the_defaults_says_so_and_is_kept(demo_db, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("sort = [size\n")
    app = app_with(demo_db, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert plain_title(app.browser.session_list) == "Sessions (12) · by last update"
        assert app.theme == "textual-dark" and not app.browser.timeline.conversation_view
        assert any(text.startswith(f"{config}: not valid TOML") for text in said(app))
        await pilot.press("s")  # works, but the broken file is not written over
        await wait_for(pilot, lambda: "by last activity" in plain_title(app.browser.session_list))
        await settle(pilot)
    app.client.dispose()
    assert config.read_text() == "sort = [size\n"


async def test_bad_values_and_an_unknown_theme_fall_back_each_with_a_warning(demo_db, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('theme = "no-such-theme"\nsort = "size"\nconversation_view = 2\nfont = "big"\n')
    app = app_with(demo_db, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        assert plain_title(app.browser.session_list) == "Sessions (12) · by size"  # the good value is kept
        texts = said(app)
        assert any("conversation_view = 2 is not valid" in text for text in texts)
        assert any("unknown setting 'font'" in text for text in texts)
        assert any("no theme named 'no-such-theme'; using textual-dark" in text for text in texts)
    app.client.dispose()


def test_config_option_names_the_file(demo_db, tmp_path, monkeypatch):
    seen = []

    def run_app(client, search_path=None, history=None, config=None, trash_dir=None):
        seen.append(config)

    monkeypatch.setattr(cli, "run_app", run_app)
    monkeypatch.setattr(cli, "has_terminal", lambda: True)
    assert cli.main(["--config", str(tmp_path / "other.toml"), "--db", str(demo_db)]) == 0
    assert cli.main(["--db", str(demo_db)]) == 0
    assert seen == [tmp_path / "other.toml", None]


def test_a_command_reading_the_settings_warns_on_stderr_and_uses_the_defaults(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("trash_days = 'many'\n")
    assert cli.command_settings(config).trash_days == 30
    assert capsys.readouterr().err == (f"dasshh-history: {config}: trash_days = 'many' is not valid"
                                       " (a whole number of days >= 0); using the default\n")
    config.write_text("trash_days = 7\n")
    assert cli.command_settings(config).trash_days == 7 and capsys.readouterr().err == ""
