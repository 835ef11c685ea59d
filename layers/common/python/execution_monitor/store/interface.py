"""What the logic needs from storage, as intents over domain types. The DynamoDB adapter implements
it; logic never sees boto3, keys or items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from execution_monitor.domain.status import ExecutionStatus

if TYPE_CHECKING:  # annotations only: what a function imports at its cold start is what it uses
    from execution_monitor.actions.definitions import ActionDefinition
    from execution_monitor.domain.events import DeliveryAttempt, EventRef, RecordedEvent
    from execution_monitor.domain.execution import ExecutionState, StepState
    from execution_monitor.domain.statistics import StepStats
    from execution_monitor.domain.transitions import Transition
    from execution_monitor.domain.workflow import (
        IdempotencyClaim,
        LastExecution,
        Webhook,
        Workflow,
        WorkflowSummary,
    )


class StoreContention(Exception):
    """A write lost to throttling or a concurrent transaction, not to a business rule: try again.

    Its name is also the error Step Functions retries on (state_machine.asl.json)."""


class Probe(NamedTuple):
    """The cheapest consistent "did it change?": the header's version and status."""

    version: int
    status: ExecutionStatus


@dataclass(frozen=True, slots=True)
class ExecutionPage:
    executions: list[ExecutionState]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class StepContext:
    """What one step of a run needs: its execution, itself, and the steps its params reference."""

    execution: ExecutionState
    step: StepState
    dependencies: dict[str, StepState]  # by action id


@dataclass(frozen=True, slots=True)
class WorkflowPage:
    workflows: list[WorkflowSummary]
    next_cursor: str | None


Loaded = tuple["ExecutionState", list["StepState"]]


class WorkflowStore(Protocol):
    def put_workflow(
        self,
        workspace_id: str,
        workflow_id: str,
        name: str,
        description: str | None,
        actions: list[ActionDefinition],
        webhooks: list[Webhook],
        *,
        rotate_secret: bool = False,
    ) -> tuple[Workflow, str | None]:
        """The stored workflow, and its webhook secret when this call created or rotated it."""
        ...

    def get_webhook_secret(self, workspace_id: str, workflow_id: str) -> str | None: ...

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None: ...

    def list_workflows(self, workspace_id: str, *, limit: int, cursor: str | None) -> WorkflowPage: ...

    def record_last_execution(self, workspace_id: str, workflow_id: str, last: LastExecution) -> bool: ...


class ExecutionReader(Protocol):
    def get_execution(self, workspace_id: str, execution_id: str) -> Loaded | None:
        """The header and every step, strongly consistent (one Query)."""
        ...

    def list_executions(
        self,
        workspace_id: str,
        workflow_id: str,
        *,
        limit: int,
        status: ExecutionStatus | None,
        cursor: str | None,
    ) -> ExecutionPage: ...

    def list_workspace_executions(
        self, workspace_id: str, *, limit: int, status: ExecutionStatus | None, cursor: str | None
    ) -> ExecutionPage:
        """Every workflow's executions in the workspace, newest first."""
        ...


class LiveReader(Protocol):
    """The reads of an SSE stream: both strongly consistent; the header is read before the steps."""

    def probe(self, workspace_id: str, execution_id: str) -> Probe | None: ...

    def get_execution_from(self, workspace_id: str, execution_id: str, from_index: int) -> Loaded | None:
        """The header and only the steps from `from_index` on (0: all of them)."""
        ...


class ExecutionStore(ExecutionReader, Protocol):
    """Execution writes: each intent is one conditional write on the state it came from; False
    means another writer changed it first (read again and decide again)."""

    def get_header(self, workspace_id: str, execution_id: str) -> ExecutionState | None: ...

    def get_step_context(self, workspace_id: str, execution_id: str, index: int) -> StepContext | None: ...

    def get_step(self, execution: ExecutionState, index: int) -> StepState | None: ...

    def create_execution(self, execution: ExecutionState, steps: list[StepState]) -> None:
        """Creates it whole or raises; repeating a create that already happened is a success."""
        ...

    def claim_step(self, transition: Transition) -> bool: ...

    def finish_step(self, transition: Transition) -> bool: ...

    def end_execution(self, transition: Transition) -> bool: ...

    def cancel(self, transition: Transition) -> bool: ...

    def start_run(self, transition: Transition) -> bool:
        """retry-step: the execution runs again from the transition's step."""
        ...

    def link_retry(self, transition: Transition) -> bool: ...

    def mark_stalled(self, transition: Transition) -> bool: ...

    def postpone_check(self, transition: Transition) -> bool:
        """When the sweep should look next (not a visible change)."""
        ...

    def due_for_check(self, now: str) -> list[tuple[str, str]]:
        """(workspace, execution) of every execution the sweep should look at by `now`."""
        ...

    def unlink_retry(self, transition: Transition) -> bool: ...

    def claim_idempotency_key(self, claim: IdempotencyClaim, now_epoch: int) -> IdempotencyClaim | None:
        """Claims the key; returns the live claim already holding it, if any."""
        ...

    def release_idempotency_key(self, claim: IdempotencyClaim) -> None: ...


class StatisticsStore(Protocol):
    def get_step_stats(
        self, workspace_id: str, workflow_id: str, action_ids: Iterable[str]
    ) -> dict[str, StepStats]: ...

    def put_step_stats(
        self, workspace_id: str, workflow_id: str, action_id: str, before: StepStats, after: StepStats
    ) -> bool: ...

    def mark_step_folded(self, step: StepState) -> bool: ...


class EventStore(Protocol):
    def get_event(self, ref: EventRef) -> RecordedEvent | None: ...

    def record_event(self, ref: EventRef, payload: str, webhook_urls: list[str]) -> bool:
        """Records the event once: False when it is recorded already."""
        ...

    def mark_published(self, ref: EventRef) -> None: ...

    def record_attempt(self, ref: EventRef, webhook: int, attempt: DeliveryAttempt, state: str) -> None: ...

    def list_events(self, workspace_id: str, execution_id: str) -> list[RecordedEvent]: ...
