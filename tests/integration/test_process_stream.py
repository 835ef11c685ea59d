"""process_stream on moto: real stream records from the table, the real handler, the local poller.

Progress and ETA move with each engine transition (tests/unit/test_progress.py); the stream
consumer learns step durations for the next executions' estimates, from each completed step's own
record, never re-reading an execution.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from execution_monitor.domain.statistics import StepStats
from execution_monitor.statistics_updater import StatisticsUpdater
from execution_monitor.store.dynamodb import DynamoStore
from infrastructure.local.stream_poller import (
    MappingSettings,
    StreamPoller,
    new_image_filter,
    read_stream,
    sqs_on_failure,
)
from process_stream import handler as process_stream
from tests.bench.stream_bench import (
    COMPLETED_STEPS,
    STEP_MS,
    STEPS,
    WORKFLOW,
    WORKSPACE,
    HeaderWriteCounter,
    seed_executions,
)
from tests.helpers import LambdaContext, api_event, call
from tests.integration.conftest import TABLE, RequestCounter
from tests.integration.test_engine import finished, put, start, wait_for

ACTION_IDS = [f"step{index}" for index in range(STEPS)]


def stream_arn() -> str:
    return str(boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"])


def completed_step_records() -> list[dict[str, Any]]:
    """The completed steps' records among those the mapping delivers."""
    records = read_stream(boto3.client("dynamodbstreams"), stream_arn())
    return [
        record
        for record in records
        if new_image_filter()(record) and record["dynamodb"]["NewImage"]["type"]["S"] == "step"
    ]


def handle(records: list[dict[str, Any]]) -> dict[str, Any]:
    return process_stream.lambda_handler({"Records": records}, LambdaContext())


def statistics(store: DynamoStore) -> dict[str, StepStats]:
    return store.statistics.get_step_stats(WORKSPACE, WORKFLOW, ACTION_IDS)


def poisoned(record: dict[str, Any]) -> dict[str, Any]:
    """The record with an action definition no reader can parse: it can never be folded."""
    copy = json.loads(json.dumps(record))
    copy["dynamodb"]["NewImage"]["action"] = {"S": "{not json"}
    copy["dynamodb"]["SequenceNumber"] = "poison-" + record["dynamodb"]["SequenceNumber"]
    return copy


def test_given_running_executions_when_listed_then_progress_and_eta_come_from_the_header_alone(
    store: DynamoStore, dynamodb_requests: RequestCounter
) -> None:
    from list_executions import handler as list_handler

    ids = seed_executions(store, executions=3)
    dynamodb_requests.reset()

    status, _, body = call(
        list_handler,
        api_event(
            "GET", f"/api/workspaces/{WORKSPACE}/workflows/{WORKFLOW}/executions", workspaces=(WORKSPACE,)
        ),
    )

    assert status == 200
    assert dynamodb_requests.calls == ["Query"]  # one index page: no step item is read
    listed = {execution["id"]: execution for execution in body["executions"]}
    assert set(listed) == set(ids)
    for execution in listed.values():
        progress = execution["progress"]
        assert (progress["completedSteps"], progress["totalSteps"], progress["percentage"]) == (3, 5, 60)
        # Nothing learned yet: the two steps left are expected to take the execution's own mean.
        assert progress["estimatedTimeRemaining"] == 2 * STEP_MS
        assert progress["estimatedCompletionAt"] > execution["updatedAt"]
        assert execution.get("actionResults") is None


def test_given_completed_steps_when_handled_then_each_attempt_is_counted_once_and_no_header_is_written(
    store: DynamoStore, dynamodb: Any
) -> None:
    seed_executions(store, executions=4)
    records = completed_step_records()
    assert len(records) == 4 * COMPLETED_STEPS
    writes = HeaderWriteCounter(dynamodb)

    assert handle(records) == {"batchItemFailures": []}

    assert writes.count == 0
    learned = statistics(store)
    assert {action_id: stats.count for action_id, stats in learned.items()} == {
        f"step{index}": 4 for index in range(COMPLETED_STEPS)
    }
    assert {stats.typical_ms for stats in learned.values()} == {STEP_MS}


def test_given_handled_records_when_replayed_duplicated_or_reversed_then_the_statistics_do_not_change(
    store: DynamoStore,
) -> None:
    seed_executions(store, executions=3)
    records = completed_step_records()
    handle(records)
    before = statistics(store)

    handle(records)  # replayed
    handle(records[::-1])  # reversed
    handle([record for record in records for _ in range(2)])  # every record twice
    handle(completed_step_records())  # including the marks' own records coming back

    assert statistics(store) == before


def test_given_a_mark_lost_after_the_statistics_write_when_replayed_then_the_attempt_counts_once(
    store: DynamoStore, monkeypatch: Any
) -> None:
    seed_executions(store, executions=1)
    records = completed_step_records()
    monkeypatch.setattr(store.statistics, "mark_step_folded", lambda step: True)  # a crash before the mark
    updater = StatisticsUpdater(store.statistics)
    for record in records:
        updater.handle(_typed(record))
    monkeypatch.undo()

    handle(records)

    assert {stats.count for stats in statistics(store).values()} == {1}


def _typed(record: dict[str, Any]) -> Any:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    return DynamoDBRecord(record)


def test_given_two_consumers_folding_one_action_at_once_then_both_attempts_are_counted(
    store: DynamoStore,
) -> None:
    seed_executions(store, executions=2)
    first, second = [r for r in completed_step_records() if r["dynamodb"]["Keys"]["sk"]["S"] == "STEP#0000"]
    one, other = StatisticsUpdater(store.statistics), StatisticsUpdater(store.statistics)
    one._stats((WORKSPACE, WORKFLOW), "step0")  # both read the statistics before either writes
    other._stats((WORKSPACE, WORKFLOW), "step0")

    one.handle(_typed(first))
    other.handle(_typed(second))  # its write loses the version race: it reads again and folds again

    assert statistics(store)["step0"].count == 2


def test_given_a_poison_record_in_a_batch_when_handled_then_only_it_is_reported_and_the_rest_is_folded(
    store: DynamoStore,
) -> None:
    seed_executions(store, executions=2)
    records = completed_step_records()
    poison = poisoned(records[0])

    response = handle([poison, *records[1:]])

    assert response == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert sum(stats.count for stats in statistics(store).values()) == len(records) - 1


def test_given_a_poison_record_when_the_poller_delivers_then_it_is_retried_bisected_and_parked_in_the_dlq(
    store: DynamoStore,
) -> None:
    seed_executions(store, executions=6)
    records = completed_step_records()
    poison = poisoned(records[5])
    batch = [*records[:5], poison, *records[6:]]
    queue_url = boto3.client("sqs").create_queue(QueueName="process-stream-dlq")["QueueUrl"]
    invocations: list[list[str]] = []

    def invoke(event: dict[str, Any]) -> Any:
        invocations.append([record["dynamodb"]["SequenceNumber"] for record in event["Records"]])
        return process_stream.lambda_handler(event, LambdaContext())

    poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn(),
        invoke,
        settings=MappingSettings(batch_size=100, retry_attempts=2, retry_delay_seconds=0),
        on_failure=sqs_on_failure(boto3.client("sqs"), queue_url),
    )
    poller.deliver("shard-1", batch)

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    parked = json.loads(messages[0]["Body"])
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["requestContext"]["approximateInvokeCount"] == 3  # the first try and 2 retries
    info = parked["DDBStreamBatchInfo"]
    poison_sequence = poison["dynamodb"]["SequenceNumber"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison_sequence,
        poison_sequence,
        1,
    )
    assert poller.counters.records_parked == 1
    # The first invocation had the whole batch; bisection isolated the poison record, alone 3 times.
    assert poison_sequence in invocations[0] and len(invocations[0]) == len(batch)
    assert invocations.count([poison_sequence]) == 3
    # Nothing else lost: every other completed step is in the statistics.
    assert sum(stats.count for stats in statistics(store).values()) == len(records) - 1


def test_given_a_finished_execution_when_its_stream_is_consumed_then_its_version_stays_the_last_one(
    store: DynamoStore, engine: str
) -> None:
    """The terminal transition is the execution's last write: SSE's `end` carries the final
    version, and nothing the stream consumer does moves it afterwards."""
    put(store, [{"id": f"d{index}", "type": "delay", "params": {"seconds": 0}} for index in range(3)])
    ended = wait_for(store, start()["id"], finished)
    poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn(),
        lambda event: handle(event["Records"]),
        record_filter=new_image_filter(),
    )

    poller.poll_until_idle()

    assert ended.status == "completed"
    learned = store.statistics.get_step_stats("ws1", "wf1", ["d0", "d1", "d2"])
    assert sorted(stats.count for stats in learned.values()) == [1, 1, 1]
    assert store.executions.probe("ws1", ended.id) == (ended.version, "completed")
