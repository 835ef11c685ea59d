"""Action types: definitions in `definitions` (cheap), performers one module per type (imported only
when an action of that type runs, so API functions never load HTTP or messaging machinery)."""

from __future__ import annotations

import importlib
from typing import Any

from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.actions.failure import ActionFailed

# Types performed by run_action. `delay` is absent on purpose: it is a Wait state.
PERFORMED_TYPES = frozenset({"send_message", "http_request"})


def perform(action: ActionDefinition, params: Any, timeout_seconds: float) -> dict[str, Any]:
    """Runs `action` with its resolved `params` (a model of the action's params type)."""
    if action.type not in PERFORMED_TYPES:
        raise ValueError(f"{action.type} actions are not performed by run_action")
    module = importlib.import_module(f"execution_monitor.actions.{action.type}")
    output: dict[str, Any] = module.perform(params, timeout_seconds)
    return output


__all__ = ["PERFORMED_TYPES", "ActionDefinition", "ActionFailed", "perform"]
