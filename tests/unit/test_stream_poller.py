"""The local event source mapping's delivery rules, with a scripted function (no AWS)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from execution_monitor.store.dynamodb.items import completed_step_from_image
from infrastructure.local.stream_poller import MappingSettings, StreamPoller, new_image_filter

EVENTS = Path(__file__).resolve().parents[1] / "events"


def records(count: int) -> list[dict[str, Any]]:
    return [
        {
            "eventID": str(number),
            "eventName": "MODIFY",
            "dynamodb": {"SequenceNumber": f"{100 + number}", "ApproximateCreationDateTime": 1_700_000_000},
        }
        for number in range(count)
    ]


class ScriptedFunction:
    """Fails the records whose sequence numbers are poison, like Powertools' partial responses."""

    def __init__(self, poison: set[str], raise_instead: bool = False) -> None:
        self.poison = poison
        self.raise_instead = raise_instead
        self.calls: list[list[str]] = []
        self.succeeded: list[str] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        sequences = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.calls.append(sequences)
        failed = [sequence for sequence in sequences if sequence in self.poison]
        if failed and self.raise_instead:
            raise RuntimeError("function error")
        self.succeeded.extend(sequence for sequence in sequences if sequence not in self.poison)
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


def poller(function: Any, parked: list[Any], **settings: Any) -> StreamPoller:
    return StreamPoller(
        streams_client=None,
        stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        invoke=function,
        settings=MappingSettings(retry_delay_seconds=0, **settings),
        on_failure=lambda failure, batch: parked.append(
            (failure, [r["dynamodb"]["SequenceNumber"] for r in batch])
        ),
    )


@pytest.mark.parametrize("raise_instead", [False, True], ids=["partial-response", "function-error"])
def test_given_a_poison_record_when_delivered_then_it_alone_is_retried_and_parked_and_the_rest_succeeds(
    raise_instead: bool,
) -> None:
    function = ScriptedFunction({"105"}, raise_instead=raise_instead)
    parked: list[Any] = []

    poller(function, parked, retry_attempts=2).deliver("shard-1", records(10))

    assert [batch for _, batch in parked] == [["105"]]
    failure = parked[0][0]
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert set(function.succeeded) == {str(100 + n) for n in range(10)} - {"105"}
    assert function.calls[0] == [str(100 + n) for n in range(10)]
    assert function.calls.count(["105"]) == 3
    first_success = [function.succeeded.index(s) for s in ("100", "104", "106", "109")]
    assert first_success == sorted(first_success)  # records keep their order


def test_given_bisect_off_when_a_batch_keeps_failing_then_all_from_the_failure_is_parked() -> None:
    function = ScriptedFunction({"102"})
    parked: list[Any] = []

    poller(function, parked, retry_attempts=1, bisect_batch_on_error=False).deliver("shard-1", records(4))

    assert [batch for _, batch in parked] == [["102", "103"]]
    assert function.calls == [["100", "101", "102", "103"], ["102", "103"]]


def test_given_an_unknown_item_identifier_when_returned_then_the_whole_batch_counts_as_failed() -> None:
    calls: list[int] = []

    def function(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        return (
            {"batchItemFailures": [{"itemIdentifier": ""}]} if len(calls) == 1 else {"batchItemFailures": []}
        )

    poller(function, [], retry_attempts=1, bisect_batch_on_error=False).deliver("shard-1", records(3))

    assert calls == [3, 3]


def test_given_the_sample_stream_event_when_filtered_then_steps_and_headers_pass_and_statistics_do_not() -> (
    None
):
    event = json.loads((EVENTS / "dynamodb-stream-step-completed.json").read_text())

    selected = [record for record in event["Records"] if new_image_filter()(record)]

    assert [record["dynamodb"]["Keys"]["sk"]["S"] for record in selected] == ["EXEC", "STEP#0001", "EXEC"]
    image = {
        name: TypeDeserializer().deserialize(value)
        for name, value in selected[1]["dynamodb"]["NewImage"].items()
    }
    step = completed_step_from_image(image)
    assert step is not None and (step.action_id, step.attempt, step.wall_ms) == ("fetch", 1, 1900)


class ScriptedStream:
    """A DynamoDB Streams client over one shard holding `records` (hash key `pk`)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
        return {"StreamDescription": {"KeySchema": schema, "Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        return {"Records": self.records[start : start + Limit], "NextShardIterator": str(start + Limit)}


def partition_records(partitions: list[str], per_partition: int) -> list[dict[str, Any]]:
    """Records of several partitions interleaved, as a table's stream mixes them."""
    interleaved = [(partition, number) for number in range(per_partition) for partition in partitions]
    return [
        {
            "eventID": f"{partition}-{number}",
            "eventName": "MODIFY",
            "dynamodb": {
                "Keys": {"pk": {"S": partition}, "sk": {"S": str(number)}},
                "SequenceNumber": str(1000 + position),
            },
        }
        for position, (partition, number) in enumerate(interleaved)
    ]


class Overlapping:
    """Answers each batch once a second batch is in flight too (or gives up after `patience`)."""

    def __init__(self, patience: float = 10.0) -> None:
        self.condition = threading.Condition()
        self.in_flight = 0
        self.most_in_flight = 0
        self.patience = patience
        self.delivered: list[str] = []

    @property
    def overlapped(self) -> bool:
        return self.most_in_flight > 1

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.condition:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.condition.notify_all()
            self.condition.wait_for(lambda: self.overlapped, self.patience)
            self.delivered.extend(record["eventID"] for record in event["Records"])
        with self.condition:
            self.in_flight -= 1
        return {"batchItemFailures": []}


def test_given_lanes_when_partitions_are_due_then_lanes_run_at_once_each_in_order() -> None:
    # Given eight partitions' records interleaved in one shard, and four lanes
    partitions = [f"EXEC#{index}" for index in range(8)]
    function = Overlapping()
    poller = StreamPoller(
        ScriptedStream(partition_records(partitions, per_partition=5)),
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        function,
        settings=MappingSettings(
            parallelization_factor=4, max_batching_window_seconds=0, poll_interval_seconds=0
        ),
    )
    # When the poller delivers them
    poller.poll_until_idle(max_rounds=5)
    # Then batches were in flight at the same time, every record was delivered once,
    # and each partition's records arrived in their stream order
    assert function.overlapped
    assert sorted(function.delivered) == sorted(f"{p}-{n}" for p in partitions for n in range(5))
    for partition in partitions:
        mine = [event_id for event_id in function.delivered if event_id.startswith(f"{partition}-")]
        assert mine == [f"{partition}-{number}" for number in range(5)]


def test_given_one_partition_when_more_than_a_batch_is_due_then_batches_follow_each_other_in_order() -> None:
    # Given 250 records of one partition, four lanes and batches of 100
    calls: list[list[str]] = []

    def function(event: dict[str, Any]) -> dict[str, Any]:
        calls.append([record["eventID"] for record in event["Records"]])
        return {"batchItemFailures": []}

    poller = StreamPoller(
        ScriptedStream(partition_records(["EXEC#1"], per_partition=250)),
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        function,
        settings=MappingSettings(
            parallelization_factor=4, max_batching_window_seconds=0, poll_interval_seconds=0
        ),
    )
    # When the poller delivers them
    poller.poll_until_idle(max_rounds=10)
    # Then they go as full batches, one after the other, in stream order
    assert [len(batch) for batch in calls] == [100, 100, 50]
    assert [event_id for batch in calls for event_id in batch] == [
        f"EXEC#1-{number}" for number in range(250)
    ]


def test_given_the_failure_destination_fails_once_then_the_lanes_undelivered_records_are_not_lost() -> None:
    # Given four lanes, one poison record, and a failure destination that is down once
    partitions = [f"EXEC#{index}" for index in range(8)]
    stream = partition_records(partitions, per_partition=3)
    poison = stream[5]["dynamodb"]["SequenceNumber"]
    function = ScriptedFunction({poison})
    parked: list[list[str]] = []
    outages = [ConnectionError("the queue is unreachable")]

    def park(failure: dict[str, Any], batch: list[dict[str, Any]]) -> None:
        if outages:
            raise outages.pop()
        parked.append([record["dynamodb"]["SequenceNumber"] for record in batch])

    poller = StreamPoller(
        ScriptedStream(stream),
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
        function,
        settings=MappingSettings(
            parallelization_factor=4,
            max_batching_window_seconds=0,
            poll_interval_seconds=0,
            retry_attempts=0,
            retry_delay_seconds=0,
        ),
        on_failure=park,
    )
    # When a round fails on the destination, and the poller goes on
    with pytest.raises(ConnectionError):
        poller.poll_once(flush=True)
    poller.poll_until_idle(max_rounds=5)
    # Then every other record was delivered, and the poison one parked, once
    others = {record["dynamodb"]["SequenceNumber"] for record in stream} - {poison}
    assert others <= set(function.succeeded)
    assert parked == [[poison]]
