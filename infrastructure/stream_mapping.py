"""The process_stream stream mapping as plain data: CDK's DynamoEventSource and the local stream
poller are both built from it, so `make dev` batches, retries and filters as AWS does. The filter
as a predicate and the Lambda event record shape are here too: the local poller and the redrive
tool (infrastructure/redrive.py, replaying a parked window) both use them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from execution_monitor.domain.status import StepStatus
from execution_monitor.store.dynamodb import keys

BATCH_SIZE = 100
BATCHING_WINDOW_SECONDS = 1  # whole seconds: Lambda's MaximumBatchingWindowInSeconds is an integer
# Batches of one shard processed at once, each holding whole partitions (order is kept per partition
# key): the consumer waits on DynamoDB most of its time, so lanes multiply what a shard can carry.
PARALLELIZATION_FACTOR = 4
RETRY_ATTEMPTS = 10  # enough halvings for bisection to isolate one record of a batch of 100
STARTING_POSITION = "TRIM_HORIZON"
MAX_RECORD_AGE_HOURS = 6
# The records the function is invoked for: one filter pattern each (a record passes when its NewImage
# matches any pattern: every attribute named, with one of the string values given). Completed steps
# carry what the statistics learn from, failed ones are events; every header change may be one (or
# a new last execution of its workflow).
NEW_IMAGE_PATTERNS: tuple[dict[str, tuple[str, ...]], ...] = (
    {"type": (keys.ITEM_STEP,), "status": (StepStatus.COMPLETED.value, StepStatus.FAILED.value)},
    {"type": (keys.ITEM_EXECUTION,)},
)

RecordFilter = Callable[[dict[str, Any]], bool]


def new_image_filter(
    patterns: Iterable[dict[str, tuple[str, ...]]] = NEW_IMAGE_PATTERNS,
) -> RecordFilter:
    """The mapping's filters `{"dynamodb": {"NewImage": {name: {"S": [...]}}}}` as one predicate."""
    wanted = tuple(patterns)

    def matches(record: dict[str, Any]) -> bool:
        new_image = (record.get("dynamodb") or {}).get("NewImage") or {}
        return any(
            all((new_image.get(name) or {}).get("S") in values for name, values in pattern.items())
            for pattern in wanted
        )

    return matches


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record (as boto3 returns it) in the shape a Lambda stream event carries."""
    stream_record = dict(record["dynamodb"])
    created = stream_record.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream_record["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record.get("eventID", uuid.uuid4().hex),
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": stream_record,
        "eventSourceARN": stream_arn,
    }
