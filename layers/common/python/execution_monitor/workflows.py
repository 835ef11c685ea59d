"""Workflow definitions: create/replace and read."""

from __future__ import annotations

from execution_monitor.actions.definitions import action_json
from execution_monitor.actions.failure import ActionFailed
from execution_monitor.domain.events import EventKind
from execution_monitor.domain.workflow import Webhook, Workflow
from execution_monitor.errors import NotFound, PayloadTooLarge, ValidationFailed
from execution_monitor.models import WorkflowDefinition
from execution_monitor.network import check_url
from execution_monitor.store.interface import WorkflowStore

# A stored definition stays far below DynamoDB's 400 KB item limit.
MAX_DEFINITION_BYTES = 200 * 1024


def save_workflow(
    store: WorkflowStore,
    workspace_id: str,
    workflow_id: str,
    definition: WorkflowDefinition,
    *,
    rotate_secret: bool = False,
) -> tuple[Workflow, str | None]:
    """The stored workflow, and its webhook secret when this call created or rotated it."""
    size = sum(len(action_json(action).encode()) for action in definition.actions)
    if size > MAX_DEFINITION_BYTES:
        raise PayloadTooLarge(f"the definition is {size} bytes; at most {MAX_DEFINITION_BYTES} are accepted")
    for position, hook in enumerate(definition.webhooks):
        try:
            check_url(hook.url)  # again at every delivery: DNS may change
        except ActionFailed as error:
            raise ValidationFailed(
                f"webhooks.{position}.url: {error}",
                details=[{"loc": ["body", "webhooks", position, "url"], "msg": str(error)}],
            ) from error
    webhooks = [
        Webhook(hook.url, frozenset(EventKind(kind) for kind in hook.events)) for hook in definition.webhooks
    ]
    return store.put_workflow(
        workspace_id,
        workflow_id,
        definition.name,
        definition.description,
        list(definition.actions),
        webhooks,
        rotate_secret=rotate_secret,
    )


def get_workflow(store: WorkflowStore, workspace_id: str, workflow_id: str) -> Workflow:
    workflow = store.get_workflow(workspace_id, workflow_id)
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} not found")
    return workflow
