"""The local event source mapping's delivery rules, with a scripted function (no AWS)."""

from __future__ import annotations

import json
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
