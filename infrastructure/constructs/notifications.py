"""Events out: the EventBridge bus every event is published to, and webhook deliveries through a
queue (retries with backoff for up to 24 h, then a dead-letter queue) by deliver_webhook."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infrastructure.constants import (
    EVENT_BUS_NAME,
    WEBHOOK_BATCH_SIZE,
    WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
    WEBHOOK_MAX_RECEIVES,
    WEBHOOK_RETENTION_DAYS,
)
from infrastructure.constructs.data import Data
from infrastructure.constructs.functions import FunctionFactory
from infrastructure.nag import acknowledge
from infrastructure.routes import WEBHOOK_FUNCTION


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        functions: FunctionFactory,
        http_allowed_networks: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=EVENT_BUS_NAME)
        self.dead_letters = sqs.Queue(
            self,
            "WebhookDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(WEBHOOK_RETENTION_DAYS),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of webhook deliveries given up after 24 hours.",
        )
        self.queue = sqs.Queue(
            self,
            "WebhookDeliveries",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Longer than the deliverer may run, so a message is never delivered twice at once.
            visibility_timeout=Duration.seconds(6 * WEBHOOK_DELIVERY_TIMEOUT_SECONDS),
            retention_period=Duration.days(WEBHOOK_RETENTION_DAYS),
            # The deliverer gives up after 24 h itself; this is the backstop for a poison message.
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=WEBHOOK_MAX_RECEIVES
            ),
        )
        self.deliverer = functions.create(
            self,
            WEBHOOK_FUNCTION,
            environment={
                "WEBHOOK_QUEUE_URL": self.queue.queue_url,
                "WEBHOOK_DLQ_URL": self.dead_letters.queue_url,
                # Webhook URLs pass the same SSRF guard as http_request actions, with the same allowances.
                "HTTP_ACTION_ALLOWED_NETWORKS": http_allowed_networks,
            },
            timeout=Duration.seconds(WEBHOOK_DELIVERY_TIMEOUT_SECONDS),
        )
        role = self.deliverer.role
        data.grant_read(role)
        data.grant_writes(role, ("dynamodb:UpdateItem",))  # each attempt, on the event's record
        iam.Grant.add_to_principal(
            grantee=role, actions=["sqs:ChangeMessageVisibility"], resource_arns=[self.queue.queue_arn]
        )
        self.dead_letters.grant_send_messages(role)
        self.deliverer.function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=WEBHOOK_BATCH_SIZE, report_batch_item_failures=True)
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """What the stream consumer needs: put events on the bus, queue deliveries."""
        self.bus.grant_put_events_to(grantee)
        self.queue.grant_send_messages(grantee)

    @property
    def environment(self) -> dict[str, str]:
        return {"EVENT_BUS_NAME": self.bus.event_bus_name, "WEBHOOK_QUEUE_URL": self.queue.queue_url}
