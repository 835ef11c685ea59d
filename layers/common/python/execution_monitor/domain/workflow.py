"""A stored workflow definition and an Idempotency-Key claim, as typed state."""

from __future__ import annotations

from dataclasses import dataclass

from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain.events import EventKind
from execution_monitor.domain.status import ExecutionStatus


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a workflow's events are delivered (Standard Webhooks), and which of them."""

    url: str
    events: frozenset[EventKind]


@dataclass(frozen=True, slots=True)
class Workflow:
    workspace_id: str
    id: str
    name: str
    description: str | None
    actions: tuple[ActionDefinition, ...]
    version: int
    created_at: str
    updated_at: str
    webhooks: tuple[Webhook, ...] = ()


@dataclass(frozen=True, slots=True)
class LastExecution:
    """The newest execution of a workflow, as its workspace's list of workflows shows it."""

    id: str
    status: ExecutionStatus
    started_at: str
    version: int


@dataclass(frozen=True, slots=True)
class WorkflowSummary:
    workspace_id: str
    id: str
    name: str
    version: int
    updated_at: str
    last_execution: LastExecution | None


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """Binds an Idempotency-Key (per workflow) to the execution its first request created."""

    workspace_id: str
    workflow_id: str
    key: str
    execution_id: str
    request_hash: str
    expires_at: int  # epoch seconds (the table's TTL attribute)
