"""When a tool call failed, and why: the rules the timeline, the one-line view and search share.

A tool result is a failure when (the first rule that applies gives the reason):

1. it has a non-zero exit status (``exit_code``, ``return_code``,
   ``returncode``, ``exit_status``, ``exitcode``): ``failed · exit N``;
2. its ``success`` (or ``ok``) is ``false``: ``failed``;
3. it has a non-empty ``error`` (or ``errors``, ``exception``) value and no
   ``success: true``: ``error`` (dasshh's own replies to invalid or missing
   arguments, such as ``{"error": "Invalid arguments: …"}``, are of this kind);
4. it is a list whose every item is such an error object: ``error``;
5. its text (a string result, or text that is not JSON) starts like an error
   report: ``Error:``, ``error[E…]``, ``ERROR 1045``, ``Exception:``,
   ``fatal:``, ``panic:``, an exception name (``FileNotFoundError:``), or a
   Python traceback: ``error`` or ``traceback``.

An assistant reply that is exactly dasshh's fallback answer after a failed
query (:data:`DASSHH_ERROR_REPLY`) is an error too.
"""

from __future__ import annotations

import re

from dasshh_history.domain.readable import EXIT_KEYS, exit_status

#: What dasshh stores as the assistant's reply when a query fails (dasshh/core/runtime.py).
DASSHH_ERROR_REPLY = "Sorry, I'm having trouble with that. Please try again later."

_ERROR_KEYS = ("error", "errors", "exception")
_SUCCESS_KEYS = ("success", "ok")
_TRACEBACK = "Traceback (most recent call last)"
_ERROR_TEXT = re.compile(r"(?i:error|exception|fatal|panic)\s*[:\[(\d]|[A-Z]\w*(?:Error|Exception)\s*:")


def _has_value(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value not in (None, False, 0, [], {})


def _error_object(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    if any(value.get(key) is True for key in _SUCCESS_KEYS):
        return False
    return any(_has_value(value.get(key)) for key in _ERROR_KEYS)


def text_failure(text: str) -> str | None:
    """``traceback`` or ``error`` when a text starts like an error report, else None."""
    head = text.lstrip()[:200]
    if head.startswith(_TRACEBACK):
        return "traceback"
    if _ERROR_TEXT.match(head):
        return "error"
    return None


def result_failure(value: object, *, is_json: bool) -> str | None:
    """Why a tool result (decoded when ``is_json``, else its text) is a failure, or None when it is not."""
    if not is_json:
        return text_failure(value) if isinstance(value, str) else None
    status = exit_status(value)
    if status is not None and status != 0:
        return f"failed · exit {status}"
    if isinstance(value, dict):
        if any(value.get(key) is False for key in _SUCCESS_KEYS):
            return "failed"
        if status is None and _error_object(value):
            return "error"
        return None
    if isinstance(value, list):
        return "error" if value and all(_error_object(item) for item in value) else None
    if isinstance(value, str):
        return text_failure(value)
    return None


def reply_failure(text: str) -> str | None:
    """``error`` for dasshh's own fallback reply after a failed query."""
    return "error" if text.strip() == DASSHH_ERROR_REPLY else None


__all__ = ["DASSHH_ERROR_REPLY", "EXIT_KEYS", "reply_failure", "result_failure", "text_failure"]
