"""Published events and their webhook deliveries, kept in their execution's partition.

  event     pk=WS#<ws>#EXEC#<id>   sk=EVT#<occurredAt>#<eventId>

They sort before the header (`EVT` < `EXEC`), so reads of the header and steps never see them,
and one Query lists an execution's events in the order they happened.
"""

from __future__ import annotations

from typing import Any

from execution_monitor.domain.events import Delivery as DeliveryState
from execution_monitor.domain.events import DeliveryAttempt, EventKind, EventRef, RecordedEvent
from execution_monitor.store.dynamodb import items, keys
from execution_monitor.store.dynamodb.expressions import Append, Missing, Put, Update, key_attrs, to_attr
from execution_monitor.store.dynamodb.writer import Writer

EVENT_SK_PREFIX = "EVT#"
ITEM_EVENT = "event"


def event_key(ref: EventRef) -> dict[str, str]:
    return {
        "pk": keys.execution_pk(ref.workspace_id, ref.execution_id),
        "sk": f"{EVENT_SK_PREFIX}{ref.occurred_at}#{ref.id}",
    }


def _attempt(stored: dict[str, Any]) -> DeliveryAttempt:
    code = stored.get("statusCode")
    return DeliveryAttempt(
        stored["at"], None if code is None else int(code), stored.get("error"), stored.get("nextAttemptAt")
    )


def _event(item: dict[str, Any]) -> RecordedEvent:
    deliveries = item.get("deliveries") or {}
    return RecordedEvent(
        ref=EventRef(
            id=item["eventId"],
            kind=EventKind(item["kind"]),
            workspace_id=item["workspaceId"],
            workflow_id=item["workflowId"],
            execution_id=item["executionId"],
            occurred_at=item["occurredAt"],
            action_id=item.get("actionId"),
        ),
        payload=item["payload"],
        published=bool(item.get("published")),
        deliveries=tuple(
            DeliveryState(
                deliveries[index]["url"],
                deliveries[index]["state"],
                tuple(_attempt(attempt) for attempt in deliveries[index].get("attempts", [])),
            )
            for index in sorted(deliveries, key=int)
        ),
    )


class EventTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.writer = Writer(client, table)

    def get_event(self, ref: EventRef) -> RecordedEvent | None:
        found = self.client.get_item(TableName=self.table, Key=key_attrs(event_key(ref)), ConsistentRead=True)
        return _event(items.from_item(found["Item"])) if "Item" in found else None

    def record_event(self, ref: EventRef, payload: str, webhook_urls: list[str]) -> bool:
        """Records the event once: False when it is recorded already (a replayed stream record)."""
        put = Put(
            {
                **event_key(ref),
                "type": ITEM_EVENT,
                "eventId": ref.id,
                "kind": ref.kind.value,
                "workspaceId": ref.workspace_id,
                "workflowId": ref.workflow_id,
                "executionId": ref.execution_id,
                "occurredAt": ref.occurred_at,
                "actionId": ref.action_id,
                "payload": payload,
                "published": False,
                "deliveries": {
                    str(index): {"url": url, "state": "pending", "attempts": []}
                    for index, url in enumerate(webhook_urls)
                },
            },
            Missing("pk"),
        )
        return self.writer.commit([put], guard=put.key)

    def mark_published(self, ref: EventRef) -> None:
        update = Update(event_key(ref), {"published": True})
        self.writer.commit([update], guard=update.key)

    def record_attempt(self, ref: EventRef, webhook: int, attempt: DeliveryAttempt, state: str) -> None:
        stored = {
            name: value
            for name, value in {
                "at": attempt.at,
                "statusCode": attempt.status_code,
                "error": attempt.error,
                "nextAttemptAt": attempt.next_attempt_at,
                "responsePreview": attempt.response_preview,
            }.items()
            if value is not None
        }
        update = Update(
            event_key(ref),
            {f"deliveries.{webhook}.attempts": Append((stored,)), f"deliveries.{webhook}.state": state},
        )
        self.writer.commit([update], guard=update.key)

    def list_events(self, workspace_id: str, execution_id: str) -> list[RecordedEvent]:
        """Every event of the execution, in the order they happened."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": to_attr(keys.execution_pk(workspace_id, execution_id)),
                ":prefix": to_attr(EVENT_SK_PREFIX),
            },
            "ConsistentRead": True,
        }
        found: list[RecordedEvent] = []
        while True:
            page = self.client.query(**request)
            found.extend(_event(items.from_item(item)) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
