"""The stats of a history: the figures as the cache's stats tables hold them, and what the screen and ``stats`` show.

Times are milliseconds since 1970 (UTC); the weekday × hour grid and the days
and weeks of the activity chart are local ones (``tz``; None: the system's
zone): the cache counts messages per quarter hour of UTC, which lies within
one local hour whatever the zone (offsets are whole quarter hours), and the
read adds them up per local hour with the zone's offsets over the history's
span (:meth:`LocalClock.intervals`).

What counts: a *message* is an event whose role is ``user`` or ``assistant``;
a *tool call* is a call the timeline shows (``?`` for one without a name); a
tool's failures are its results that the timeline shows as failed
(:func:`~dasshh_history.domain.failure.result_failure`), and its failure rate
is failed results over results.  Orphan events (their session is gone) count
in none of the figures, only in ``orphans``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from dasshh_history.domain.failure import result_failure
from dasshh_history.domain.jsondepth import loads
from dasshh_history.domain.text import to_local

#: Times a zone's offset is looked up, at most, over a history's span (a day apart over 54 years).
PROBES = 20_000
#: Activity is drawn per day up to this many days, per week beyond.
DAILY_UP_TO = 62
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EPOCH = date(1970, 1, 1)


def body_failed(kind: object, body: object) -> bool:
    """Whether a tool result shows as failed in the timeline, given its ``content`` as SQLite's ``json_type``
    and ``json_extract`` read it (a string as text, an object or array as JSON text); never raises.

    The same reading as the timeline's :class:`~dasshh_history.domain.entries.ToolResult` (its ``value``):
    text holding a JSON object or array is that value, other text a JSON scalar when it reads as one.
    """
    try:
        if kind in ("object", "array") and isinstance(body, str):
            return result_failure(loads(body), is_json=True) is not None
        if kind != "text" or not isinstance(body, str):
            return False  # numbers, booleans, null: never a failure
        try:
            value = loads(body)  # an object, an array, or a scalar (whose text starts as the timeline checks)
        except ValueError:
            return result_failure(body, is_json=False) is not None
        return result_failure(value, is_json=True) is not None
    except Exception:  # noqa: BLE001  # as the timeline: a result it cannot read is shown as it is, not failed
        return False


def value_failed(value: object) -> bool:
    """Whether a tool result shows as failed in the timeline, given its ``content`` as SQLite's ``->>`` reads it
    (a string as text, an object or array as JSON text, a number as a number); never raises.

    The same as :func:`body_failed`: text is read as the JSON it holds, if any, whether it was a string or not.
    """
    return isinstance(value, str) and body_failed("text", value)


@dataclass(frozen=True, slots=True)
class StatsRows:
    """The figures as the cache's stats tables give them (times in ms since 1970, UTC; slots in quarter hours)."""

    sessions: int = 0
    events: int = 0
    messages: int = 0
    calls: int = 0
    results: int = 0
    failed: int = 0
    first: int | None = None
    last: int | None = None
    orphans: int = 0
    session_days: list[tuple[int, int]] = field(default_factory=list)  # (local day a session started, sessions)
    message_days: list[tuple[int, int]] = field(default_factory=list)  # (local day, messages); days since 1970
    grid: list[tuple[int, int, int]] = field(default_factory=list)  # (weekday from Monday, local hour, messages)
    tools: list[tuple[str, int, int, int]] = field(default_factory=list)  # (name, calls, results, failed)
    outputs: list[tuple] = field(default_factory=list)  # (event rowid, tool, bytes, ms, session id, title)
    largest: list[tuple] = field(default_factory=list)  # (session id, title, events, bytes, first ms, last ms)
    longest: list[tuple] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ToolFigure:
    name: str
    calls: int
    results: int
    failed: int

    @property
    def failure_rate(self) -> float | None:
        """Failed results over results; None without results."""
        return self.failed / self.results if self.results else None


@dataclass(frozen=True, slots=True)
class SessionFigure:
    id: str
    title: str
    events: int
    bytes: int
    first: datetime | None  # naive UTC, as stored
    last: datetime | None

    @property
    def span(self) -> timedelta | None:
        return self.last - self.first if self.first is not None and self.last is not None else None


@dataclass(frozen=True, slots=True)
class OutputFigure:
    tool: str
    bytes: int
    when: datetime | None
    session_id: str
    title: str


@dataclass(frozen=True, slots=True)
class Activity:
    """Sessions started and messages written per local day (``unit`` "day") or week (from Monday)."""

    unit: str
    starts: list[date]
    sessions: list[int]
    messages: list[int]


@dataclass(frozen=True, slots=True)
class Stats:
    """Every figure of the stats screen and the ``stats`` command."""

    sessions: int
    events: int
    messages: int
    calls: int
    results: int
    failed: int
    first: datetime | None  # naive UTC
    last: datetime | None
    orphans: int
    activity: Activity
    grid: list[list[int]]  # messages per local weekday (Monday first) and hour
    tools: list[ToolFigure]
    outputs: list[OutputFigure]
    largest: list[SessionFigure]
    longest: list[SessionFigure]
    db_bytes: int | None = None
    cache_bytes: int | None = None
    query: str | None = None  # the search whose results these are; None: the whole history

    @property
    def failure_rate(self) -> float | None:
        return self.failed / self.results if self.results else None

    @property
    def sizes(self) -> str:
        """The files on disk: ``database 4.2 MB   search cache 7.3 MB`` (before the search index is first
        built, at the first search or in the background, that it is not there yet)."""
        cache = "no search cache yet" if self.cache_bytes is None else f"search cache {human_bytes(self.cache_bytes)}"
        return f"database {human_bytes(self.db_bytes)}   {cache}"


class LocalClock:
    """A zone's offsets from UTC (``tz``; None: the system's), each looked up once per UTC hour."""

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}

    def offset(self, seconds: int) -> int:
        """The zone's offset from UTC in seconds at ``seconds`` since 1970."""
        hour = seconds // 3600
        known = self._offsets.get(hour)
        if known is None:
            at = hour * 3600
            try:
                if self.tz is None:
                    known = time.localtime(at).tm_gmtoff
                else:
                    delta = datetime.fromtimestamp(at, UTC).astimezone(self.tz).utcoffset()
                    known = int(delta.total_seconds()) if delta is not None else 0
            except (OverflowError, OSError, ValueError):
                known = 0
            self._offsets[hour] = known
        return known

    def intervals(self, low: int | None, high: int | None) -> list[tuple[int, int]]:
        """The zone's offsets from ``low`` to ``high`` (ms since 1970): ``(from ms, offset in seconds)``, the first
        from the beginning of time.  Looked up a day apart (at most :data:`PROBES` times; over a longer span,
        only dates that are not real, a change of offset may be missed) and each change found to the hour."""
        if low is None or high is None:
            return [(0, self.offset(0))]
        low_s, high_s = low // 1000, high // 1000
        step = max(86400, (high_s - low_s) // PROBES)
        step -= step % 3600
        found = [(0, self.offset(low_s))]
        at = low_s - low_s % 3600
        while at < high_s:
            following = at + step
            offset = self.offset(following)
            if offset != found[-1][1]:
                before, after = at, following  # the change is in (before, after]: halve it down to an hour
                while after - before > 3600:
                    middle = before + (after - before) // 2
                    middle -= middle % 3600
                    if middle <= before:
                        break
                    if self.offset(middle) == found[-1][1]:
                        before = middle
                    else:
                        after = middle
                found.append((after * 1000, offset))
            at = following
        return found


def _utc(ms: object) -> datetime | None:
    if not isinstance(ms, int):
        return None
    try:
        return datetime(1970, 1, 1) + timedelta(milliseconds=ms)
    except OverflowError:
        return None


def _title(value: object) -> str:
    if value is None:
        return "(untitled)"
    return value if isinstance(value, str) else str(value)


def _session(row: tuple) -> SessionFigure:
    session_id, title, events, size, first, last = row
    return SessionFigure(str(session_id), _title(title), events, size, _utc(first), _utc(last))


def build_stats(rows: StatsRows, *, db_bytes: int | None = None, cache_bytes: int | None = None,
                query: str | None = None) -> Stats:
    """The figures to show, from the rows of the cache (read in the zone that the screen shows times in)."""
    grid = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in rows.grid:
        grid[weekday][hour] += count
    day_messages = dict(rows.message_days)
    day_sessions = dict(rows.session_days)
    return Stats(
        sessions=rows.sessions, events=rows.events, messages=rows.messages, calls=rows.calls, results=rows.results,
        failed=rows.failed, first=_utc(rows.first), last=_utc(rows.last), orphans=rows.orphans,
        activity=activity(day_sessions, day_messages), grid=grid,
        tools=[ToolFigure(str(name), calls, results, failed) for name, calls, results, failed in rows.tools],
        outputs=[OutputFigure(_title(tool) if tool is not None else "?", size, _utc(ms), str(session_id), _title(title))
                 for _event, tool, size, ms, session_id, title in rows.outputs],
        largest=[_session(row) for row in rows.largest], longest=[_session(row) for row in rows.longest],
        db_bytes=db_bytes, cache_bytes=cache_bytes, query=query,
    )


def activity(day_sessions: dict[int, int], day_messages: dict[int, int]) -> Activity:
    """Per day from the first active day to the last when they are at most :data:`DAILY_UP_TO` days apart,
    else per week (Monday to Sunday); days are numbered from 1970-01-01 (local)."""
    days = day_sessions.keys() | day_messages.keys()
    if not days:
        return Activity("day", [], [], [])
    low, high = min(days), max(days)
    if high - low < DAILY_UP_TO:
        span = range(low, high + 1)
        return Activity("day", [_EPOCH + timedelta(days=day) for day in span],
                        [day_sessions.get(day, 0) for day in span], [day_messages.get(day, 0) for day in span])
    monday = low - (low + 3) % 7
    weeks = (high - monday) // 7 + 1
    sessions, messages = [0] * weeks, [0] * weeks
    for day, count in day_sessions.items():
        sessions[(day - monday) // 7] += count
    for day, count in day_messages.items():
        messages[(day - monday) // 7] += count
    return Activity("week", [_EPOCH + timedelta(days=monday + 7 * week) for week in range(weeks)], sessions, messages)


def human_bytes(size: int | None) -> str:
    """``812 B``, ``4.2 KB``, ``1.3 MB`` (powers of 1024)."""
    if size is None:
        return "–"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def human_span(span: timedelta | None) -> str:
    """``45s``, ``12m``, ``3h 05m``, ``2d 4h``."""
    if span is None:
        return "–"
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") + "Z" if dt is not None else None


def stats_record(stats: Stats) -> dict:
    """The figures as JSON for scripts (times in UTC, sizes in bytes)."""
    return {
        "query": stats.query,
        "totals": {"sessions": stats.sessions, "events": stats.events, "messages": stats.messages,
                   "tool_calls": stats.calls, "tool_results": stats.results, "failed_results": stats.failed,
                   "first": _iso(stats.first), "last": _iso(stats.last), "orphan_events": stats.orphans},
        "sizes": {"database_bytes": stats.db_bytes, "cache_bytes": stats.cache_bytes},
        "activity": {"unit": stats.activity.unit, "periods": [
            {"start": start.isoformat(), "sessions": sessions, "messages": messages}
            for start, sessions, messages in zip(stats.activity.starts, stats.activity.sessions,
                                                 stats.activity.messages, strict=True)]},
        "weekday_hour_messages": {day: row for day, row in zip(WEEKDAYS, stats.grid, strict=True)},
        "tools": [{"name": tool.name, "calls": tool.calls, "results": tool.results, "failed": tool.failed,
                   "failure_rate": tool.failure_rate} for tool in stats.tools],
        "largest_outputs": [{"tool": out.tool, "bytes": out.bytes, "at": _iso(out.when), "session_id": out.session_id,
                             "title": out.title} for out in stats.outputs],
        "largest_sessions": [_session_record(s) for s in stats.largest],
        "longest_sessions": [_session_record(s) for s in stats.longest],
    }


def _session_record(session: SessionFigure) -> dict:
    span = session.span
    return {"id": session.id, "title": session.title, "events": session.events, "bytes": session.bytes,
            "first": _iso(session.first), "last": _iso(session.last),
            "seconds": int(span.total_seconds()) if span is not None else None}


def local_text(dt: datetime | None, tz: tzinfo | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored naive-UTC time in ``tz`` (None: the system's zone), as ``fmt``; "–" for none."""
    return "–" if dt is None else to_local(dt, tz).strftime(fmt)


def rate_text(rate: float | None) -> str:
    """A failure rate as a percentage; "–" when there was nothing to fail."""
    return "–" if rate is None else f"{rate:.0%}"


def text_lines(stats: Stats, tz: tzinfo | None) -> list[str]:
    """The figures as plain text lines, for a terminal (times local)."""
    scope = f"sessions matching {stats.query!r}" if stats.query else "the whole history"
    lines = [
        f"Stats of {scope}",
        (f"  sessions {stats.sessions:,}   messages {stats.messages:,}   events {stats.events:,}   "
         f"tool calls {stats.calls:,}   failed results {stats.failed:,} of {stats.results:,} "
         f"({rate_text(stats.failure_rate)})"),
        (f"  first {local_text(stats.first, tz)}   last {local_text(stats.last, tz)}   "
         f"{stats.sizes}"
         + (f"   orphan events (not counted) {stats.orphans:,}" if stats.orphans else "")),
        "",
        f"Activity per {stats.activity.unit} (sessions / messages)",
    ]
    for start, sessions, messages in zip(stats.activity.starts, stats.activity.sessions, stats.activity.messages,
                                         strict=True):
        if sessions or messages:
            lines.append(f"  {start.isoformat()}  {sessions:>6,}  {messages:>8,}")
    lines += ["", "Messages by weekday and hour (local)", "     " + "".join(f"{hour:>5}" for hour in range(24))]
    for day, row in zip(WEEKDAYS, stats.grid, strict=True):
        lines.append(f"  {day}" + "".join(f"{count:>5}" for count in row))
    lines += ["", "Tools (calls, failed results of results, failure rate)"]
    lines += [f"  {tool.name[:40]:<40} {tool.calls:>8,} {tool.failed:>7,} of {tool.results:<7,} {rate_text(tool.failure_rate):>5}"
              for tool in stats.tools]
    lines += ["", "Largest tool outputs"]
    lines += [f"  {human_bytes(out.bytes):>9}  {out.tool[:24]:<24}  {local_text(out.when, tz)}  {out.session_id[:8]}  "
              f"{out.title[:40]}" for out in stats.outputs]
    lines += ["", "Largest sessions (events)"]
    lines += [f"  {s.events:>7,}  {human_bytes(s.bytes):>9}  {s.id[:8]}  {s.title[:50]}" for s in stats.largest]
    lines += ["", "Longest sessions (first to last event)"]
    lines += [f"  {human_span(s.span):>8}  {local_text(s.first, tz)}  {s.id[:8]}  {s.title[:50]}" for s in stats.longest]
    return lines
