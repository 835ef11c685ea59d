"""Execution reads. Writes (start, cancel, retry) live in the engine package."""

from __future__ import annotations

from execution_monitor.errors import NotFound
from execution_monitor.models import Execution, ExecutionPage
from execution_monitor.store.interface import ExecutionReader


def get_execution(
    store: ExecutionReader, workspace_id: str, workflow_id: str, execution_id: str
) -> Execution:
    execution = store.get_execution(workspace_id, execution_id)
    if execution is None or execution.workflow_id != workflow_id:
        raise NotFound(f"execution {execution_id} not found")
    return execution


def list_executions(
    store: ExecutionReader,
    workspace_id: str,
    workflow_id: str,
    *,
    limit: int,
    status: str | None,
    cursor: str | None,
) -> ExecutionPage:
    return store.list_executions(workspace_id, workflow_id, limit=limit, status=status, cursor=cursor)
