"""Resolves `{{input.a.b}}` and `{{steps.<actionId>.output.a.b}}` references in action params."""

from __future__ import annotations

import json
import re
from typing import Any

from execution_monitor.actions.definitions import REFERENCE


class UnresolvedReference(Exception):
    """A reference names something the execution does not have."""


def _lookup(path: str, context: dict[str, Any]) -> Any:
    parts = path.split(".")
    if parts[0] == "steps":
        if len(parts) < 3 or parts[2] != "output":
            raise UnresolvedReference(f"{{{{{path}}}}}: write steps.<actionId>.output[.path]")
        value: Any = context["steps"]
        parts = [parts[1], *parts[3:]]
        if parts[0] not in value:
            raise UnresolvedReference(
                f"{{{{{path}}}}}: step {parts[0]} has no output (not run before this one)"
            )
    elif parts[0] == "input":
        value, parts = context["input"], parts[1:]
    else:
        raise UnresolvedReference(f"{{{{{path}}}}}: references start with input. or steps.")
    for part in parts:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise UnresolvedReference(f"{{{{{path}}}}} does not exist")
    return value


def resolve(template: Any, context: dict[str, Any]) -> Any:
    """A whole-string reference keeps the value's type; embedded ones are interpolated as text."""
    if isinstance(template, dict):
        return {key: resolve(value, context) for key, value in template.items()}
    if isinstance(template, list):
        return [resolve(value, context) for value in template]
    if not isinstance(template, str) or "{{" not in template:
        return template
    whole = REFERENCE.fullmatch(template.strip())
    if whole:
        return _lookup(whole.group(1), context)

    def text(match: re.Match[str]) -> str:
        value = _lookup(match.group(1), context)
        return value if isinstance(value, str) else json.dumps(value)

    return REFERENCE.sub(text, template)
