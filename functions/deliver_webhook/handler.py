"""deliver_webhook: the webhook queue in, signed POSTs out. A failed attempt keeps its message,
hidden for the backoff (ChangeMessageVisibility), and reports it failed; one given up (24 h after
its event) goes to the dead-letter queue."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from execution_monitor import metric_names as names
from execution_monitor import observability
from execution_monitor.aws import client
from execution_monitor.notifications import DeliveryMessage
from execution_monitor.observability import instrumented, logger
from execution_monitor.settings import ActionSettings, TableSettings, WebhookSettings
from execution_monitor.store import default_store
from execution_monitor.webhooks import deliver

TableSettings.load()
ActionSettings.load()
WebhookSettings.load()


class RetryLater(Exception):
    """Reported as a batch item failure: the message comes back after its new visibility timeout."""


def deliver_one(record: SQSRecord) -> str:
    message = DeliveryMessage.from_json(record.body)
    store = default_store()
    outcome = deliver(message, store.events, store.workflows)
    observability.count(names.WEBHOOK_DELIVERIES, dimensions={names.OUTCOME_DIMENSION: outcome.name})
    if outcome.retry_in is not None:
        client("sqs").change_message_visibility(
            QueueUrl=WebhookSettings.load().webhook_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=outcome.retry_in,
        )
        raise RetryLater(
            f"delivery of {message.event_id} to webhook {message.webhook} fails; next in {outcome.retry_in}s"
        )
    if not outcome.delivered:
        client("sqs").send_message(QueueUrl=WebhookSettings.load().webhook_dlq_url, MessageBody=record.body)
        logger.warning("webhook delivery given up", extra={"event_id": message.event_id})
        return "given up"
    return "delivered"


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=deliver_one, processor=processor, context=context
        )
    )
