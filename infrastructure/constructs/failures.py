"""Where events that could not be processed are parked for inspection and replay (one queue)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infrastructure.constants import FAILED_EVENTS_RETENTION_DAYS
from infrastructure.nag import acknowledge


class FailedEventsQueue(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(FAILED_EVENTS_RETENTION_DAYS),
        )
        acknowledge(
            self.queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination (EventBridge target, stream consumer); "
            "a dead-letter queue of a dead-letter queue would only hide failures.",
        )
