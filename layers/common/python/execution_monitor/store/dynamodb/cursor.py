"""Opaque list cursors: a page's last key, base64url JSON, refused for another list or tenant."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from execution_monitor.errors import ValidationFailed
from execution_monitor.jsonvalues import dumps


def encode_cursor(last_key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in sorted(last_key.items())}
    return base64.urlsafe_b64encode(dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, *, index_pk_name: str, index_sk_name: str, index_pk: str, item_pk_prefix: str
) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for; refuses one made for another list or tenant."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as error:
        raise _bad_cursor() from error
    expected_names = {"pk", "sk", index_pk_name, index_sk_name}
    if (
        not isinstance(plain, dict)
        or set(plain) != expected_names
        or not all(isinstance(value, str) for value in plain.values())
        or plain[index_pk_name] != index_pk
        or not plain["pk"].startswith(item_pk_prefix)
    ):
        raise _bad_cursor()
    return {name: {"S": value} for name, value in plain.items()}


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor is not valid for this list",
        details=[{"loc": ["query", "cursor"], "msg": "use nextCursor from the previous page as given"}],
    )
