"""Column types that read malformed stored values without failing.

dasshh writes ``content`` as JSON text and datetimes as naive ISO-like text.
A row written by a buggy or foreign writer may hold anything; these types make
such a value come back as a marker (:class:`BrokenValue`) or ``None`` instead of
raising and hiding every other row of the query.  Writing is unchanged, so the
stored bytes stay exactly what dasshh itself would write.

JSON nested deeper than :data:`~dasshh_history.domain.jsondepth.MAX_JSON_DEPTH`
is not decoded (on any Python version): it reads back as a :class:`BrokenValue`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator

from dasshh_history.domain.jsondepth import TooDeepError, loads
from dasshh_history.domain.values import BrokenValue

__all__ = ["BrokenValue", "TolerantDateTime", "TolerantJSON"]


def _decode_json(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return BrokenValue(raw=raw.decode("utf-8", "replace"), error=f"binary value ({len(raw)} bytes)")
    if not isinstance(value, str):
        # SQLite may hand back an int/float for a column with JSON affinity.
        return value
    try:
        return loads(value)
    except json.JSONDecodeError as exc:
        where = exc.msg.removesuffix(" at")
        return BrokenValue(raw=value, error=f"not valid JSON: {where.lower()} at character {exc.pos}")
    except TooDeepError as exc:
        return BrokenValue(raw=value, error=f"JSON {exc}")
    except ValueError as exc:
        return BrokenValue(raw=value, error=f"not valid JSON ({type(exc).__name__})")


class TolerantJSON(TypeDecorator[Any]):
    """``JSON`` (same DDL, same serialisation) whose reads never raise."""

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _decode_json


class TolerantDateTime(TypeDecorator[datetime]):
    """``DATETIME`` whose unparseable values read back as ``None``."""

    impl = DateTime
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        inner = self.impl_instance.result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None or isinstance(value, datetime):
                return value
            try:
                return inner(value) if inner else value
            except (ValueError, TypeError):
                return None

        return process
