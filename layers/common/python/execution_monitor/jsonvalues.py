"""JSON values users send and actions return: strict parsing, documented limits, safe storage.

Limits (README "Limits"): a JSON document nests at most MAX_DEPTH levels (DynamoDB's own limit
for documents); integers have at most MAX_INTEGER_DIGITS digits; NaN, Infinity and numbers beyond
a double's range are refused rather than silently stored as null. A value that breaks a limit is
refused at the edge (422) and, when an action produced it, stored in a capped form instead, so no
stored record can ever break a read.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 4300  # Python's own int conversion limit: longer ones could not be read back
PREVIEW_CHARS = 2048


class JsonRefused(ValueError):
    """Valid JSON syntax whose value breaks a documented limit (a 422, not a 400)."""


def _refuse_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number; send a finite number or a string")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise JsonRefused(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def depth(value: Any) -> int:
    """How many levels of objects/arrays `value` nests (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest


def loads(text: str | bytes) -> Any:
    """Parses strictly: JSONDecodeError for bad syntax, JsonRefused for a value beyond the limits."""
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
        )
    except RecursionError as error:
        raise JsonRefused(f"the document nests more than {MAX_DEPTH} levels") from error
    if depth(value) > MAX_DEPTH:
        raise JsonRefused(f"the document nests more than {MAX_DEPTH} levels")
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def capped(text: str) -> dict[str, Any]:
    """What is stored (and shown) in place of a value too large or too deep to keep."""
    return {"truncated": True, "preview": text[:PREVIEW_CHARS]}


def to_stored(value: Any, max_bytes: int) -> str:
    """`value` as stored JSON text: itself when within the limits, else its capped form."""
    if depth(value) > MAX_DEPTH:
        return dumps(capped(f"the value nests more than {MAX_DEPTH} levels"))
    text = dumps(value)
    return text if len(text.encode()) <= max_bytes else dumps(capped(text))


def from_stored(text: str | None, default: Any = None) -> Any:
    """A stored JSON value; one that cannot be read back within the limits reads as its capped form."""
    if text is None:
        return default
    try:
        return loads(text)
    except ValueError:
        return capped(text)
