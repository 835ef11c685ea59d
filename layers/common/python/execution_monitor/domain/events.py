"""What servers are told: each transition to completed, failed or cancelled, each step failure and
each stall is one event, whose id is derived from the change itself, so a replayed or duplicated
stream record names the same event again (and finds it already recorded)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.domain.status import ExecutionStatus, StepStatus

SOURCE = "workflow-execution-monitor"


class EventKind(StrEnum):
    EXECUTION_COMPLETED = "execution.completed"
    EXECUTION_FAILED = "execution.failed"
    EXECUTION_CANCELLED = "execution.cancelled"
    STEP_FAILED = "step.failed"
    EXECUTION_STALLED = "execution.stalled"

    @property
    def detail_type(self) -> str:
        """EventBridge's detail-type: "Execution Completed", "Step Failed", …"""
        return " ".join(word.capitalize() for word in self.value.split("."))


_ENDED = {
    ExecutionStatus.COMPLETED: EventKind.EXECUTION_COMPLETED,
    ExecutionStatus.FAILED: EventKind.EXECUTION_FAILED,
    ExecutionStatus.CANCELLED: EventKind.EXECUTION_CANCELLED,
}


@dataclass(frozen=True, slots=True)
class EventRef:
    """One event, before its detail is gathered: what happened, to which execution, and when."""

    id: str
    kind: EventKind
    workspace_id: str
    workflow_id: str
    execution_id: str
    occurred_at: str
    action_id: str | None = None  # the step that failed or stalled


def _event_id(*parts: object) -> str:
    natural_key = "#".join(str(part) for part in parts)
    return "evt_" + hashlib.sha256(natural_key.encode()).hexdigest()[:24]


def execution_events(before: ExecutionState | None, after: ExecutionState) -> list[EventRef]:
    """The events a change of an execution's header stands for (none, one, or rarely two)."""
    found: list[EventRef] = []
    if after.status in _ENDED and (before is None or before.status != after.status):
        kind = _ENDED[after.status]
        # A run ends once: a retry-step's later end is another run's.
        found.append(
            EventRef(
                _event_id(after.id, after.current_run_id, kind),
                kind,
                after.workspace_id,
                after.workflow_id,
                after.id,
                after.completed_at or after.updated_at,
            )
        )
    stall = after.stalled
    if stall is not None and (before is None or before.stalled is None):
        found.append(
            EventRef(
                # The version that flagged it: the same step can stall again only after it moved.
                _event_id(after.id, "stalled", after.version),
                EventKind.EXECUTION_STALLED,
                after.workspace_id,
                after.workflow_id,
                after.id,
                after.updated_at,
                stall.action_id,
            )
        )
    return found


def step_events(before: StepState | None, after: StepState) -> list[EventRef]:
    if after.status is not StepStatus.FAILED or (before is not None and before.status is StepStatus.FAILED):
        return []
    return [
        EventRef(
            _event_id(after.execution_id, after.index, after.attempt, EventKind.STEP_FAILED),
            EventKind.STEP_FAILED,
            after.workspace_id,
            after.workflow_id,
            after.execution_id,
            after.completed_at or "",
            after.action_id,
        )
    ]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    at: str
    status_code: int | None  # None: no HTTP answer (refused, timed out)
    error: str | None
    next_attempt_at: str | None  # None: no further attempt (delivered, or given up)
    response_preview: str | None = None  # the start of the receiver's answer, nothing more


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook's deliveries of one event: `pending` until delivered or given up (`failed`)."""

    url: str
    state: str
    attempts: tuple[DeliveryAttempt, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    ref: EventRef
    payload: str  # the JSON body every receiver gets: {"type", "timestamp", "data"}
    published: bool
    deliveries: tuple[Delivery, ...]
