"""The action types: one module each. The definition union and the performer registry live here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from execution_monitor.actions import http_request, send_message
from execution_monitor.actions.delay import DelayAction
from execution_monitor.actions.http_request import ActionFailed, HttpRequestAction
from execution_monitor.actions.send_message import SendMessageAction

ActionDefinition = Annotated[
    SendMessageAction | HttpRequestAction | DelayAction,
    Field(discriminator="type"),
]

# Types performed by run_action. `delay` is absent on purpose: it is a Wait state.
PERFORMERS: dict[str, Callable[[Any, float], dict[str, Any]]] = {
    "send_message": send_message.perform,
    "http_request": http_request.perform,
}

__all__ = ["PERFORMERS", "ActionDefinition", "ActionFailed"]
