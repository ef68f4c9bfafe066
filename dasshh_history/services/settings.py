"""The settings kept between runs: theme, list order, conversation view, trash expiry, in a small TOML file.

``$XDG_CONFIG_HOME/dasshh-history/config.toml`` (``~/.config`` when unset), or
the file given with ``--config``.  Read with :mod:`tomllib`; written by the
few lines below (flat keys only, so no TOML library is needed), atomically: a
temporary file in the same folder renamed over the old one, the folder made
0700 and the file 0600 whatever the umask.  A broken file, an unknown key or
a bad value is a warning and the default for what is bad, never an error; a
file that could not be read is never written over (its content would be lost).
No Textual here: the app shows the warnings, the command line prints them.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dasshh_history.data.trash_store import TRASH_DAYS
from dasshh_history.domain.order import DEFAULT_ORDER, ListOrder

__all__ = ["DEFAULT_THEME", "Settings", "SettingsStore", "default_config_path"]

#: Textual's default theme, the app's when none is saved.
DEFAULT_THEME = "textual-dark"
#: ``sort`` in the file: the list's orders by a short name.
SORT_NAMES = {ListOrder.UPDATED: "updated", ListOrder.ACTIVITY: "activity", ListOrder.CREATED: "created",
              ListOrder.SIZE: "size"}


@dataclass(frozen=True)
class Settings:
    """What is kept: each field is a key of the file."""

    theme: str = DEFAULT_THEME
    sort: ListOrder = DEFAULT_ORDER
    conversation_view: bool = False
    #: Days a deleted session stays in the trash before it is removed at a start.
    trash_days: int = TRASH_DAYS


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/dasshh-history/config.toml``; ``~/.config`` when it is unset or not absolute (XDG's rule)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "dasshh-history" / "config.toml"


def _parse(data: dict[str, object], where: Path) -> tuple[Settings, list[str]]:
    values: dict[str, object] = {}
    warnings: list[str] = []
    for key, value in data.items():
        if key == "theme" and isinstance(value, str) and value.strip():
            values["theme"] = value
        elif key == "sort" and value in SORT_NAMES.values():
            values["sort"] = next(order for order, name in SORT_NAMES.items() if name == value)
        elif key == "conversation_view" and isinstance(value, bool):
            values["conversation_view"] = value
        elif key == "trash_days" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            values["trash_days"] = value
        elif key in Settings.__dataclass_fields__:
            warnings.append(f"{where}: {key} = {value!r} is not valid ({_expected(key)}); using the default")
        else:
            warnings.append(f"{where}: unknown setting {key!r} ignored")
    return Settings(**values), warnings  # type: ignore[arg-type]


def _expected(key: str) -> str:
    return {
        "theme": "a theme's name",
        "sort": "one of " + ", ".join(SORT_NAMES.values()),
        "conversation_view": "true or false",
        "trash_days": "a whole number of days >= 0",
    }[key]


def _toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def to_toml(settings: Settings) -> str:
    """The file's text: one ``key = value`` line per setting."""
    lines = ["# dasshh-history settings (written by the app; see its README, \"Settings\")"]
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if isinstance(value, ListOrder):
            text = _toml_string(SORT_NAMES[value])
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = _toml_string(str(value))
        lines.append(f"{field.name} = {text}")
    return "\n".join(lines) + "\n"


class SettingsStore:
    """One settings file: :meth:`load` reads it (defaults and warnings when it is bad), :meth:`save` writes it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_config_path()
        self._unreadable = False  # the file exists but could not be read as settings: never written over

    def load(self) -> tuple[Settings, list[str]]:
        """The settings (defaults where missing or bad) and a warning for each thing that was bad."""
        self._unreadable = False
        try:
            text = self.path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            return Settings(), []
        except (OSError, UnicodeDecodeError) as exc:
            self._unreadable = True
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            return Settings(), [f"{self.path}: cannot be read ({reason}); using the default settings"]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self._unreadable = True
            return Settings(), [f"{self.path}: not valid TOML ({exc}); using the default settings"]
        return _parse(data, self.path)

    @property
    def writable(self) -> bool:
        """False when the file exists but could not be read: saving would lose what it holds."""
        return not self._unreadable

    def save(self, settings: Settings) -> None:
        """Write ``settings`` atomically (folder 0700 when made here, file 0600); raises ``OSError``.

        Refuses (``PermissionError``) to replace a file that :meth:`load` could not read.
        """
        if self._unreadable:
            raise PermissionError(f"{self.path} could not be read at the start; it is kept as it is")
        folder = self.path.parent
        if not folder.is_dir():
            folder.mkdir(parents=True, mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is cut by the umask
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(to_toml(settings))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
