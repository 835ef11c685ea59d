"""One webhook delivery attempt, and what follows it: delivered, tried again later with
exponential backoff, or, 24 hours after the event, given up (the message goes to the dead-letter
queue). The URL passes the same SSRF guard as http_request, at every attempt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from execution_monitor import clock
from execution_monitor.actions.failure import ActionFailed
from execution_monitor.actions.http_request import Answer, exchange
from execution_monitor.domain.events import DeliveryAttempt
from execution_monitor.notifications import DeliveryMessage, sign
from execution_monitor.store.interface import EventStore, WorkflowStore

FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 2 * 3600
GIVE_UP_AFTER = timedelta(hours=24)
TIMEOUT_SECONDS = 10
PREVIEW_CHARS = 200
USER_AGENT = "workflow-execution-monitor-webhooks/1"

Send = Callable[[str, str, dict[str, str], bytes, float], Answer]


@dataclass(frozen=True)
class Outcome:
    """`retry_in`: seconds until the next attempt; None with `delivered` False: given up."""

    delivered: bool
    retry_in: int | None = None

    @property
    def name(self) -> str:
        """delivered, retrying or failed (the WebhookDeliveries metric's Outcome)."""
        if self.delivered:
            return "delivered"
        return "failed" if self.retry_in is None else "retrying"


DELIVERED = Outcome(delivered=True)
GIVEN_UP = Outcome(delivered=False)


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, … doubling after each failed attempt, at most 2 hours."""
    return int(min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1)))


def deliver(
    message: DeliveryMessage,
    events: EventStore,
    workflows: WorkflowStore,
    *,
    send: Send = exchange,
    now: Callable[[], datetime] = clock.now,
) -> Outcome:
    ref = message.ref
    event = events.get_event(ref)
    if event is None or message.webhook >= len(event.deliveries):
        return GIVEN_UP
    delivery = event.deliveries[message.webhook]
    if delivery.state != "pending":
        return DELIVERED if delivery.state == "delivered" else GIVEN_UP  # a duplicate message
    moment = now()
    secret = workflows.get_webhook_secret(ref.workspace_id, ref.workflow_id)
    status, error, preview = None, None, None
    if secret is None:
        error = "the workflow has no webhook secret (its webhooks were removed)"
    else:
        timestamp = int(moment.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": ref.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, ref.id, timestamp, event.payload),
        }
        try:
            answer = send("POST", delivery.url, headers, event.payload.encode(), TIMEOUT_SECONDS)
            status, preview = answer.status, answer.body[:PREVIEW_CHARS].decode("utf-8", errors="replace")
        except ActionFailed as failure:
            error = str(failure)
    stamp = clock.iso(moment)
    if status is not None and 200 <= status < 300:
        events.record_attempt(
            ref, message.webhook, DeliveryAttempt(stamp, status, None, None, preview), "delivered"
        )
        return DELIVERED
    error = error or f"the receiver answered HTTP {status}"
    wait = backoff_seconds(len(delivery.attempts) + 1)
    next_at = moment + timedelta(seconds=wait)
    if secret is None or next_at - clock.parse_iso(ref.occurred_at) > GIVE_UP_AFTER:
        events.record_attempt(
            ref, message.webhook, DeliveryAttempt(stamp, status, error, None, preview), "failed"
        )
        return GIVEN_UP
    attempt = DeliveryAttempt(stamp, status, error, clock.iso(next_at), preview)
    events.record_attempt(ref, message.webhook, attempt, "pending")
    return Outcome(delivered=False, retry_in=wait)
