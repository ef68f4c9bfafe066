"""A large index build in a process of its own: what it writes, a kill, two instances, and when it cannot run."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dasshh_history.data.client import DBClient
from dasshh_history.data.search import SearchIndex
from dasshh_history.data.search.building import BuildLock, read_progress
from dasshh_history.demo import DEMO_NOW, write_large_history
from dasshh_history.domain.query import SearchQuery
from dasshh_history.services import index_build
from dasshh_history.services.index_build import EXIT_BUSY, BuildProcess
from dasshh_history.services.index_keeper import Building, IndexKeeper, Synced

pytestmark = pytest.mark.skipif(not index_build.SUPPORTED, reason="builder processes run on POSIX systems")

SESSIONS = 400
#: Words in every session's events (not their titles), in some, and in a phrase.
QUERIES = ("items", "ok", "firewall", "how firewall", "tool:run_shell_command", "is:failed", '"ok 17"', "k")


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build of many short transactions (the builder is given the CHUNK of its parent): it can be caught midway."""
    monkeypatch.setattr("dasshh_history.data.search.sync.CHUNK", 5)
    monkeypatch.setattr("dasshh_history.services.index_keeper.BACKGROUND_AFTER", 100)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = write_large_history(tmp_path / "history.db", sessions=SESSIONS, now=DEMO_NOW)
    DBClient(db_path=path).dispose()  # the browser's own indexes, made once (as the app does)
    return path


@pytest.fixture
def client(history: Path) -> Iterator[DBClient]:
    client = DBClient(db_path=history)
    yield client
    client.dispose()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        time.sleep(0.005)


def midway(cache: Path, pid: int | None) -> bool:
    noted = read_progress(cache)
    return noted is not None and noted.pid == pid and 0 < noted.done < noted.total


def results(client: DBClient, cache: Path) -> dict[str, list[str]]:
    index = SearchIndex(client, path=cache)
    try:
        return {query: index.search(SearchQuery.parse(query)).session_ids for query in QUERIES}
    finally:
        index.close()


def clean_build(client: DBClient, tmp_path: Path) -> dict[str, list[str]]:
    cache = tmp_path / "clean.search.db"
    index = SearchIndex(client, path=cache)
    index.sync()
    index.close()
    found = results(client, cache)
    assert len(found["items"]) == SESSIONS  # in every session: a fair comparison
    return found


def count(path: Path, sql: str) -> tuple:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchone()
    finally:
        conn.close()


def each_event_once(cache: Path, history: Path) -> None:
    (total,) = count(history, "SELECT count(*) FROM events")
    assert count(cache, "SELECT count(*), count(DISTINCT event_rowid) FROM docs") == (total, total)


def finish(keeper: IndexKeeper) -> list[Building | None]:
    seen: list[Building | None] = []
    wait_for(lambda: seen.append(keeper.poll()) or not (seen[-1] and seen[-1].running), what="the build to end")
    return seen


def test_a_large_build_runs_in_a_process_of_its_own_that_never_writes_the_history(
    client: DBClient, history: Path, tmp_path: Path
):
    before = digest(history)
    cache = tmp_path / "search.db"
    keeper = IndexKeeper(client, cache, background=True)
    synced = keeper.sync()
    assert synced.background and not synced.changed
    pid = keeper.builder_pid
    assert pid is not None and pid != os.getpid()
    wait_for(lambda: midway(cache, pid), what="the builder's progress")  # noted by the builder, in the cache
    seen = finish(keeper)
    assert any(b is not None and b.running and b.progress for b in seen)
    assert seen[-1] == Building(False)
    assert read_progress(cache).pid == pid  # type: ignore[union-attr]
    assert digest(history) == before  # byte for byte
    assert keeper.sync() == Synced(False)  # caught up here: nothing was left
    assert not keeper.building and keeper.builder_pid is None
    keeper.close()
    each_event_once(cache, history)
    assert results(client, cache) == clean_build(client, tmp_path)


def test_a_builder_killed_midway_leaves_a_cache_that_the_next_sync_completes(
    client: DBClient, history: Path, tmp_path: Path
):
    cache = tmp_path / "search.db"
    builder = BuildProcess(history, cache)
    builder.start()
    wait_for(lambda: midway(cache, builder.pid), what="the builder's progress")
    os.kill(builder.pid, signal.SIGKILL)  # type: ignore[arg-type]
    wait_for(lambda: builder.poll() is not None)
    assert builder.poll() == -signal.SIGKILL
    builder.close()
    conn = sqlite3.connect(cache)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.execute("INSERT INTO fts (fts) VALUES ('integrity-check')")  # raises if the FTS index is broken
    conn.close()
    index = SearchIndex(client, path=cache)
    done = index.indexed_events()
    assert 0 < done and index.sync().added > 0  # picked up where the builder stopped
    index.close()
    each_event_once(cache, history)
    assert results(client, cache) == clean_build(client, tmp_path)


def test_two_keepers_on_one_history_do_not_both_build(client: DBClient, history: Path, tmp_path: Path):
    cache = tmp_path / "search.db"
    first, second = IndexKeeper(client, cache, background=True), IndexKeeper(client, cache, background=True)
    assert first.sync().background
    wait_for(lambda: midway(cache, first.builder_pid), what="the first builder's progress")
    synced = second.sync()
    assert synced.background and second.builder_pid is None  # it saw the first one's build: no builder of its own
    building = second.poll()
    assert building is not None and building.running  # and follows it
    finish(first)
    finish(second)
    assert second.poll() is None
    assert not second.sync().changed  # what the first built is used
    first.close()
    second.close()
    each_event_once(cache, history)


def test_two_builders_started_at_once_index_each_event_once(client: DBClient, history: Path, tmp_path: Path):
    cache = tmp_path / "search.db"
    builders = [BuildProcess(history, cache), BuildProcess(history, cache)]
    for builder in builders:
        builder.start()
    wait_for(lambda: all(builder.poll() is not None for builder in builders), what="both builders to end")
    codes = sorted(builder.poll() for builder in builders)  # type: ignore[type-var]
    assert codes in ([0, 0], [0, EXIT_BUSY])  # the second left at once, or started once the first was done
    each_event_once(cache, history)
    assert results(client, cache) == clean_build(client, tmp_path)


def test_closing_the_keeper_stops_its_builder(client: DBClient, history: Path, tmp_path: Path):
    cache = tmp_path / "search.db"
    keeper = IndexKeeper(client, cache, background=True)
    keeper.sync()
    pid = keeper.builder_pid
    wait_for(lambda: midway(cache, pid), what="the builder's progress")
    keeper.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # type: ignore[arg-type]  # gone, and reaped
    assert not BuildLock(cache).busy()
    again = IndexKeeper(client, cache)
    assert again.sync().changed  # the rest
    again.close()
    each_event_once(cache, history)


def test_a_builder_that_cannot_start_leaves_the_sync_to_the_app_said_once(
    client: DBClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(index_build, "PYTHON", str(tmp_path / "no-such-python"))
    keeper = IndexKeeper(client, tmp_path / "search.db", background=True)
    synced = keeper.sync()
    assert synced.changed and not synced.background  # built here, as before builders
    assert synced.notice is not None and "could not start" in synced.notice and "in the app instead" in synced.notice
    assert keeper.sync().notice is None  # said once
    assert not keeper.start_background()  # and not tried again in this run
    keeper.close()


def test_a_builder_that_fails_is_said_once_and_the_app_syncs_itself(
    client: DBClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    python = tmp_path / "failing-python"
    python.write_text("#!/bin/sh\necho 'something went wrong' >&2\nexit 3\n")
    python.chmod(0o755)
    monkeypatch.setattr(index_build, "PYTHON", str(python))
    keeper = IndexKeeper(client, tmp_path / "search.db", background=True)
    assert keeper.sync().background
    seen = finish(keeper)
    assert seen[-1] == Building(False, notice="Indexing for search in the background failed: something went wrong; "
                                              "indexing in the app instead.")
    assert keeper.poll() is None
    synced = keeper.sync()
    assert synced.changed and not synced.background and synced.notice is None
    keeper.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_builder_whose_app_was_killed_stops(history: Path, tmp_path: Path):
    """No orphan: a builder stops by itself once the process that started it is gone, however it went."""
    cache = tmp_path / "search.db"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from dasshh_history.data.search import sync\n"
        "from dasshh_history.services.index_build import BuildProcess\n"
        "sync.CHUNK = 5\n"
        f"builder = BuildProcess(Path({str(history)!r}), Path({str(cache)!r}))\n"
        "builder.start()\n"
        "print(builder.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    app = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(app.stdout.readline())  # type: ignore[union-attr]
    wait_for(lambda: midway(cache, pid), what="the builder's progress")
    app.kill()
    app.wait()
    app.stdout.close()  # type: ignore[union-attr]

    def gone() -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        return "\nState:\tZ" in status  # ended, not reaped yet (by whoever adopted it)

    wait_for(gone, what="the orphaned builder to stop")
    assert not BuildLock(cache).busy()
