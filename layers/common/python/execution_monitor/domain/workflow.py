"""A stored workflow definition and an Idempotency-Key claim, as typed state."""

from __future__ import annotations

from dataclasses import dataclass

from execution_monitor.actions.definitions import ActionDefinition


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


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """Binds an Idempotency-Key (per workflow) to the execution its first request created."""

    workspace_id: str
    workflow_id: str
    key: str
    execution_id: str
    request_hash: str
    expires_at: int  # epoch seconds (the table's TTL attribute)
