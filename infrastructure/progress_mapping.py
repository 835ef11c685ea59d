"""The update_progress stream mapping as plain data: CDK's DynamoEventSource and the local stream
poller are both built from it, so `make dev` batches, retries and filters as AWS does."""

from __future__ import annotations

from execution_monitor.store import keys

BATCH_SIZE = 100
BATCHING_WINDOW_SECONDS = 1  # whole seconds: Lambda's MaximumBatchingWindowInSeconds is an integer
RETRY_ATTEMPTS = 10  # enough halvings for bisection to isolate one record of a batch of 100
STARTING_POSITION = "TRIM_HORIZON"
MAX_RECORD_AGE_HOURS = 6
# Only step and execution items move progress; workflows, statistics and idempotency claims do not.
ITEM_TYPES = (keys.ITEM_STEP, keys.ITEM_EXECUTION)
