"""Execution reads. Writes (start, cancel, retry) live in the engine package."""

from __future__ import annotations

from execution_monitor.domain.status import ExecutionStatus
from execution_monitor.errors import NotFound
from execution_monitor.store.interface import ExecutionPage, ExecutionReader, Loaded


def require_execution(loaded: Loaded | None, workflow_id: str, execution_id: str) -> Loaded:
    """The execution, if it exists under this workflow (the workspace is in its key already)."""
    if loaded is None or loaded[0].workflow_id != workflow_id:
        raise NotFound(f"execution {execution_id} not found")
    return loaded


def get_execution(store: ExecutionReader, workspace_id: str, workflow_id: str, execution_id: str) -> Loaded:
    return require_execution(store.get_execution(workspace_id, execution_id), workflow_id, execution_id)


def list_executions(
    store: ExecutionReader,
    workspace_id: str,
    workflow_id: str | None,
    *,
    limit: int,
    status: str | None,
    cursor: str | None,
) -> ExecutionPage:
    """A workflow's executions, or (no workflow) every workflow's in the workspace; newest first."""
    wanted = ExecutionStatus(status) if status else None
    if workflow_id is None:
        return store.list_workspace_executions(workspace_id, limit=limit, status=wanted, cursor=cursor)
    return store.list_executions(workspace_id, workflow_id, limit=limit, status=wanted, cursor=cursor)
