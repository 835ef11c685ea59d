"""What the logic needs from storage. The DynamoDB adapter implements it; logic never sees boto3."""

from __future__ import annotations

from typing import Protocol

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
