"""Workflow definitions: create/replace and read."""

from __future__ import annotations

from execution_monitor.actions.definitions import action_json
from execution_monitor.domain.workflow import Workflow
from execution_monitor.errors import NotFound, PayloadTooLarge
from execution_monitor.models import WorkflowDefinition
from execution_monitor.store.interface import WorkflowStore

# A stored definition stays far below DynamoDB's 400 KB item limit.
MAX_DEFINITION_BYTES = 200 * 1024


def save_workflow(
    store: WorkflowStore, workspace_id: str, workflow_id: str, definition: WorkflowDefinition
) -> Workflow:
    size = sum(len(action_json(action).encode()) for action in definition.actions)
    if size > MAX_DEFINITION_BYTES:
        raise PayloadTooLarge(f"the definition is {size} bytes; at most {MAX_DEFINITION_BYTES} are accepted")
    return store.put_workflow(
        workspace_id, workflow_id, definition.name, definition.description, list(definition.actions)
    )


def get_workflow(store: WorkflowStore, workspace_id: str, workflow_id: str) -> Workflow:
    workflow = store.get_workflow(workspace_id, workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow
