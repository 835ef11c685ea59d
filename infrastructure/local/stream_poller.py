"""A local DynamoDB Streams event source mapping: what AWS Lambda does for process_stream.

It polls every shard of a table's stream (DescribeStream / GetShardIterator / GetRecords), keeps
the records the mapping's filter selects, batches them (batch size + batching window), invokes a
function with the event Lambda would send, and handles failures like a mapping with
ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts and an on-failure
destination:

- `batchItemFailures` checkpoints before the lowest failed sequence number; the rest is retried.
- A failed batch is split in two (bisect) until the failing record is alone; that record is
  retried `max_retry_attempts` times, then its batch info goes to the on-failure destination (the
  local DLQ) and the shard moves on. Everything else in the batch is processed: nothing is lost.
- A function that raises fails the whole batch (Lambda's function error).
- With a parallelization factor N, what is due is split into up to N lanes by partition key and
  the lanes are delivered at the same time, each in order: records of one partition stay in order.

moto's own event source mapping is not used: it calls the function synchronously inside
`put_item`, ignores filters and batch size, and drops failures.

Start it with `start_stream_poller(...)` (the local runtime does), or drive `poll_until_idle()`
synchronously in a test.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import zlib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infrastructure import stream_mapping as mapping
from infrastructure.local.aws import ACCOUNT_ID
from infrastructure.local.events import LambdaContext
from infrastructure.routes import STREAM_FUNCTION
from infrastructure.stream_mapping import RecordFilter, lambda_record, new_image_filter

log = logging.getLogger("infrastructure.local.stream_poller")

Invoke = Callable[[dict[str, Any]], Any]
OnFailure = Callable[[dict[str, Any], list[dict[str, Any]]], None]
Checkpoint = Callable[[str, str], None]  # (shard id, sequence number of the last record read)


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's knobs, named like CDK's DynamoEventSource props."""

    batch_size: int = 100
    max_batching_window_seconds: float = 0.5
    parallelization_factor: int = 1
    retry_attempts: int = 3
    bisect_batch_on_error: bool = True
    starting_position: str = "TRIM_HORIZON"
    poll_interval_seconds: float = 0.1
    retry_delay_seconds: float = 0.05
    shard_refresh_seconds: float = 5.0


# What the CDK stack configures for process_stream (keep the two in step). AWS counts bisection
# retries against retry_attempts; 10 lets a 100-record batch narrow to the failing record (7 halvings).
STREAM_MAPPING = MappingSettings(
    batch_size=mapping.BATCH_SIZE,
    max_batching_window_seconds=mapping.BATCHING_WINDOW_SECONDS,
    parallelization_factor=mapping.PARALLELIZATION_FACTOR,
    retry_attempts=mapping.RETRY_ATTEMPTS,
    starting_position=mapping.STARTING_POSITION,
)


def read_stream(streams_client: Any, stream_arn: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """Every record now in the stream, oldest first, as Lambda event records (tests, benchmarks)."""
    description = streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    records: list[dict[str, Any]] = []
    for shard in description.get("Shards", []):
        iterator = streams_client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams_client.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(lambda_record(record, stream_arn, region) for record in page["Records"])
            iterator = page.get("NextShardIterator")
    return records


def handler_invoker(handler: Callable[[dict[str, Any], Any], Any], function_name: str) -> Invoke:
    """Calls a Lambda handler in-process with a fresh context per invocation."""

    def invoke(event: dict[str, Any]) -> Any:
        return handler(event, LambdaContext(function_name=function_name, timeout_ms=60_000))

    return invoke


def sqs_on_failure(sqs_client: Any, queue_url: str) -> OnFailure:
    """The on-failure destination: the failure record Lambda sends, as one SQS message."""

    def send(failure: dict[str, Any], records: list[dict[str, Any]]) -> None:
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(failure))

    return send


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    last_sequence: str | None = None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    first_buffered_at: float = 0.0
    closed: bool = False


@dataclass(frozen=True)
class _LaneOutcome:
    undelivered: list[dict[str, Any]]
    error: Exception


@dataclass
class PollerCounters:
    invocations: int = 0
    records_delivered: int = 0
    records_filtered_out: int = 0
    records_parked: int = 0
    batches_parked: int = 0


class StreamPoller:
    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        invoke: Invoke,
        *,
        settings: MappingSettings = STREAM_MAPPING,
        record_filter: RecordFilter | None = None,
        on_failure: OnFailure | None = None,
        function_arn: str = "",
        region: str = "us-east-1",
        on_checkpoint: Checkpoint | None = None,
    ) -> None:
        self.client = streams_client
        self.stream_arn = stream_arn
        self.invoke = invoke
        self.settings = settings
        self.record_filter = record_filter
        self.on_failure = on_failure
        self.function_arn = function_arn
        self.region = region
        self.on_checkpoint = on_checkpoint
        self.counters = PollerCounters()
        self._counting = threading.Lock()  # lanes count from their own threads
        self._hash_key: str | None = None
        self._shards: dict[str, _Shard] = {}
        self._shards_refreshed_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round = 0
        self._round_was_idle = False
        self._rounds = threading.Condition()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> StreamPoller:
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Waits (background mode) until a whole poll round that began after this call found nothing."""
        deadline = time.monotonic() + timeout
        with self._rounds:
            target = self._round + 2
            while not (self._round >= target and self._round_was_idle):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._rounds.wait(remaining):
                    return False
                if self._round >= target and not self._round_was_idle:
                    target = self._round + 1
        return True

    def poll_until_idle(self, max_rounds: int = 10_000) -> int:
        """Synchronous mode: polls until nothing is left to read or deliver; returns records read."""
        total = 0
        for _ in range(max_rounds):
            read = self.poll_once(flush=True)
            total += read
            if read == 0 and not any(shard.buffer for shard in self._shards.values()):
                return total
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                read = self.poll_once()
            except Exception:
                log.exception("stream poll failed; retrying")
                read = 0
            idle = read == 0 and not any(shard.buffer for shard in self._shards.values())
            with self._rounds:
                self._round += 1
                self._round_was_idle = idle
                self._rounds.notify_all()
            if read == 0:
                self._stop.wait(self.settings.poll_interval_seconds)

    # -- one round -------------------------------------------------------------------------------

    def poll_once(self, *, flush: bool = False) -> int:
        """Reads each shard once and delivers every batch that is due; returns the records read."""
        self._refresh_shards()
        read = 0
        for shard in list(self._shards.values()):
            read += self._read(shard)
            self._deliver_due(shard, flush=flush)
            if shard.closed and not shard.buffer:
                del self._shards[shard.shard_id]
        return read

    def _refresh_shards(self) -> None:
        now = time.monotonic()
        if now - self._shards_refreshed_at < self.settings.shard_refresh_seconds:
            return
        self._shards_refreshed_at = now
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        self._hash_key = next(
            (key["AttributeName"] for key in description.get("KeySchema", []) if key["KeyType"] == "HASH"),
            None,
        )
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._shards:
                continue
            iterator = self.client.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.settings.starting_position
            )["ShardIterator"]
            self._shards[shard_id] = _Shard(shard_id, iterator)

    def _read(self, shard: _Shard) -> int:
        if shard.closed or shard.iterator is None or len(shard.buffer) >= self._capacity:
            return 0
        try:
            page = self.client.get_records(
                ShardIterator=shard.iterator, Limit=min(1000, self._capacity - len(shard.buffer))
            )
        except self.client.exceptions.ExpiredIteratorException:
            shard.iterator = self._iterator_after(shard)
            return self._read(shard)  # a fresh iterator: read on in this round
        shard.iterator = page.get("NextShardIterator")
        if shard.iterator is None:
            shard.closed = True
        records = page.get("Records", [])
        if records:
            shard.last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
            if self.on_checkpoint is not None:
                # Read records are held here until delivered: the stream no longer needs them.
                self.on_checkpoint(shard.shard_id, shard.last_sequence)
        kept = [lambda_record(record, self.stream_arn, self.region) for record in records]
        if self.record_filter is not None:
            selected = [record for record in kept if self.record_filter(record)]
            self.counters.records_filtered_out += len(kept) - len(selected)
            kept = selected
        if kept and not shard.buffer:
            shard.first_buffered_at = time.monotonic()
        shard.buffer.extend(kept)
        return len(records)

    def _iterator_after(self, shard: _Shard) -> str:
        request = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if shard.last_sequence is None:
            request["ShardIteratorType"] = self.settings.starting_position
        else:
            request.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=shard.last_sequence)
        return str(self.client.get_shard_iterator(**request)["ShardIterator"])

    @property
    def _capacity(self) -> int:
        """Records one round delivers at most: a full batch per lane."""
        return self.settings.batch_size * self.settings.parallelization_factor

    def _deliver_due(self, shard: _Shard, *, flush: bool) -> None:
        window_over = time.monotonic() - shard.first_buffered_at >= self.settings.max_batching_window_seconds
        while len(shard.buffer) >= self.settings.batch_size or (shard.buffer and (flush or window_over)):
            due, shard.buffer = shard.buffer[: self._capacity], shard.buffer[self._capacity :]
            shard.first_buffered_at = time.monotonic()
            self._deliver_in_lanes(shard, due)

    def _deliver_in_lanes(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        """Splits `records` by partition key into up to N lanes, each delivered in order, all at once.

        A lane that raises (the failure destination could not be reached, say) stops there; what it
        had not delivered goes back to the front of the buffer, and the error is raised here.
        """
        lanes: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        for record in records:
            lanes[self._lane(record)].append(record)
        outcomes: list[_LaneOutcome] = []
        if len(lanes) == 1:
            self._deliver_lane(shard.shard_id, records, outcomes)
        else:
            lanes_running = [
                # Daemon threads, not a pool: a lane stuck in an invocation must not hold up the exit.
                threading.Thread(
                    target=self._deliver_lane,
                    args=(shard.shard_id, lane, outcomes),
                    name="stream-lane",
                    daemon=True,
                )
                for lane in lanes.values()
            ]
            for lane in lanes_running:
                lane.start()
            for lane in lanes_running:
                lane.join()
        if outcomes:
            undelivered = sorted(
                (record for outcome in outcomes for record in outcome.undelivered),
                key=lambda record: int(record["dynamodb"]["SequenceNumber"]),
            )
            shard.buffer = undelivered + shard.buffer
            raise outcomes[0].error

    def _deliver_lane(
        self, shard_id: str, records: list[dict[str, Any]], outcomes: list[_LaneOutcome]
    ) -> None:
        size = self.settings.batch_size
        for start in range(0, len(records), size):
            try:
                self.deliver(shard_id, records[start : start + size])
            except Exception as error:
                outcomes.append(_LaneOutcome(records[start:], error))  # list.append is atomic
                return

    def _lane(self, record: dict[str, Any]) -> int:
        factor = self.settings.parallelization_factor
        if factor == 1 or self._hash_key is None:
            return 0
        partition = record["dynamodb"].get("Keys", {}).get(self._hash_key)
        return zlib.crc32(json.dumps(partition, sort_keys=True).encode()) % factor

    # -- delivery with partial failures, bisection, retries and the DLQ --------------------------

    def deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Invokes until every record succeeded or was parked; records stay in order."""
        pending: deque[tuple[list[dict[str, Any]], int]] = deque([(records, 0)])
        while pending:
            batch, retries = pending.popleft()
            failed_from, function_error = self._invoke(batch)
            if failed_from is None:
                continue
            remaining = batch[failed_from:]
            if self.settings.bisect_batch_on_error and len(remaining) > 1:
                middle = len(remaining) // 2
                pending.appendleft((remaining[middle:], retries))
                pending.appendleft((remaining[:middle], retries))
            elif retries >= self.settings.retry_attempts:
                self._park(shard_id, remaining, retries + 1, function_error)
            else:
                time.sleep(self.settings.retry_delay_seconds)
                pending.appendleft((remaining, retries + 1))

    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """(index of the first record to retry, or None when all succeeded; was it a function error)."""
        with self._counting:
            self.counters.invocations += 1
        try:
            response = self.invoke({"Records": batch})
        except Exception:
            log.exception("%d-record batch failed as a whole", len(batch))
            return 0, True
        failures = (response or {}).get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            with self._counting:
                self.counters.records_delivered += len(batch)
            return None, False
        positions = {record["dynamodb"]["SequenceNumber"]: index for index, record in enumerate(batch)}
        identifiers = [failure.get("itemIdentifier") for failure in failures]
        if any(identifier not in positions for identifier in identifiers):
            return 0, False  # an unknown or empty identifier: Lambda treats the batch as failed
        first = min(positions[identifier] for identifier in identifiers)
        with self._counting:
            self.counters.records_delivered += first
        return first, False

    def _park(
        self, shard_id: str, records: list[dict[str, Any]], invocations: int, function_error: bool
    ) -> None:
        with self._counting:
            self.counters.records_parked += len(records)
            self.counters.batches_parked += 1
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        failure = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if function_error else None,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _arrival(first),
                "approximateArrivalOfLastRecord": _arrival(last),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        log.warning(
            "parked %d stream record(s) %s..%s after %d invocations",
            len(records),
            first["SequenceNumber"],
            last["SequenceNumber"],
            invocations,
        )
        if self.on_failure is not None:
            self.on_failure(failure, records)


def _arrival(stream_record: dict[str, Any]) -> str | None:
    created = stream_record.get("ApproximateCreationDateTime")
    if created is None:
        return None
    return datetime.fromtimestamp(float(created), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def start_stream_poller(
    session: Any,
    table_name: str,
    dlq_url: str,
    *,
    settings: MappingSettings = STREAM_MAPPING,
    on_checkpoint: Checkpoint | None = None,
) -> StreamPoller:
    """The process_stream mapping of the local runtime: started in a thread, stop() it on exit."""
    from process_stream.handler import lambda_handler

    stream_arn = session.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    poller = StreamPoller(
        session.client("dynamodbstreams"),
        stream_arn,
        handler_invoker(lambda_handler, STREAM_FUNCTION),
        settings=settings,
        record_filter=new_image_filter(),
        on_failure=sqs_on_failure(session.client("sqs"), dlq_url),
        function_arn=f"arn:aws:lambda:{session.region_name}:{ACCOUNT_ID}:function:{STREAM_FUNCTION}",
        region=session.region_name or "us-east-1",
        on_checkpoint=on_checkpoint,
    )
    return poller.start()
