"""The timeline's colours: one per kind of block, taken from the app theme and kept apart from each other.

Each kind has its theme variable (the user's messages ``primary``, replies
``success``, tool calls ``warning``, failures ``error``, system and raw rows
``foreground-muted``).  Results have no variable of their own that every
theme keeps distinct (``secondary`` is ``primary``'s shade on the built-in
themes, ``accent`` is ``warning`` on ``textual-dark``), so they take the
first candidate that stands apart from the other kinds' colours (CIE
Lab distance), else the farthest.  Every colour is
the theme's readable ``text-*`` variant where there is one, so that it keeps
its contrast on light and dark backgrounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

from textual.color import Color, rgb_to_lab

#: Candidates for results besides the theme's own: a cyan and a magenta, for dark and for light backgrounds.
#: CIE Lab distance at which two colours read as different kinds.
DISTINCT = 35.0
_RESULT_FALLBACKS = {True: ("#56B6C2", "#C678DD"), False: ("#0E7C86", "#A626A4")}


@dataclass(frozen=True, slots=True)
class BlockTheme:
    """Colours (``#rrggbb``) of the timeline's blocks."""

    user: str
    assistant: str
    tool: str
    result: str
    raw: str
    error: str
    accent: str
    muted: str
    dark: bool
    background: str = "#000000"

    @property
    def code_theme(self) -> str:
        return "monokai" if self.dark else "default"

    @property
    def system(self) -> str:
        return self.raw

    def tint(self, colour: str, amount: float = 0.16) -> str:
        """``colour`` faintly over the background: the selected block's background."""
        return _blend(self.background, colour, amount)


@lru_cache(maxsize=256)
def _blend(background: str, colour: str, amount: float) -> str:
    try:
        return Color.parse(background).blend(Color.parse(colour), amount).hex
    except Exception:
        return background


def _distance(a: Color, b: Color) -> float:
    la, lb = rgb_to_lab(a), rgb_to_lab(b)
    return ((la.L - lb.L) ** 2 + (la.a - lb.a) ** 2 + (la.b - lb.b) ** 2) ** 0.5


def block_theme(variables: Mapping[str, str], *, dark: bool, background: Color) -> BlockTheme:
    """The block colours for an app theme's variables, over ``background`` (the timeline's own)."""

    def colour(*names: str, fallback: str) -> Color:
        for name in names:
            value = variables.get(name)
            if value:
                try:
                    parsed = Color.parse(value)
                except Exception:
                    continue
                return background + parsed if parsed.a < 1 else parsed
        return Color.parse(fallback)

    user = colour("text-primary", "primary", fallback="blue")
    assistant = colour("text-success", "success", fallback="green")
    tool = colour("text-warning", "warning", fallback="yellow")
    error = colour("text-error", "error", fallback="red")
    others = (user, assistant, tool, error)
    candidates = [
        colour("text-secondary", "secondary", fallback="magenta"),
        colour("text-accent", "accent", fallback="cyan"),
        *(Color.parse(hexa) for hexa in _RESULT_FALLBACKS[dark]),
    ]
    def apart(candidate: Color) -> float:
        return min(_distance(candidate, other) for other in others)

    # The theme's own colour when it stands apart, else the candidate farthest from the others.
    result = next((c for c in candidates if apart(c) >= DISTINCT), max(candidates, key=apart))
    return BlockTheme(
        user=user.hex,
        assistant=assistant.hex,
        tool=tool.hex,
        result=result.hex,
        raw=colour("foreground-muted", fallback="grey").hex,
        error=error.hex,
        accent=colour("text-accent", "accent", fallback="cyan").hex,
        muted=colour("foreground-muted", fallback="grey").hex,
        dark=dark,
        background=background.hex,
    )
