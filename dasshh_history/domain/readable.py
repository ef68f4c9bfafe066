"""Tool arguments and results as a reader sees them: text with real lines, or a tree of labelled values.

dasshh stores a tool's answer as ``json.dumps(result, indent=2)``: a string
result is a quoted JSON string with ``\\n`` escapes, and a shell command's
output sits in ``stdout``/``stderr`` strings.  :func:`readable_lines` turns
such a value into lines: a string into its own lines (tabs expanded), an
object or array into a tree (keys as labels, scalars inline, multi-line
strings as indented blocks, nesting indented).  The stored JSON itself is
kept by the entry and shown by the raw view and the JSON export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from dasshh_history.domain.text import sanitize

#: Nesting drawn as a tree; anything deeper is drawn as compact JSON on one line.
TREE_DEPTH = 12
#: The most characters of a scalar drawn on one line (the raw view and exports hold everything).
SCALAR_CHARS = 2_000
#: Keys whose integer value is a process's exit status.
EXIT_KEYS = ("exit_code", "return_code", "returncode", "exit_status", "exitcode")
#: Keys holding a command's output streams, in the order they are counted.
OUTPUT_KEYS = ("stdout", "stderr", "output")

Kind = Literal["text", "string", "number", "bool", "null", "empty", "label"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the readable form.

    ``depth`` is the indentation level; ``label`` a key (``None`` for text
    lines); ``bullet`` counts the list items that this line starts; ``kind`` says how
    ``text`` is drawn: a line of a text block, a scalar of that JSON type, an
    empty value, or nothing after a label that opens a nested block.
    """

    depth: int
    label: str | None
    text: str
    kind: Kind
    bullet: int = 0

    @property
    def plain(self) -> str:
        """The line as plain text, indented with spaces."""
        indent = "  " * self.depth
        if self.bullet:
            indent = indent[: -2 * self.bullet] + "- " * self.bullet
        label = f"{self.label}: " if self.label is not None else ""
        return f"{indent}{label}{self.text}".rstrip()


def text_lines(text: str, depth: int = 0) -> list[Line]:
    """A text as lines, tabs expanded to the terminal's stops and control characters removed."""
    if "\t" in text:
        text = "\n".join(line.expandtabs(8) for line in text.split("\n"))
    text = sanitize(text)
    if text.endswith("\n"):
        text = text[:-1]  # the last line's newline ends it; it does not start another
    return [Line(depth, None, line, "text") for line in text.split("\n")]


def readable_lines(value: object) -> list[Line]:
    """The readable form of a decoded JSON value (a string is shown as its text)."""
    if isinstance(value, str):
        return text_lines(value) if value else [Line(0, None, "(empty)", "empty")]
    if isinstance(value, dict | list):
        if not value:
            return [Line(0, None, "(empty)", "empty")]
        lines: list[Line] = []
        _tree(value, 0, lines)
        return lines
    text, kind = _scalar(value)
    return [Line(0, None, text, kind)]


def plain_text(lines: list[Line]) -> str:
    """The readable form as plain text (what is copied)."""
    return "\n".join(line.plain for line in lines)


def _scalar(value: object) -> tuple[str, Kind]:
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int | float):
        return str(value), "number"
    if isinstance(value, str):
        text = sanitize(value.rstrip("\n"))  # a one-line output ends with a newline: it starts no other line
        return (text[:SCALAR_CHARS] + "…" if len(text) > SCALAR_CHARS else text), "string"
    return _compact(value), "string"


def _compact(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, TypeError, RecursionError):
        text = f"<{type(value).__name__}>"
    text = sanitize(text)
    return text[:SCALAR_CHARS] + "…" if len(text) > SCALAR_CHARS else text


def _tree(value: dict | list, depth: int, lines: list[Line]) -> None:
    items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
    for key, item in items:
        label = sanitize(str(key)) if key is not None else None
        start = len(lines)
        _item(label, item, depth, lines, in_list=key is None)
        if key is None and len(lines) > start:  # a list item: its first line carries the bullet
            first = lines[start]
            lines[start] = Line(first.depth, first.label, first.text, first.kind, bullet=first.bullet + 1)


def _item(label: str | None, item: object, depth: int, lines: list[Line], *, in_list: bool) -> None:
    inner = depth + 1
    if isinstance(item, str) and ("\n" in item.rstrip("\n") or len(item) > SCALAR_CHARS):
        lines.append(Line(inner if in_list else depth, label, "", "label"))
        lines.extend(text_lines(item, inner if not in_list else inner + 1))
    elif isinstance(item, str) and not item:
        lines.append(Line(inner if in_list else depth, label, "(empty)", "empty"))
    elif isinstance(item, dict | list) and item and inner <= TREE_DEPTH:
        if in_list:
            _tree(item, inner, lines)  # the item's first line gets the bullet
            return
        lines.append(Line(depth, label, "", "label"))
        _tree(item, inner, lines)
    elif isinstance(item, dict | list) and not item:
        lines.append(Line(inner if in_list else depth, label, "{}" if isinstance(item, dict) else "[]", "empty"))
    else:
        text, kind = _scalar(item)
        lines.append(Line(inner if in_list else depth, label, text, kind))


# -- what a result says, in one line -------------------------------------------------------


def exit_status(value: object) -> int | None:
    """The exit status of a command result (``exit_code``, ``return_code``…), if it has one."""
    if isinstance(value, dict):
        for key in EXIT_KEYS:
            status = value.get(key)
            if isinstance(status, int) and not isinstance(status, bool):
                return status
    return None


def _count_lines(text: str) -> int:
    text = text.rstrip("\n")
    return text.count("\n") + 1 if text else 0


def output_lines(value: object) -> int:
    """How many lines a result's output holds: its text, or its ``stdout``/``stderr``/``output``."""
    if isinstance(value, str):
        return _count_lines(value)
    if isinstance(value, dict) and any(isinstance(value.get(key), str | list) for key in OUTPUT_KEYS):
        return sum(_stream_lines(value.get(key)) for key in OUTPUT_KEYS)
    return len(readable_lines(value))


def _stream_lines(stream: object) -> int:
    if isinstance(stream, str):
        return _count_lines(stream)
    return len(stream) if isinstance(stream, list) else 0


def lines_label(count: int) -> str:
    return "no output" if count == 0 else f"{count:,} line{'' if count == 1 else 's'}"


def summary(value: object) -> str:
    """A one-line summary: ``exit 0 · 12 lines``, ``42 lines``, ``3 items``, ``no output``."""
    status = exit_status(value)
    if status is not None:
        return f"exit {status} · {lines_label(output_lines(value))}"
    if isinstance(value, list):
        return f"{len(value):,} item{'' if len(value) == 1 else 's'}" if value else "no output"
    return lines_label(output_lines(value))


def first_line(value: object, limit: int = 200) -> str:
    """The first non-blank line of what a result says (for the one-line conversation view).

    For a command's result that is its output (its error output first when it
    failed); for an error object its error; else the readable form's.
    """
    if isinstance(value, dict):
        status = exit_status(value)
        keys = ("stderr", "error", "stdout", "output") if status else ("stdout", "output", "stderr", "error")
        for key in keys:
            stream = value.get(key)
            if isinstance(stream, list):
                stream = "\n".join(str(item) for item in stream[:20])
            if isinstance(stream, str) and stream.strip():
                return first_line(stream, limit)
    for line in readable_lines(value):
        plain = line.plain.strip()
        if plain and line.kind != "label":
            return plain[:limit]
    return ""


# -- what a call asks, in one line ---------------------------------------------------------

#: Argument keys holding a shell command line.
SHELL_KEYS = ("command", "cmd", "script")


def shell_command(arguments: object) -> str | None:
    """The shell command a call runs (a ``command`` argument), if it has one."""
    if isinstance(arguments, dict):
        for key in SHELL_KEYS:
            if isinstance(arguments.get(key), str):
                return arguments[key]
    return None


def call_preview(arguments: object, limit: int = 200) -> str:
    """A call's arguments on one line: its shell command, else its scalar values."""
    command = shell_command(arguments)
    if command is not None:
        values = [command]
    elif isinstance(arguments, dict):
        values = [_scalar(value)[0] for value in arguments.values() if not isinstance(value, dict | list)]
        values = values or (["…"] if arguments else [])
    else:
        values = [] if arguments is None else [_compact(arguments)]
    return "  ".join(" ".join(sanitize(value[: limit * 4]).split()) for value in values)[:limit]
