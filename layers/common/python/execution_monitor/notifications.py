"""Telling servers what happened: each recorded event goes to the EventBridge bus and, per
matching webhook, onto the delivery queue; deliveries are signed per Standard Webhooks.

    body                 {"type": "execution.failed", "timestamp": "…", "data": {…}}
    webhook-id           the event's id: the same on every retry, so receivers can deduplicate
    webhook-timestamp    seconds since the epoch, at this attempt
    webhook-signature    v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">, keyed with the
                         workflow's secret (the base64 after `whsec_`)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from execution_monitor.domain.events import SOURCE, EventKind, EventRef, RecordedEvent
from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.views import execution_view, step_view

# EventBridge takes at most 256 KB per entry; an execution too large to describe whole loses its
# step list (counts and status stay).
MAX_DETAIL_BYTES = 200 * 1024


def event_payload(
    ref: EventRef, execution: ExecutionState, steps: list[StepState], stalled_or_failed: StepState | None
) -> str:
    """What every receiver of this event gets (the execution without step outputs)."""
    view = execution_view(execution, steps).to_json_dict()
    for result in view.get("actionResults") or []:
        result.pop("output", None)
    data: dict[str, Any] = {"eventId": ref.id, "execution": view}
    if stalled_or_failed is not None:
        step = step_view(stalled_or_failed, execution).to_json_dict()
        step.pop("output", None)
        data["step"] = step
    body = {"type": ref.kind.value, "timestamp": ref.occurred_at, "data": data}
    text = json.dumps(body, separators=(",", ":"))
    if len(text.encode()) > MAX_DETAIL_BYTES:
        view["actionResults"] = None
        text = json.dumps(body, separators=(",", ":"))
    return text


@dataclass(frozen=True)
class DeliveryMessage:
    """One webhook delivery of one event, as it travels on the queue."""

    workspace_id: str
    workflow_id: str
    execution_id: str
    event_id: str
    kind: str
    occurred_at: str
    webhook: int

    @classmethod
    def of(cls, ref: EventRef, webhook: int) -> DeliveryMessage:
        return cls(
            ref.workspace_id,
            ref.workflow_id,
            ref.execution_id,
            ref.id,
            ref.kind.value,
            ref.occurred_at,
            webhook,
        )

    @property
    def ref(self) -> EventRef:
        return EventRef(
            self.event_id,
            EventKind(self.kind),
            self.workspace_id,
            self.workflow_id,
            self.execution_id,
            self.occurred_at,
        )

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DeliveryMessage:
        return cls(**json.loads(text))


class Publisher:
    """EventBridge for every event; the webhook queue for each webhook that asked for its kind."""

    def __init__(self, events_client: Any, sqs_client: Any, bus_name: str, queue_url: str) -> None:
        self.events = events_client
        self.sqs = sqs_client
        self.bus_name = bus_name
        self.queue_url = queue_url

    def publish(self, event: RecordedEvent) -> None:
        ref = event.ref
        detail = json.loads(event.payload)["data"]
        answer = self.events.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": ref.kind.detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused event {ref.id}: {answer.get('Entries')}")
        for index, _ in enumerate(event.deliveries):
            message = DeliveryMessage(
                ref.workspace_id,
                ref.workflow_id,
                ref.execution_id,
                ref.id,
                ref.kind.value,
                ref.occurred_at,
                index,
            )
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message.to_json())


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value (Standard Webhooks, v1 = HMAC-SHA256)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
