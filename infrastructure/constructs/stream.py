"""The stream consumer: process_stream learns step statistics (what ETAs are computed from), keeps
each workflow's last execution, and publishes events (EventBridge, webhooks), from the table's stream.

Partial batch responses report only the failing records; a failing batch is bisected so one
poison record cannot hold back the others, and after the retry limit it is parked in the
failed-events queue (the record's stream position, for replay) instead of blocking the shard.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infrastructure import stream_mapping as mapping
from infrastructure.constants import STREAM_CONSUMER_TIMEOUT_SECONDS
from infrastructure.constructs.data import Data
from infrastructure.constructs.failures import FailedEventsQueue
from infrastructure.constructs.functions import FunctionFactory
from infrastructure.constructs.notifications import Notifications
from infrastructure.routes import STREAM_FUNCTION


class StreamConsumer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        functions: FunctionFactory,
        failures: FailedEventsQueue,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.create(
            self,
            STREAM_FUNCTION,
            environment=notifications.environment,
            timeout=Duration.seconds(STREAM_CONSUMER_TIMEOUT_SECONDS),
        )
        data.grant_read(self.function.role)
        # Statistics and event records are conditional puts; marks and last executions, updates.
        data.grant_writes(self.function.role, ("dynamodb:PutItem", "dynamodb:UpdateItem"))
        notifications.grant_publish(self.function.role)
        self.event_source = sources.DynamoEventSource(
            data.table,
            starting_position=lambda_.StartingPosition(mapping.STARTING_POSITION),
            batch_size=mapping.BATCH_SIZE,
            max_batching_window=Duration.seconds(mapping.BATCHING_WINDOW_SECONDS),
            parallelization_factor=mapping.PARALLELIZATION_FACTOR,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            retry_attempts=mapping.RETRY_ATTEMPTS,
            max_record_age=Duration.hours(mapping.MAX_RECORD_AGE_HOURS),
            on_failure=sources.SqsDlq(failures.queue),
            filters=[
                lambda_.FilterCriteria.filter(
                    {
                        "dynamodb": {
                            "NewImage": {
                                name: {"S": lambda_.FilterRule.or_(*values)}
                                for name, values in pattern.items()
                            }
                        }
                    }
                )
                for pattern in mapping.NEW_IMAGE_PATTERNS
            ],
        )
        self.function.function.add_event_source(self.event_source)
