"""The execution stream's events (README "Live updates (SSE)"), read and applied without any I/O.

    retry: 3000                        how long to wait before reconnecting
    id: 7  event: snapshot             {"execution": {...}}: the whole execution, as GET returns it
    id: 8  event: update               the execution's fields without actionResults, plus
                                       "changedActionResults" (only the steps that changed)
    id: 9  event: end                  {"status", "version"}: finished; the server closes

An update is applied to the JSON of the execution the client holds: its top-level fields replace
the held ones (an update carries all of them), its changed steps replace the held steps with the
same actionId. Working on JSON keeps fields this client does not know yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from httpx_sse import ServerSentEvent

from execution_monitor_client.errors import UnexpectedResponse

SNAPSHOT = "snapshot"
UPDATE = "update"
END = "end"
CHANGED_STEPS = "changedActionResults"


@dataclass(frozen=True)
class StreamEvent:
    """One event of the stream. `retry` alone (no event name, no data) is the reconnection delay."""

    event: str
    id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    retry: int | None = None  # milliseconds

    @property
    def carries_data(self) -> bool:
        return bool(self.data)


def parse_event(sse: ServerSentEvent) -> StreamEvent:
    try:
        data = json.loads(sse.data) if sse.data else {}
    except json.JSONDecodeError as error:
        raise UnexpectedResponse(f"stream event '{sse.event}' is not JSON: {sse.data[:80]!r}") from error
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"stream event '{sse.event}' is not a JSON object")
    event_id = int(sse.id) if sse.id.isdigit() else None
    return StreamEvent(event=sse.event, id=event_id, data=data, retry=sse.retry)


def snapshot_execution(event: StreamEvent) -> dict[str, Any]:
    execution = event.data.get("execution")
    if not isinstance(execution, dict):
        raise UnexpectedResponse("a snapshot event without an execution")
    return execution


def apply_update(held: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The execution JSON after an update event (a new dict; `held` is not modified)."""
    changed = update.get(CHANGED_STEPS) or []
    steps = list(held.get("actionResults") or [])
    position = {step.get("actionId"): index for index, step in enumerate(steps)}
    for step in changed:
        index = position.get(step.get("actionId"))
        if index is None:
            position[step.get("actionId")] = len(steps)
            steps.append(step)
        else:
            steps[index] = step
    fields = {name: value for name, value in update.items() if name != CHANGED_STEPS}
    return {**fields, "actionResults": steps}
