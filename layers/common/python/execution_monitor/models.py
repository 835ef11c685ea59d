"""The API contract as pydantic models (camelCase on the wire, snake_case in Python)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from execution_monitor.actions.definitions import ActionDefinition, DelayAction
from execution_monitor.api_model import HTTP_URL_PATTERN, IDENTIFIER_PATTERN, ApiModel

MAX_ACTIONS = 1000
# A Step Functions run keeps at most 25,000 history events. Per Map iteration of
# state_machine.asl.json: an action attempt takes 13, each further attempt 9 more (Choice, Wait,
# Task), a delay 22. Budgeting 24,000 leaves room for ~300 transient task retries (3 events each).
HISTORY_EVENT_BUDGET = 24_000
EVENTS_PER_RUN = 20
EVENTS_PER_ACTION = 13
EVENTS_PER_EXTRA_ATTEMPT = 9
EVENTS_PER_DELAY = 22

# The wire's status values (domain.status has the same values as StrEnums).
ExecutionStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
StepStatus = Literal["pending", "running", "completed", "failed", "cancelled", "skipped"]


def _history_events(action: ActionDefinition) -> int:
    if isinstance(action, DelayAction):
        return EVENTS_PER_DELAY
    return EVENTS_PER_ACTION + EVENTS_PER_EXTRA_ATTEMPT * (action.max_attempts - 1)


MAX_WEBHOOKS = 10
EventName = Literal[
    "execution.completed", "execution.failed", "execution.cancelled", "step.failed", "execution.stalled"
]
ALL_EVENTS: list[EventName] = [
    "execution.completed",
    "execution.failed",
    "execution.cancelled",
    "step.failed",
    "execution.stalled",
]


class WebhookDefinition(ApiModel):
    """An endpoint that receives the workflow's events, signed per Standard Webhooks."""

    # The pattern tells clients what the validator below accepts (an absolute http(s) URL).
    url: str = Field(max_length=2048, pattern=HTTP_URL_PATTERN)
    events: list[EventName] = Field(default_factory=lambda: list(ALL_EVENTS), min_length=1, max_length=5)

    @field_validator("url")
    @classmethod
    def absolute_http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an absolute http(s) URL")
        return url


class WorkflowDefinition(ApiModel):
    """The body of PUT workflow."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    actions: list[ActionDefinition] = Field(min_length=1, max_length=MAX_ACTIONS)
    webhooks: list[WebhookDefinition] = Field(default_factory=list, max_length=MAX_WEBHOOKS)

    @field_validator("actions")
    @classmethod
    def action_ids_are_unique(cls, actions: list[ActionDefinition]) -> list[ActionDefinition]:
        seen: set[str] = set()
        for action in actions:
            if action.id in seen:
                raise ValueError(f"duplicate action id '{action.id}'")
            seen.add(action.id)
        events = EVENTS_PER_RUN + sum(_history_events(action) for action in actions)
        if events > HISTORY_EVENT_BUDGET:
            raise ValueError(
                f"one run of this workflow could need {events} Step Functions history events; at most "
                f"{HISTORY_EVENT_BUDGET} fit: use fewer actions, delays or retry attempts"
            )
        return actions


class Webhook(ApiModel):
    url: str
    events: list[EventName]


class Workflow(ApiModel):
    """A stored definition as the API shows it (actions exactly as they were given, without nulls).
    Its webhook secret is never shown: only the PUT that creates or rotates it answers it."""

    id: str
    workspace_id: str
    name: str
    description: str | None = None
    actions: list[dict[str, Any]]
    webhooks: list[Webhook] = Field(default_factory=list)
    version: int
    created_at: str
    updated_at: str


class StepAttempt(ApiModel):
    """A finished earlier attempt of a step, kept when the step is retried."""

    attempt: int
    status: StepStatus
    started_at: str | None = None
    completed_at: str | None = None
    duration: int | None = None
    error: str | None = None


class ActionResult(ApiModel):
    action_id: str
    action_type: str
    name: str | None = None
    status: StepStatus
    attempt: int = 0
    started_at: str | None = None
    completed_at: str | None = None
    duration: int | None = None
    error: str | None = None
    output: Any = None
    history: list[StepAttempt] = Field(default_factory=list)


class Progress(ApiModel):
    completed_steps: int
    failed_steps: int
    total_steps: int
    percentage: int
    estimated_time_remaining: int | None = None
    estimated_completion_at: str | None = None


class ExecutionRun(ApiModel):
    """One state-machine run of an execution (a retry-step starts another)."""

    run_id: str
    start_index: int
    started_at: str


class Stall(ApiModel):
    """The running step has run well past what its history predicts (docs/stalls.md)."""

    action_id: str
    running_for: int
    expected_duration: int


class Execution(ApiModel):
    id: str
    workspace_id: str
    workflow_id: str
    workflow_version: int
    status: ExecutionStatus
    input: dict[str, Any] = Field(default_factory=dict)
    started_at: str
    completed_at: str | None = None
    updated_at: str
    duration: int | None = None
    error: str | None = None
    retry_of: str | None = None
    retried_by: str | None = None
    version: int
    can_cancel: bool
    can_retry: bool
    progress: Progress
    runs: list[ExecutionRun] = Field(default_factory=list)
    stalled: Stall | None = None
    action_results: list[ActionResult] | None = None


class WorkflowEnvelope(ApiModel):
    workflow: Workflow


class PutWorkflowResponse(ApiModel):
    workflow: Workflow
    webhook_secret: str | None = Field(
        default=None,
        description="whsec_…: present only when this PUT created or rotated the workflow's webhook secret",
    )


class ExecutionEnvelope(ApiModel):
    execution: Execution


class ExecutionPage(ApiModel):
    executions: list[Execution]
    next_cursor: str | None = None


class LastExecution(ApiModel):
    id: str
    status: ExecutionStatus
    started_at: str


class WorkflowSummary(ApiModel):
    id: str
    name: str
    version: int
    updated_at: str
    last_execution: LastExecution | None = None


class WorkflowPage(ApiModel):
    workflows: list[WorkflowSummary]
    next_cursor: str | None = None


class StartExecutionRequest(ApiModel):
    input: dict[str, Any] = Field(default_factory=dict)


class RetryStepRequest(ApiModel):
    action_id: Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


class DeliveryAttempt(ApiModel):
    at: str
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: str | None = None
    response_preview: str | None = None


class Delivery(ApiModel):
    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: list[DeliveryAttempt]


class ExecutionEvent(ApiModel):
    id: str
    type: EventName
    occurred_at: str
    action_id: str | None = None
    published: bool
    deliveries: list[Delivery]
    data: dict[str, Any]


class EventList(ApiModel):
    events: list[ExecutionEvent]


class PlannedStep(ApiModel):
    action_id: str
    name: str | None = None
    action_type: str
    status: StepStatus
    attempts: int = Field(description="Attempts it has had so far")


class KeptStep(ApiModel):
    action_id: str
    name: str | None = None
    completed_at: str | None = None
    duration: int | None = None


class RetryPlan(ApiModel):
    kind: Literal["execution", "step"] = Field(
        description="execution: a new execution runs every step again; step: this one resumes from the step"
    )
    action_id: str | None = None
    definition_version: int
    rerun: list[PlannedStep]
    kept: list[KeptStep]
    estimated_duration: int | None = Field(
        description="Milliseconds, from the workflow's step statistics; null when a step has none"
    )


class RetryPlanEnvelope(ApiModel):
    plan: RetryPlan
