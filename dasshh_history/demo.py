"""A realistic, deterministic sample history: for ``--demo``, tests, screenshots and benchmarks.

Rows are written the way dasshh writes them: OpenAI-style message contents as
JSON text (``json.dumps`` with default separators, as SQLAlchemy's JSON type
does), naive UTC datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff``, and every row of
one dasshh run sharing one ``created_at``.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dasshh_history.data import private_files
from dasshh_history.data.client import DBClient
from dasshh_history.data.models import utcnow

#: The fixed clock of snapshot tests and screenshots.
DEMO_NOW = datetime(2026, 3, 14, 15, 9, 26)

Content = dict[str, object]


def stored_time(dt: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite."""
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def stored_json(content: object) -> str:
    """A content as SQLAlchemy's JSON type stores it."""
    return json.dumps(content)


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def call(self) -> str:
        return "call_" + "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                  for _ in range(24))


def user(text: str) -> Content:
    return {"role": "user", "content": text}


def reply(text: str) -> Content:
    return {"role": "assistant", "content": text}


def calls(*pairs: tuple[str, str, str]) -> Content:
    """An assistant message with tool calls: (call id, name, arguments JSON text)."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "index": index, "function": {"name": name, "arguments": arguments}}
            for index, (call_id, name, arguments) in enumerate(pairs)
        ],
    }


def result(call_id: str, name: str, value: object) -> Content:
    return {"role": "tool", "tool_call_id": call_id, "name": name, "content": json.dumps(value, indent=2)}


@dataclass
class _Session:
    updated: timedelta  # before now
    queries: list[list[Content]]  # one list of contents per invocation
    title: str | None = None  # defaults to the last user message
    one_run: bool = False  # all rows share one created_at (one dasshh run)
    ids: list[str] = field(default_factory=list)


def _big_listing(rng: random.Random, target_bytes: int) -> dict[str, object]:
    """A large realistic tool output (a log) of about ``target_bytes`` when dumped."""
    levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"]
    services = ["nginx", "postgres", "api", "worker", "scheduler", "redis"]
    lines: list[str] = []
    size = 0
    second = 0
    while size < target_bytes:
        second += rng.randint(1, 9)
        line = (
            f"2026-03-{10 + second // 86400:02d}T{(second // 3600) % 24:02d}:{(second // 60) % 60:02d}:{second % 60:02d}Z "
            f"{rng.choice(levels):5} {rng.choice(services)}[{rng.randint(100, 9999)}]: "
            f"request id={rng.getrandbits(32):08x} path=/api/v1/items/{rng.randint(1, 5000)} "
            f"status={rng.choice([200, 200, 200, 201, 304, 404, 500])} took={rng.randint(1, 900)}ms"
        )
        lines.append(line)
        size += len(line) + 8
    return {"exit_code": 0, "stdout": lines, "stderr": ""}


def _demo_sessions(ids: _Ids, rng: random.Random) -> list[_Session]:
    c = [ids.call() for _ in range(16)]
    disk = {
        "exit_code": 0,
        "stdout": "Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p2  468G  402G   43G  91% /\n"
        "/dev/nvme0n1p1  511M   61M  451M  12% /boot/efi\ntmpfs            16G  1.2G   15G   8% /tmp",
        "stderr": "",
    }
    du = {
        "exit_code": 0,
        "stdout": "112G\t/home/ana/.cache\n61G\t/home/ana/Videos\n38G\t/home/ana/.local/share/docker\n"
        "21G\t/home/ana/Downloads\n9.4G\t/home/ana/code",
        "stderr": "",
    }
    return [
        _Session(
            updated=timedelta(minutes=10),
            queries=[
                [
                    user("My disk is almost full. What is taking all the space?"),
                    calls((c[0], "run_shell_command", json.dumps({"command": "df -h"}))),
                    result(c[0], "run_shell_command", disk),
                    calls((c[1], "run_shell_command", json.dumps({"command": "du -sh ~/* ~/.[a-z]* | sort -rh | head -5"}))),
                    result(c[1], "run_shell_command", du),
                    reply(
                        "Your root partition is **91% full** (43G free). The biggest directories:\n\n"
                        "| Directory | Size | Safe to clean? |\n"
                        "| --- | ---: | --- |\n"
                        "| `~/.cache` | 112G | yes, caches are rebuilt |\n"
                        "| `~/Videos` | 61G | your files: check first |\n"
                        "| `~/.local/share/docker` | 38G | prune unused images |\n"
                        "| `~/Downloads` | 21G | probably |\n\n"
                        "To reclaim most of it:\n\n"
                        "```bash\nrm -rf ~/.cache/pip ~/.cache/yarn\ndocker system prune --all --volumes\n```\n\n"
                        "> `docker system prune` removes **all** stopped containers and unused images."
                    ),
                ],
                [
                    user("Clean the pip cache only, please."),
                    calls((c[2], "run_shell_command", json.dumps({"command": "pip cache purge"}))),
                    result(c[2], "run_shell_command", {"exit_code": 0, "stdout": "Files removed: 4182", "stderr": ""}),
                    reply("Done: pip's cache is empty now (4,182 files removed, about **7.9 GB**)."),
                ],
            ],
        ),
        _Session(
            updated=timedelta(hours=2, minutes=14),
            queries=[
                [
                    user("Why is nginx returning 502 on /api? Look at the logs."),
                    calls((c[3], "read_file", json.dumps({"path": "/var/log/nginx/error.log", "tail": 5000}))),
                    result(c[3], "read_file", _big_listing(rng, 120_000)),
                    reply(
                        "## What the log says\n\n"
                        "Every 502 follows `connect() failed (111: Connection refused) while connecting to upstream`: "
                        "nginx is up, but **nothing listens on `127.0.0.1:8000`**.\n\n"
                        "1. Check the app server: `systemctl status gunicorn`\n"
                        "2. Make sure it binds the address nginx proxies to\n"
                        "3. Reload nginx after any change: `sudo nginx -s reload`"
                    ),
                ],
                [
                    user("Show me the nginx config for the api location"),
                    calls((c[4], "read_file", '{"path": "/etc/ngi')),
                    result(c[4], "read_file", {"error": "Invalid arguments: Unterminated string starting at: line 1 column 10"}),
                    calls((c[5], "read_file", "")),
                    result(c[5], "read_file", {"error": "Missing required argument: path"}),
                    calls((c[6], "read_file", json.dumps({"path": "/etc/nginx/sites-enabled/api.conf"}))),
                    result(
                        c[6],
                        "read_file",
                        {"content": "location /api/ {\n    proxy_pass http://127.0.0.1:8000/;\n"
                         "    proxy_set_header Host $host;\n    proxy_read_timeout 60s;\n}\n"},
                    ),
                    reply(
                        "The first two calls failed (the arguments were cut off, then empty); the third worked:\n\n"
                        "```nginx\nlocation /api/ {\n    proxy_pass http://127.0.0.1:8000/;\n    proxy_set_header Host $host;\n"
                        "    proxy_read_timeout 60s;\n}\n```\n\nThe config is fine: the upstream is what is down."
                    ),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=1, hours=3),
            one_run=True,
            queries=[
                [
                    {"role": "system", "content": "You are dasshh, a helpful terminal assistant. Be concise."},
                    user("Write a Python function that retries a call with exponential backoff"),
                    reply(
                        "Here is a small, dependency-free version:\n\n"
                        "```python\nimport random\nimport time\n\n\n"
                        "def retry(fn, *, attempts=5, base=0.5, cap=10.0):\n"
                        '    """Call fn until it succeeds, sleeping longer after each failure."""\n'
                        "    for attempt in range(attempts):\n"
                        "        try:\n            return fn()\n"
                        "        except Exception:\n"
                        "            if attempt == attempts - 1:\n                raise\n"
                        "            time.sleep(min(cap, base * 2 ** attempt) * random.uniform(0.5, 1.5))\n```\n\n"
                        "- the **jitter** (`random.uniform`) keeps many clients from retrying in lockstep\n"
                        "- `cap` bounds the longest sleep"
                    ),
                ],
                [
                    user("Add type hints"),
                    reply(
                        "```python\nfrom collections.abc import Callable\nfrom typing import TypeVar\n\nT = TypeVar(\"T\")\n\n\n"
                        "def retry(fn: Callable[[], T], *, attempts: int = 5, base: float = 0.5, cap: float = 10.0) -> T:\n"
                        "    ...\n```"
                    ),
                ],
                [
                    result(c[15], "run_shell_command", {"exit_code": 0, "stdout": "orphan result from an older run"}),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=2, hours=5),
            title=(
                "Rename every .jpeg file in ~/Pictures/2025 to .jpg,\n"
                "keep the dates in the names, and tell me how many were renamed\n"
                "(there are some in sub-folders too, and a few with spaces in their names)"
            ),
            queries=[
                [
                    user(
                        "Rename every .jpeg file in ~/Pictures/2025 to .jpg,\n"
                        "keep the dates in the names, and tell me how many were renamed\n"
                        "(there are some in sub-folders too, and a few with spaces in their names)"
                    ),
                    calls(
                        (c[7], "run_shell_command", json.dumps({"command": "find ~/Pictures/2025 -name '*.jpeg' | wc -l"})),
                        (c[8], "run_shell_command", json.dumps({
                            "command": "find ~/Pictures/2025 -name '*.jpeg' -exec sh -c 'mv \"$1\" \"${1%.jpeg}.jpg\"' _ {} \\;"
                        })),
                    ),
                    result(c[7], "run_shell_command", {"exit_code": 0, "stdout": "347", "stderr": ""}),
                    result(c[8], "run_shell_command", {"exit_code": 0, "stdout": "", "stderr": ""}),
                    reply("Renamed **347** files, sub-folders and names with spaces included."),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=4, hours=1),
            queries=[
                [
                    user("What's the weather in Lisbon tomorrow?"),
                    calls((c[9], "get_weather", json.dumps({"city": "Lisbon", "days": 1}))),
                    result(c[9], "get_weather", {"city": "Lisbon", "forecast": [{"day": "2026-03-11", "high": 19, "low": 11, "condition": "partly cloudy"}]}),
                    reply("Tomorrow in Lisbon: **19°C / 11°C**, partly cloudy. No rain expected."),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=6, hours=7),
            queries=[
                [
                    user("git says 'detached HEAD'. How do I get back to my branch without losing commits?"),
                    calls((c[10], "run_shell_command", json.dumps({"command": "git log --oneline -5 && git branch"}))),
                    result(c[10], "run_shell_command", {"exit_code": 0, "stdout": "a1b2c3d fix parser\n9f8e7d6 add tests\n* (HEAD detached at 9f8e7d6)\n  main", "stderr": ""}),
                    reply(
                        "You have one commit (`a1b2c3d`) made while detached. Keep it on a branch, then switch:\n\n"
                        "```bash\ngit branch rescue a1b2c3d\ngit switch main\ngit merge rescue\n```"
                    ),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=9),
            queries=[
                [user("Explain what `set -euo pipefail` does"), reply(
                    "- `-e`: exit when a command fails\n- `-u`: treat unset variables as errors\n"
                    "- `-o pipefail`: a pipeline fails if *any* command in it fails, not just the last")],
            ],
        ),
        _Session(
            updated=timedelta(days=13, hours=2),
            queries=[
                [
                    user("Which process is listening on port 5432?"),
                    calls((c[11], "run_shell_command", json.dumps({"command": "ss -ltnp 'sport = :5432'"}))),
                    result(c[11], "run_shell_command", {"exit_code": 0, "stdout": "LISTEN 0 244 127.0.0.1:5432 0.0.0.0:* users:((\"postgres\",pid=1187,fd=7))", "stderr": ""}),
                    reply("`postgres` (pid **1187**) listens on `127.0.0.1:5432`."),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=18, hours=6),
            queries=[
                [user("Convert this curl to Python requests: curl -H 'Accept: application/json' https://api.example.com/items?page=2"),
                 reply("```python\nimport requests\n\nresponse = requests.get(\n    \"https://api.example.com/items\",\n"
                       "    params={\"page\": 2},\n    headers={\"Accept\": \"application/json\"},\n    timeout=10,\n)\n"
                       "response.raise_for_status()\nitems = response.json()\n```")],
            ],
        ),
        _Session(
            updated=timedelta(days=24),
            queries=[
                [
                    user("Make a backup of my dotfiles to ~/backup"),
                    calls((c[12], "run_shell_command", json.dumps({"command": "mkdir -p ~/backup && cp -a ~/.bashrc ~/.vimrc ~/.gitconfig ~/backup/"}))),
                    result(c[12], "run_shell_command", {"exit_code": 1, "stdout": "", "stderr": "cp: cannot stat '/home/ana/.vimrc': No such file or directory"}),
                    reply("`~/.vimrc` does not exist, so `cp` stopped with an error; the other two files **were** copied."),
                ],
            ],
        ),
        _Session(
            updated=timedelta(days=33, hours=4),
            queries=[
                [user("What's a good name for a CLI that browses chat history?"),
                 reply("A few ideas:\n\n1. **dasshh-history** — says what it is\n2. *scrollback*\n3. *chatlog*")],
            ],
        ),
        _Session(
            updated=timedelta(days=61, hours=8),
            queries=[
                [
                    user("How much memory is free?"),
                    calls((c[13], "run_shell_command", json.dumps({"command": "free -h"}))),
                    result(c[13], "run_shell_command", {"exit_code": 0, "stdout": "               total        used        free\nMem:            31Gi        12Gi        11Gi\nSwap:          2.0Gi          0B       2.0Gi", "stderr": ""}),
                    reply("**11 GiB** free of 31 GiB; swap is unused."),
                ],
            ],
        ),
    ]


def _rows(sessions: list[_Session], ids: _Ids, now: datetime) -> Iterator[tuple[tuple, list[tuple]]]:
    for spec in sessions:
        updated = now - spec.updated
        queries = spec.queries
        minutes_per_query = 3
        created = updated - timedelta(minutes=minutes_per_query * (len(queries) - 1) + 1)
        session_id = ids.uuid()
        last_user = next(
            (c["content"] for q in reversed(queries) for c in reversed(q) if c.get("role") == "user"), "New Session"
        )
        title = spec.title if spec.title is not None else last_user
        events = []
        for number, query in enumerate(queries):
            invocation_id = ids.uuid()
            at = created if spec.one_run else created + timedelta(minutes=minutes_per_query * number, seconds=7)
            for content in query:
                events.append((ids.uuid(), invocation_id, session_id, stored_time(at), stored_json(content)))
        yield (session_id, title, stored_time(created), stored_time(updated)), events


def _insert(path: Path, session_rows: list[tuple], event_rows: Iterator[tuple] | list[tuple]) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO sessions (id, detail, created_at, updated_at) VALUES (?, ?, ?, ?)", session_rows
            )
            conn.executemany(
                "INSERT INTO events (id, invocation_id, session_id, created_at, content) VALUES (?, ?, ?, ?, ?)",
                event_rows,
            )
    finally:
        conn.close()


def _create_schema(path: Path) -> None:
    if path.exists():
        raise FileExistsError(f"{path} exists: the generators only write new databases")
    if path.parent.exists():  # a history of made-up conversations is still only its owner's: 0600 (and its WAL)
        private_files.sqlite_file(path)
    DBClient(db_path=path).dispose()


def write_demo(path: Path, *, now: datetime | None = None, seed: int = 7) -> Path:
    """Write the demo history (12 sessions over two months before ``now``) to a new database."""
    now = now or utcnow()
    rng = random.Random(seed)
    ids = _Ids(rng)
    path = Path(path)
    _create_schema(path)
    session_rows: list[tuple] = []
    event_rows: list[tuple] = []
    for session_row, events in _rows(_demo_sessions(ids, rng), ids, now):
        session_rows.append(session_row)
        event_rows.extend(events)
    _insert(path, session_rows, event_rows)
    return path


_WORDS = (
    "deploy nginx postgres docker kubernetes backup rsync cron python rust disk memory port firewall ssh key "
    "certificate log error timeout retry cache git branch merge rebase test build release config yaml json "
    "parser socket thread queue worker schedule invoice report migrate index query latency"
).split()


def write_large_history(
    path: Path,
    *,
    sessions: int,
    events_per_session: int = 6,
    big_session_events: int = 0,
    big_result_bytes: int = 200_000,
    now: datetime | None = None,
    seed: int = 0,
) -> Path:
    """A big history for benchmarks: ``sessions`` small sessions over ~3 years, plus one huge session."""
    now = now or utcnow()
    rng = random.Random(seed)
    ids = _Ids(rng)
    path = Path(path)
    _create_schema(path)
    span = timedelta(days=3 * 365).total_seconds()
    session_rows: list[tuple] = []
    event_rows: list[tuple] = []
    for number in range(sessions):
        updated = now - timedelta(seconds=span * (number + 1) / (sessions + 1))
        created = updated - timedelta(minutes=2)
        session_id = ids.uuid()
        words = rng.sample(_WORDS, 4)
        question = f"How do I {words[0]} the {words[1]} {words[2]} on host-{number % 97} ({words[3]})?"
        invocation_id = ids.uuid()
        at = stored_time(created)
        call_id = ids.call()
        contents: list[object] = [
            user(question),
            calls((call_id, "run_shell_command", json.dumps({"command": f"{words[0]} --{words[1]} {number}"}))),
            result(call_id, "run_shell_command", {"exit_code": number % 3, "stdout": f"{words[2]} ok {number}"}),
            reply(f"Run `{words[0]} {words[1]}` then check **{words[2]}** ({number} items, see the {words[3]})."),
        ]
        while len(contents) < events_per_session:
            if len(contents) % 2 == 0:
                contents.append(user(f"Now the same for host-{rng.randrange(97)} with {' and '.join(rng.sample(_WORDS, 2))}"))
            else:
                contents.append(reply(f"Also check the {rng.choice(_WORDS)}."))
        contents = contents[:events_per_session]
        for content in contents:
            event_rows.append((ids.uuid(), invocation_id, session_id, at, stored_json(content)))
        title = next((c["content"] for c in reversed(contents) if c["role"] == "user"), question)  # type: ignore[index]
        session_rows.append((session_id, title, at, stored_time(updated)))
    if big_session_events:
        session_id = ids.uuid()
        created = now - timedelta(hours=6)
        big = _big_listing(rng, big_result_bytes)
        written = 0
        query = 0
        while written < big_session_events:
            invocation_id = ids.uuid()
            at = stored_time(created + timedelta(seconds=query * 5))
            call_id = ids.call()
            payload = big if query % 50 == 0 else {"exit_code": 0, "stdout": f"line {query}\n" * rng.randint(1, 30)}
            for content in (
                user(f"Step {query}: check the {rng.choice(_WORDS)} of the {rng.choice(_WORDS)}"),
                calls((call_id, "run_shell_command", json.dumps({"command": f"check --step {query}"}))),
                result(call_id, "run_shell_command", payload),
                reply(f"Step {query} looks fine: **{rng.choice(_WORDS)}** is healthy.\n\n- item one\n- item two"),
            ):
                if written < big_session_events:
                    event_rows.append((ids.uuid(), invocation_id, session_id, at, stored_json(content)))
                    written += 1
            query += 1
        session_rows.append((session_id, f"Large session: {big_session_events} events", stored_time(created), stored_time(now - timedelta(minutes=1))))
    _insert(path, session_rows, event_rows)
    return path
