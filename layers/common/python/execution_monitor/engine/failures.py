"""One-line, bounded error text for the execution record: never a stack trace, never a novel."""

from __future__ import annotations

import json

from pydantic import ValidationError

from execution_monitor.actions.failure import ActionFailed
from execution_monitor.engine.templates import UnresolvedReference

MAX_ERROR_CHARS = 500


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def describe(error: BaseException) -> str:
    """What went wrong in an action, said to the user who wrote it."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        location = ".".join(map(str, first["loc"]))
        return one_line(f"invalid params after resolving references: {location}: {first['msg']}")
    if isinstance(error, ActionFailed | UnresolvedReference):
        return one_line(str(error))
    return one_line(f"{type(error).__name__}: {error}")


def run_failure(error: str | None, cause: str | None) -> str:
    """Step Functions' Error/Cause as one line. A Lambda failure's Cause is the runtime's JSON error
    payload (with a stackTrace): keep only its type and message."""
    try:
        payload = json.loads(cause or "")
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "errorMessage" in payload:
        return one_line(f"{payload.get('errorType') or error or 'Error'}: {payload['errorMessage']}")
    return one_line(": ".join(part for part in (error, cause) if part))
