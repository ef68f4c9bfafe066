"""e asks where to write the session and never replaces a file unasked; E writes every listed session to a new folder."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from uiutil import SIZE, said, settle, wait_for

from dasshh_history.domain.export import export_filename
from dasshh_history.screens.export_dialog import ExportFileScreen, ExportFolderScreen
from dasshh_history.services import exporting
from dasshh_history.services.exporting import export_session

NAME = "2026-03-14-clean-the-pip-cache-only-please.md"  # the demo's first session, as e has always named it
FOLDER = "dasshh-export-2026-03-14"  # the demo's today


@pytest.fixture
def out(tmp_path: Path, monkeypatch) -> Path:
    """The current directory, empty."""
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


async def type_path(pilot, text: str) -> None:
    """Replace the dialog's path with ``text``, typed."""
    await pilot.press("ctrl+u", *text)
    await wait_for(pilot, lambda: pilot.app.screen.path_input.value == text)


async def open_dialog(pilot, key: str, kind: type) -> None:
    await settle(pilot)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await settle(pilot)


async def closed(pilot) -> None:
    """Wait for the dialog to close and its outcome to be said."""
    await wait_for(pilot, lambda: pilot.app.screen is pilot.app.browser)
    await settle(pilot)


def markdown(app, session_id: str | None = None) -> bytes:
    session_id = session_id or app.browser.session_list.current.id
    return export_session(app.client, session_id, "md", tz=app.tz).encode()


async def test_e_offers_the_name_it_always_chose_and_enter_writes_it(demo_db, make_app, out):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "e", ExportFileScreen)
        assert app.screen.path_input.value == NAME
        assert app.screen.note == f"Writes {out / NAME}"
        await pilot.press("enter")
        await closed(pilot)
        assert files(out) == {NAME: markdown(app)}
        assert said(app)[-1] == f"Exported to {out / NAME}"
        await open_dialog(pilot, "e", ExportFileScreen)  # the name is taken now: the next one is offered
        assert app.screen.path_input.value == NAME.replace(".md", "-2.md")


async def test_e_writes_to_the_path_typed(demo_db, make_app, out):
    (out / "notes").mkdir()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "e", ExportFileScreen)
        await type_path(pilot, "notes/pip.md")
        assert app.screen.note == f"Writes {out / 'notes' / 'pip.md'}"
        await pilot.press("enter")
        await closed(pilot)
        assert files(out / "notes") == {"pip.md": markdown(app)}
        # A folder typed: the file goes in it, under the offered name.
        await open_dialog(pilot, "e", ExportFileScreen)
        await type_path(pilot, str(out / "notes"))
        await pilot.press("enter")
        await closed(pilot)
        assert set(files(out / "notes")) == {"pip.md", NAME}


async def test_escape_writes_nothing(demo_db, make_app, out):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "e", ExportFileScreen)
        await pilot.press("escape")
        await closed(pilot)
        await open_dialog(pilot, "E", ExportFolderScreen)
        await pilot.press("escape")
        await closed(pilot)
        await settle(pilot)
    assert files(out) == {} and said(app) == []


async def test_an_existing_file_is_replaced_only_after_a_second_enter(demo_db, make_app, out):
    (out / "mine.md").write_bytes(b"my own notes\n")
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "e", ExportFileScreen)
        await type_path(pilot, "mine.md")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "exists" in app.screen.note)
        assert app.screen.note == f"{out / 'mine.md'} exists. Enter again replaces it; edit the path to keep it."
        assert files(out) == {"mine.md": b"my own notes\n"}
        # Editing the path takes the question back: another name is written, the file kept.
        await type_path(pilot, "other.md")
        await type_path(pilot, "mine.md")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "exists" in app.screen.note)
        assert files(out) == {"mine.md": b"my own notes\n"}
        (out / "mine.md").chmod(0o640)
        await pilot.press("enter")  # the second Enter on the same path
        await closed(pilot)
        assert files(out) == {"mine.md": markdown(app)}
        assert (out / "mine.md").stat().st_mode & 0o777 == 0o640  # replaced, its permissions kept
        assert said(app)[-1] == f"Exported to {out / 'mine.md'} (replacing the file that was there)"


async def test_errors_are_said_in_the_dialog(demo_db, make_app, out, make_read_only):
    (out / "locked").mkdir()
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "e", ExportFileScreen)
        await type_path(pilot, "nope/x.md")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "No such" in app.screen.note)
        assert app.screen.note == f"No such folder: {out / 'nope'}"
        await type_path(pilot, "")
        await pilot.press("enter")
        assert app.screen.note == "Type the file to write."
        make_read_only(out / "locked")
        await type_path(pilot, "locked/x.md")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "ermi" in app.screen.note)  # chmod, or chattr +i as root
        reason = app.screen.note.partition(": ")[0]
        assert reason in ("Permission denied", "Operation not permitted")
        assert app.screen.note == f"{reason}: {out / 'locked' / 'x.md'}"
        assert isinstance(app.screen, ExportFileScreen)
        await pilot.press("escape")
        await closed(pilot)
    assert sorted(path.name for path in out.iterdir()) == ["locked"]
    assert list((out / "locked").iterdir()) == []


def digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256(data).hexdigest() for name, data in files(folder).items()}


async def test_shift_e_writes_every_listed_session_to_a_new_folder_and_never_overwrites(demo_db, make_app, out):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "E", ExportFolderScreen)
        total = app.browser.session_list.total
        assert app.screen.path_input.value == FOLDER
        assert f"Export {total} sessions as Markdown" in str(app.screen.query_one("#export-heading").render())
        await pilot.press("enter")
        await closed(pilot)
        assert said(app)[-1] == f"Exported {total} sessions to {out / FOLDER}"
        first = digest(out / FOLDER)
        assert len(first) == total
        assert files(out / FOLDER)[NAME] == markdown(app)
        # Again into the same folder: every file is new, none replaced.
        await open_dialog(pilot, "E", ExportFolderScreen)
        assert app.screen.path_input.value == FOLDER + "-2"  # a new folder is offered
        await type_path(pilot, FOLDER)
        assert "which exists" in app.screen.note
        await pilot.press("enter")
        await closed(pilot)
        second = digest(out / FOLDER)
        assert len(second) == 2 * total and {name: second[name] for name in first} == first
        assert second[NAME.replace(".md", "-2.md")] == first[NAME]


async def test_shift_e_while_searching_writes_the_results_only(demo_db, make_app, out):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nginx")
        await settle(pilot)
        await pilot.press("enter")  # the first result's timeline: E is a key again, not a letter typed
        await wait_for(pilot, lambda: app.focused is app.browser.timeline)
        ids = list(app.browser.listed_ids)
        assert 0 < len(ids) < app.browser.reader.count_sessions()
        await open_dialog(pilot, "E", ExportFolderScreen)
        assert f"Export {len(ids)} session" in str(app.screen.query_one("#export-heading").render())
        await pilot.press("enter")
        await closed(pilot)
        summaries = app.browser.reader.list_summaries_by_ids(ids)
        expected = {export_filename(s.created_at, s.detail, app.tz): markdown(app, s.id) for s in summaries}
        assert files(out / FOLDER) == expected


async def test_escape_while_exporting_stops_it(demo_db, make_app, out, monkeypatch):
    real = exporting.export_to_directory
    calls, gate = [], threading.Event()

    def slow(*args, **kwargs):
        calls.append(args[1])
        path = real(*args, **kwargs)
        gate.wait(5)
        return path

    monkeypatch.setattr(exporting, "export_to_directory", slow)
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, "E", ExportFolderScreen)
        total = app.browser.session_list.total
        await pilot.press("enter")
        await wait_for(pilot, lambda: calls)
        assert app.screen.note.startswith("Exporting… ") and app.screen.note.endswith(f"/{total}")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.note == "Stopping…")
        gate.set()
        await closed(pilot)
        assert said(app)[-1] == f"Export stopped: 1 session of {total} written to {out / FOLDER}"
    assert len(calls) == 1 and len(files(out / FOLDER)) == 1
