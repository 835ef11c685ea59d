"""What the logic needs from storage. The DynamoDB adapter implements it; logic never sees boto3."""

from __future__ import annotations

from typing import Any, Protocol

from execution_monitor.models import Execution, ExecutionPage, Workflow, WorkflowDefinition


class WorkflowStore(Protocol):
    def put_workflow(
        self, workspace_id: str, workflow_id: str, definition: WorkflowDefinition
    ) -> Workflow: ...

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None: ...


class ExecutionReader(Protocol):
    def get_execution(self, workspace_id: str, execution_id: str) -> Execution | None: ...

    def list_executions(
        self, workspace_id: str, workflow_id: str, *, limit: int, status: str | None, cursor: str | None
    ) -> ExecutionPage: ...


Record = dict[str, Any]


class StoreContention(Exception):
    """A write lost to throttling or a concurrent transaction, not to a business rule: try again.

    Its name is also the error Step Functions retries on (state_machine.asl.json)."""


class ExecutionStore(ExecutionReader, Protocol):
    """Execution writes. Each transition is one conditional write; False means another writer won."""

    def read_execution_records(
        self, workspace_id: str, execution_id: str, from_step: int = 0
    ) -> tuple[Record, list[Record]] | None: ...

    def read_execution_version(self, workspace_id: str, execution_id: str) -> tuple[int, str] | None: ...

    def create_execution(self, header: Record, steps: list[Record]) -> None: ...

    def claim_idempotency_key(self, record: Record, now_epoch: int) -> Record | None: ...

    def begin_step(self, header: Record, step: Record, run_id: str, attempt: int, now: str) -> bool: ...

    def finish_step(
        self,
        header: Record,
        step: Record,
        run_id: str,
        step_fields: Record,
        execution_fields: Record | None = None,
    ) -> bool: ...

    def end_execution(
        self, header: Record, run_id: str, status: str, now: str, duration_ms: int, error: str | None = None
    ) -> bool: ...

    def cancel(self, header: Record, running_step: Record | None, now: str, duration_ms: int) -> bool: ...

    def restart_from_step(
        self, header: Record, step: Record, run: Record, history: list[Record], now: str
    ) -> bool: ...

    def release_idempotency_key(self, record: Record) -> None: ...

    def claim_retry(self, header: Record, new_execution_id: str, now: str) -> bool: ...

    def release_retry(self, header: Record, new_execution_id: str, now: str) -> bool: ...
