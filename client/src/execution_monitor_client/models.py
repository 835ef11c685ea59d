"""Typed models of the API's JSON: camelCase on the wire, snake_case attributes here.

A model is read from JSON with `from_json` and keeps that JSON (`to_json()` gives it back as
received). Fields the model does not declare are kept too (`extra`), and never an error: a newer
server must not break an older client. A test compares these models with the OpenAPI document
the API serves, so a declared field cannot drift from the contract.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, Self, TypeVar

ExecutionStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
StepStatus = Literal["pending", "running", "completed", "failed", "cancelled", "skipped"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value)  # ISO-8601 with "Z" (Python 3.11+)


def _convert(hint: Any, value: Any) -> Any:
    """Turns one JSON value into the declared Python type (nested models, lists, timestamps)."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        declared = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _convert(declared[0], value) if len(declared) == 1 else value
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_convert(item, element) for element in value]
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint.from_json(value)
    if hint is datetime:
        return parse_timestamp(value)
    return value


@dataclass(frozen=True, kw_only=True)
class Model:
    """Base of every model: built from JSON, keeps it, tolerates fields it does not know."""

    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        values = {name: _convert(hint, data[key]) for name, key, hint, _ in _declared(cls) if key in data}
        missing = [key for name, key, _, required in _declared(cls) if required and name not in values]
        if missing:
            raise TypeError(f"{cls.__name__}: missing field(s) {', '.join(missing)}")
        return cls(raw=data, **values)

    def to_json(self) -> dict[str, Any]:
        """The JSON this model was read from (camelCase), unknown fields included."""
        return dict(self.raw)

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the server sent that this version of the client does not declare."""
        known = {key for _, key, _, _ in _declared(type(self))}
        return {key: value for key, value in self.raw.items() if key not in known}


# Marks a field read from the answer's envelope rather than from the model's own JSON object.
ENVELOPE = "envelope"

_DECLARED: dict[type[Model], tuple[tuple[str, str, Any, bool], ...]] = {}


def _declared(cls: type[Model]) -> tuple[tuple[str, str, Any, bool], ...]:
    """(attribute, JSON key, type, required) of each declared field, worked out once per model."""
    if cls not in _DECLARED:
        _DECLARED[cls] = _fields_of(cls)
    return _DECLARED[cls]


def _fields_of(cls: type[Model]) -> tuple[tuple[str, str, Any, bool], ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            each.name,
            to_camel(each.name),
            hints[each.name],
            each.default is dataclasses.MISSING and each.default_factory is dataclasses.MISSING,
        )
        for each in dataclasses.fields(cls)
        if each.name != "raw" and not each.metadata.get(ENVELOPE)
    )


def declared_json_fields(cls: type[Model]) -> dict[str, tuple[Any, bool]]:
    """JSON key -> (declared type, required) of a model: what the OpenAPI drift test compares."""
    return {key: (hint, required) for _, key, hint, required in _declared(cls)}


@dataclass(frozen=True, kw_only=True)
class Progress(Model):
    completed_steps: int
    failed_steps: int
    total_steps: int
    percentage: int
    estimated_time_remaining: int | None = None  # milliseconds; None when unknown or finished
    estimated_completion_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class StepAttempt(Model):
    """An earlier attempt of a step, kept when the step was retried."""

    attempt: int
    status: StepStatus
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration: int | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ActionResult(Model):
    """One step of an execution."""

    action_id: str
    action_type: str
    status: StepStatus
    name: str | None = None
    attempt: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration: int | None = None  # milliseconds
    error: str | None = None
    output: Any = None
    history: list[StepAttempt] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ExecutionRun(Model):
    """One state-machine run of an execution (each retry-step starts another)."""

    run_id: str
    start_index: int
    started_at: datetime


@dataclass(frozen=True, kw_only=True)
class Stall(Model):
    """The server's stall flag (milliseconds): the running step, how long it has run, what was expected."""

    action_id: str
    running_for: int
    expected_duration: int


@dataclass(frozen=True, kw_only=True)
class Execution(Model):
    id: str
    workspace_id: str
    workflow_id: str
    workflow_version: int
    status: ExecutionStatus
    started_at: datetime
    updated_at: datetime
    version: int
    can_cancel: bool
    can_retry: bool
    progress: Progress
    input: dict[str, Any] = field(default_factory=dict)
    completed_at: datetime | None = None
    duration: int | None = None  # milliseconds, once finished
    error: str | None = None
    retry_of: str | None = None
    retried_by: str | None = None
    stalled: Stall | None = None  # the running step has run well past what its history predicts
    runs: list[ExecutionRun] = field(default_factory=list)
    action_results: list[ActionResult] | None = None  # None in list responses

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def etag(self) -> str:
        """The contract: the ETag of an execution is its version."""
        return f'"{self.version}"'

    def get_action_result(self, action_id: str) -> ActionResult | None:
        return next((step for step in self.action_results or [] if step.action_id == action_id), None)


EventType = Literal[
    "execution.completed", "execution.failed", "execution.cancelled", "step.failed", "execution.stalled"
]


@dataclass(frozen=True, kw_only=True)
class Webhook(Model):
    url: str
    events: list[EventType]


@dataclass(frozen=True, kw_only=True)
class Workflow(Model):
    id: str
    workspace_id: str
    name: str
    actions: list[dict[str, Any]]
    version: int
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    webhooks: list[Webhook] = field(default_factory=list)
    # Answered only by the PUT that creates the first webhook or rotates the secret (never shown again).
    webhook_secret: str | None = field(default=None, metadata={ENVELOPE: "webhookSecret"})


# -- round-2 read routes (DESIGN.md "More read routes"): only the fields the contract names are
# declared; everything else the server sends is in `extra` until the shapes are settled.


@dataclass(frozen=True, kw_only=True)
class LastExecution(Model):
    id: str
    status: ExecutionStatus
    started_at: datetime


@dataclass(frozen=True, kw_only=True)
class WorkflowSummary(Model):
    """An item of the workspace's workflow list."""

    id: str
    name: str
    version: int
    updated_at: datetime
    last_execution: LastExecution | None = None

    @property
    def last_execution_status(self) -> ExecutionStatus | None:
        return None if self.last_execution is None else self.last_execution.status


@dataclass(frozen=True, kw_only=True)
class PlannedStep(Model):
    action_id: str
    action_type: str
    status: StepStatus
    attempts: int
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class KeptStep(Model):
    action_id: str
    name: str | None = None
    completed_at: datetime | None = None
    duration: int | None = None  # milliseconds


@dataclass(frozen=True, kw_only=True)
class RetryPlan(Model):
    """What a retry would do: the steps it re-runs, those that keep their results, and its cost.
    `kind` "execution" (retry: a new execution) or "step" (retry-step: this one resumes)."""

    kind: Literal["execution", "step"]
    definition_version: int
    rerun: list[PlannedStep]
    kept: list[KeptStep]
    estimated_duration: int | None  # milliseconds; None when a step has no statistics
    action_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliveryAttempt(Model):
    at: datetime
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    response_preview: str | None = None


@dataclass(frozen=True, kw_only=True)
class Delivery(Model):
    """One webhook's deliveries of one event: pending, delivered, or failed (given up)."""

    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: list[DeliveryAttempt]


@dataclass(frozen=True, kw_only=True)
class ExecutionEvent(Model):
    """An event the execution published, with its webhook deliveries."""

    id: str
    type: EventType
    occurred_at: datetime
    published: bool
    deliveries: list[Delivery]
    data: dict[str, Any]
    action_id: str | None = None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list route; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None
