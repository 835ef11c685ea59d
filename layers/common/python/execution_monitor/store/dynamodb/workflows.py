"""Workflow definitions in the single table."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from execution_monitor import clock
from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain.workflow import LastExecution, Webhook, Workflow
from execution_monitor.store.dynamodb import items, keys
from execution_monitor.store.dynamodb.expressions import (
    Below,
    Either,
    Equals,
    IfMissing,
    Increment,
    Missing,
    Present,
    Update,
    key_attrs,
)
from execution_monitor.store.dynamodb.pages import IndexList, query_page
from execution_monitor.store.dynamodb.writer import Writer
from execution_monitor.store.interface import WorkflowPage


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WorkflowTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.writer = Writer(client, table)

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
        """Creates or replaces the definition; returns it, and its webhook secret when this call
        created it (the first PUT with webhooks) or rotated it, else None."""
        stamp = clock.iso(clock.now())
        document = items.workflow_document(name, description, actions, webhooks)
        secret = new_webhook_secret()
        changes: dict[str, Any] = {
            **items.workflow_attributes(workspace_id, workflow_id, name),
            "definition": document,
            "updatedAt": stamp,
            "createdAt": IfMissing(stamp),
            # One atomic update: the version increments server-side, so concurrent PUTs never share one.
            "version": Increment(),
        }
        if rotate_secret:
            changes[items.WEBHOOK_SECRET] = secret
        elif webhooks:
            changes[items.WEBHOOK_SECRET] = IfMissing(secret)
        update = Update(items.workflow_key(workspace_id, workflow_id), changes)
        updated = items.from_item(
            self.client.update_item(**update.request(self.table), ReturnValues="ALL_NEW")["Attributes"]
        )
        created = updated.get(items.WEBHOOK_SECRET) == secret
        return items.workflow_from_item(updated), secret if created else None

    def get_webhook_secret(self, workspace_id: str, workflow_id: str) -> str | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key_attrs(items.workflow_key(workspace_id, workflow_id)),
            ProjectionExpression="#secret",
            ExpressionAttributeNames={"#secret": items.WEBHOOK_SECRET},
        )
        value = found.get("Item", {}).get(items.WEBHOOK_SECRET, {}).get("S")
        return str(value) if value else None

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None:
        found = self.client.get_item(
            TableName=self.table, Key=key_attrs(items.workflow_key(workspace_id, workflow_id))
        )
        return items.workflow_from_item(items.from_item(found["Item"])) if "Item" in found else None

    def list_workflows(self, workspace_id: str, *, limit: int, cursor: str | None) -> WorkflowPage:
        listing = IndexList(
            keys.BY_WORKSPACE_INDEX,
            "gsi3pk",
            "gsi3sk",
            keys.workspace_workflows_pk(workspace_id),
            keys.workflow_pk(workspace_id, ""),
            newest_first=False,  # by id
        )
        found, next_cursor = query_page(self.client, self.table, listing, limit=limit, cursor=cursor)
        return WorkflowPage(
            [items.workflow_summary_from_item(items.from_item(item)) for item in found], next_cursor
        )

    def record_last_execution(self, workspace_id: str, workflow_id: str, last: LastExecution) -> bool:
        """Shows `last` as the workflow's newest execution, unless a newer one (or a newer version
        of this one) is shown already: replayed or reordered records never step back."""
        stored = items.last_execution_attributes(last)
        newer = Either(
            (
                Missing("lastExecution"),
                Below("lastExecution.order", stored["order"]),
                Equals("lastExecution.order", stored["order"]) & Below("lastExecution.version", last.version),
            )
        )
        update = Update(
            items.workflow_key(workspace_id, workflow_id), {"lastExecution": stored}, Present("pk") & newer
        )
        return self.writer.commit([update], guard=update.key)
