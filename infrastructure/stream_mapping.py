"""The process_stream stream mapping as plain data: CDK's DynamoEventSource and the local stream
poller are both built from it, so `make dev` batches, retries and filters as AWS does."""

from __future__ import annotations

from execution_monitor.domain.status import StepStatus
from execution_monitor.store.dynamodb import keys

BATCH_SIZE = 100
BATCHING_WINDOW_SECONDS = 1  # whole seconds: Lambda's MaximumBatchingWindowInSeconds is an integer
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
