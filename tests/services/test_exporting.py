"""Exporting from the database: JSON gives back what is stored, Markdown reads it all, files are never overwritten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from exportutil import SESSION, expected_events, varied_history, without_errors

from dasshh_history.data.client import DBClient
from dasshh_history.services.exporting import (
    export_session,
    export_to_directory,
    export_to_file,
    free_name,
    iter_export,
    write_file,
    write_new_file,
)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    return varied_history(tmp_path / "history.db")


@pytest.fixture
def client(history: Path) -> Iterator[DBClient]:
    client = DBClient(db_path=history)
    yield client
    client.dispose()


def test_json_export_gives_back_the_stored_contents_in_order(history: Path, client: DBClient):
    document = json.loads(export_session(client, SESSION, "json"))
    expected = expected_events(history, SESSION)
    assert len(expected) > 250, "several batches"
    assert without_errors(document["events"]) == expected
    # Insertion order, not created_at order (e003 is earlier, e017 undated, e018 unparseable, the last one earlier).
    assert [event["id"] for event in document["events"]] == [f"e{i:03d}" for i in range(len(expected))]
    assert document | {"events": None} == {
        "id": SESSION,
        "detail": "Fix the flaky test: é 漢字 [b]x[/b]\nsecond line",
        "created_at": "2026-03-01T09:59:00+00:00",
        "updated_at": "2026-03-01T11:00:00+00:00",
        "events": None,
    }


def test_json_export_of_a_session_without_events_or_dates(client: DBClient):
    assert json.loads(export_session(client, "s-empty", "json")) == {
        "id": "s-empty", "detail": None, "created_at": None, "updated_at": None, "events": []
    }


def test_markdown_export_renders_every_event(client: DBClient):
    markdown = export_session(client, SESSION, "md", tz=UTC)
    assert markdown.startswith("# Fix the flaky test: é 漢字 \\[b\\]x\\[/b\\] second line\n")
    assert "\x1b" not in markdown
    assert markdown.count("### You") == 250 + 5
    assert "filler 249" in markdown and "**later reply**" in markdown
    assert "**Raw event**: undecodable row" in markdown
    assert "*arguments are not valid JSON (cut off?); as stored:*" in markdown


def test_unknown_id_is_none(client: DBClient, tmp_path: Path):
    assert export_session(client, "nope", "md") is None
    assert iter_export(client, "nope", "json") is None
    assert export_to_directory(client, "nope", tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]


def test_unknown_format_is_refused(client: DBClient):
    with pytest.raises(ValueError, match="unknown export format"):
        iter_export(client, SESSION, "html")  # type: ignore[arg-type]


def test_export_to_directory_never_overwrites(client: DBClient, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    taken = out / "2026-03-01-fix-the-flaky-test-é-漢字-b-x-b-second-line.md"
    taken.write_text("mine")
    first = export_to_directory(client, SESSION, out, tz=UTC)
    second = export_to_directory(client, SESSION, out, tz=UTC)
    assert [first.name, second.name] == [f"{taken.stem}-2.md", f"{taken.stem}-3.md"]
    assert taken.read_text() == "mine"
    assert first.read_text(encoding="utf-8") == export_session(client, SESSION, "md", tz=UTC)


def test_write_new_file_numbers_taken_names(tmp_path: Path):
    assert write_new_file(tmp_path, "a.md", "one") == tmp_path / "a.md"
    assert write_new_file(tmp_path, "a.md", ["t", "wo"]) == tmp_path / "a-2.md"
    assert write_new_file(tmp_path, "noext", "x") == tmp_path / "noext"
    assert write_new_file(tmp_path, "noext", "y") == tmp_path / "noext-2"
    assert [(tmp_path / n).read_text() for n in ("a.md", "a-2.md", "noext", "noext-2")] == ["one", "two", "x", "y"]


def test_write_new_file_removes_a_half_written_file(tmp_path: Path):
    def pieces() -> Iterator[str]:
        yield "start"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_new_file(tmp_path, "a.md", pieces())
    assert list(tmp_path.iterdir()) == []


def test_free_name_is_the_name_write_new_file_would_take(tmp_path: Path):
    assert free_name(tmp_path, "a.md") == "a.md"
    for _ in range(3):
        name = free_name(tmp_path, "a.md")
        assert write_new_file(tmp_path, "a.md", "x").name == name
    assert free_name(tmp_path, "a.md") == "a-4.md"
    (tmp_path / "folder").mkdir()
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert free_name(tmp_path, "folder") == "folder-2" and free_name(tmp_path, "dangling") == "dangling-2"


def test_write_file_replaces_only_when_asked_and_an_error_keeps_the_old_file(tmp_path: Path):
    path = tmp_path / "notes.md"
    assert write_file(path, ["new ", "text"]) == path and path.read_text() == "new text"
    with pytest.raises(FileExistsError):
        write_file(path, "other")
    assert path.read_text() == "new text"
    path.chmod(0o640)

    def pieces() -> Iterator[str]:
        yield "half"
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_file(path, pieces(), overwrite=True)
    assert path.read_text() == "new text" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]
    write_file(path, "replaced", overwrite=True)
    assert path.read_text() == "replaced" and path.stat().st_mode & 0o777 == 0o640
    link = tmp_path / "link.md"
    link.symlink_to(path)
    write_file(link, "through the link", overwrite=True)
    assert link.is_symlink() and path.read_text() == "through the link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.md", "notes.md"]


def test_export_to_file(client: DBClient, tmp_path: Path):
    path = tmp_path / "s.md"
    assert export_to_file(client, SESSION, path, tz=UTC) == path
    assert path.read_text(encoding="utf-8") == export_session(client, SESSION, "md", tz=UTC)
    with pytest.raises(FileExistsError):
        export_to_file(client, SESSION, path, tz=UTC)
    assert export_to_file(client, "nope", tmp_path / "nope.md") is None and not (tmp_path / "nope.md").exists()
    with pytest.raises(FileNotFoundError):
        export_to_file(client, SESSION, tmp_path / "missing" / "s.md")


def test_markdown_export_follows_insertion_order_not_created_at(tmp_path: Path):
    """Two dasshh windows: the later-inserted message has the earlier created_at (its run started first)."""
    from exportutil import dasshh_database

    run_a, run_b = "2026-11-30 10:00:00.000000", "2026-11-30 10:00:04.000000"
    path = dasshh_database(tmp_path / "h.db", [("s", "t", run_a, run_b)], [
        ("e1", "i1", "s", run_a, json.dumps({"role": "user", "content": "first message"})),
        ("e2", "i2", "s", run_b, json.dumps({"role": "user", "content": "second message"})),
        ("e3", "i3", "s", run_a, json.dumps({"role": "user", "content": "third message"})),
    ])
    client = DBClient(db_path=path, read_only=True)
    try:
        text = export_session(client, "s", "md", tz=UTC)
    finally:
        client.dispose()
    positions = [text.index(f"{word} message") for word in ("first", "second", "third")]
    assert positions == sorted(positions)
