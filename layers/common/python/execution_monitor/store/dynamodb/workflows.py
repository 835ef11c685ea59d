"""Workflow definitions in the single table."""

from __future__ import annotations

from typing import Any

from execution_monitor import clock
from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain.workflow import Workflow
from execution_monitor.store.dynamodb import items, keys
from execution_monitor.store.dynamodb.expressions import IfMissing, Increment, Update, key_attrs


class WorkflowTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def put_workflow(
        self,
        workspace_id: str,
        workflow_id: str,
        name: str,
        description: str | None,
        actions: list[ActionDefinition],
    ) -> Workflow:
        stamp = clock.iso(clock.now())
        document = items.workflow_document(name, description, actions)
        # One atomic update: the version increments server-side, so concurrent PUTs never share one.
        update = Update(
            items.workflow_key(workspace_id, workflow_id),
            {
                "type": keys.ITEM_WORKFLOW,
                "workspaceId": workspace_id,
                "workflowId": workflow_id,
                "definition": document,
                "updatedAt": stamp,
                "createdAt": IfMissing(stamp),
                "version": Increment(),
            },
        )
        updated = self.client.update_item(**update.request(self.table), ReturnValues="ALL_NEW")
        return items.workflow_from_item(items.from_item(updated["Attributes"]))

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None:
        found = self.client.get_item(
            TableName=self.table, Key=key_attrs(items.workflow_key(workspace_id, workflow_id))
        )
        return items.workflow_from_item(items.from_item(found["Item"])) if "Item" in found else None
