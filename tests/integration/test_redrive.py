"""The redrive tool on moto: parked stream windows are re-read from the table's stream and replayed
to process_stream, run-ended events go back to their target, and a message is deleted only once
its replay succeeded."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infrastructure.redrive import Redriver, ReplayFailed, lambda_invoker
from tests.integration.conftest import TABLE

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:process-stream"
RECONCILER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:reconcile-execution"


class Invocations:
    """Stands in for Lambda: records each invocation and answers what the test says."""

    def __init__(self, answer: Any = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer

    def __call__(self, function_arn: str, event: dict[str, Any]) -> Any:
        self.calls.append((function_arn, event))
        return self.answer


@pytest.fixture
def queue(aws: None) -> str:
    return str(boto3.client("sqs").create_queue(QueueName="failed-events")["QueueUrl"])


def _put(pk: str, item_type: str, status: str = "running") -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE,
        Item={"pk": {"S": pk}, "sk": {"S": "x"}, "type": {"S": item_type}, "status": {"S": status}},
    )


def _stream() -> tuple[str, str, list[dict[str, Any]]]:
    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams")
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return arn, shard["ShardId"], streams.get_records(ShardIterator=iterator)["Records"]


def _park_window(queue: str, first: dict[str, Any], last: dict[str, Any], arn: str, shard: str) -> None:
    failure = {
        "requestContext": {"functionArn": FUNCTION_ARN, "condition": "RetryAttemptsExhausted"},
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
            "streamArn": arn,
        },
    }
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(failure))


def _redriver(invoke: Invocations, *, dry_run: bool = False) -> Redriver:
    return Redriver(
        sqs=boto3.client("sqs"),
        streams=boto3.client("dynamodbstreams"),
        invoke=invoke,
        dry_run=dry_run,
        say=lambda _: None,
    )


def _visible(queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    return int(attributes["ApproximateNumberOfMessages"])


def test_given_a_parked_stream_window_when_redriven_then_its_records_the_mapping_passes_are_replayed(
    queue: str,
) -> None:
    _put("a", "execution")
    _put("b", "claim")  # not a record the mapping delivers
    _put("c", "step", "completed")
    _put("d", "execution")  # after the window
    arn, shard, records = _stream()
    _park_window(queue, records[0], records[2], arn, shard)
    invoke = Invocations(answer={"batchItemFailures": []})

    report = _redriver(invoke).failed_events(queue)

    assert (report.replayed, report.kept) == (1, [])
    ((function_arn, event),) = invoke.calls
    assert function_arn == FUNCTION_ARN
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]] == ["a", "c"]
    assert {record["eventSourceARN"] for record in event["Records"]} == {arn}
    assert {record["eventSource"] for record in event["Records"]} == {"aws:dynamodb"}
    json.dumps(event)  # what Lambda is sent is plain JSON
    assert _visible(queue) == 0


def test_given_records_that_fail_again_when_redriven_then_the_message_stays_visible(queue: str) -> None:
    _put("a", "execution")
    arn, shard, records = _stream()
    _park_window(queue, records[0], records[0], arn, shard)
    invoke = Invocations(answer={"batchItemFailures": [{"itemIdentifier": "1"}]})

    report = _redriver(invoke).failed_events(queue)

    assert report.replayed == 0
    assert len(report.kept) == 1 and "failed again" in report.kept[0]
    assert _visible(queue) == 1


def test_given_a_run_ended_event_parked_by_eventbridge_when_redriven_then_its_target_gets_it_again(
    queue: str,
) -> None:
    event = {"detail-type": "Step Functions Execution Status Change", "detail": {"status": "FAILED"}}
    boto3.client("sqs").send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(event),
        MessageAttributes={"TARGET_ARN": {"DataType": "String", "StringValue": RECONCILER_ARN}},
    )
    invoke = Invocations(answer={"result": "settled:failed"})

    report = _redriver(invoke).failed_events(queue)

    assert report.replayed == 1
    assert invoke.calls == [(RECONCILER_ARN, event)]
    assert _visible(queue) == 0


def test_given_a_message_of_unknown_shape_when_redriven_then_it_is_kept_and_nothing_is_invoked(
    queue: str,
) -> None:
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps({"something": "else"}))
    invoke = Invocations()

    report = _redriver(invoke).failed_events(queue)

    assert report.replayed == 0 and len(report.kept) == 1
    assert invoke.calls == []
    assert _visible(queue) == 1


def test_given_a_dry_run_then_nothing_is_invoked_or_deleted(queue: str) -> None:
    _put("a", "execution")
    arn, shard, records = _stream()
    _park_window(queue, records[0], records[0], arn, shard)
    event = {"detail-type": "Step Functions Execution Status Change", "detail": {}}
    boto3.client("sqs").send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(event),
        MessageAttributes={"TARGET_ARN": {"DataType": "String", "StringValue": RECONCILER_ARN}},
    )
    invoke = Invocations()
    said: list[str] = []

    redriver = _redriver(invoke, dry_run=True)
    redriver.say = said.append
    report = redriver.failed_events(queue)

    assert (report.replayed, report.kept, invoke.calls) == (0, [], [])
    assert len(said) == 2 and all(line.startswith("would replay") for line in said)
    assert _visible(queue) == 2


class MoveTasks:
    """moto's SQS without StartMessageMoveTask: records the call, delegates the rest."""

    def __init__(self) -> None:
        self.client = boto3.client("sqs")
        self.moved: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def start_message_move_task(self, SourceArn: str) -> dict[str, str]:
        self.moved.append(SourceArn)
        return {"TaskHandle": "task-1"}


def test_given_webhook_dead_letters_then_sqs_moves_them_back_to_the_queue_they_came_from(aws: None) -> None:
    sqs = MoveTasks()
    url = sqs.create_queue(QueueName="webhook-dead-letters")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    dry = Redriver(sqs=sqs, streams=None, invoke=Invocations(), dry_run=True)
    assert "would move about 1" in dry.webhook_dead_letters(url)
    assert sqs.moved == []

    moving = Redriver(sqs=sqs, streams=None, invoke=Invocations()).webhook_dead_letters(url)

    assert "task-1" in moving
    assert sqs.moved == [arn]


def test_given_a_function_error_then_the_invocation_is_a_failed_replay() -> None:
    class Payload:
        def read(self) -> bytes:
            return b'{"errorMessage": "boom"}'

    class FailingLambda:
        def invoke(self, **_: Any) -> dict[str, Any]:
            return {"FunctionError": "Unhandled", "Payload": Payload()}

    with pytest.raises(ReplayFailed, match="boom"):
        lambda_invoker(FailingLambda())(FUNCTION_ARN, {"Records": []})
