"""Replays what the stack parked in its dead-letter queues, once the cause is fixed (docs/RUNBOOK.md).

    python -m infrastructure.redrive failed-events [--dry-run] [--stack ExecutionMonitor]
    python -m infrastructure.redrive webhooks [--dry-run] [--stack ExecutionMonitor]

`failed-events` takes every message of the failed-events queue and replays it where it failed;
a message is deleted only after its replay succeeded, and one that cannot be replayed stays (it
is reported, and visible again at once):

- a stream batch (Lambda's on-failure record, `DDBStreamBatchInfo`): its window is read again from
  the table's stream (only within the stream's 24 hours), filtered like the mapping, and sent to
  process_stream (`requestContext.functionArn`) in batches of the mapping's size; it succeeded when
  no record is reported failed;
- a run-ended event (EventBridge's dead letter: the event, its target in `TARGET_ARN`): sent to
  its target, the reconciler, again.

Both consumers are safe to repeat (statistics and events are recorded once; the reconciler
settles only a run that is still the execution's current one).

`webhooks` has SQS move the webhook dead letters back to the delivery queue (StartMessageMoveTask).

The queues come from the stack's outputs; AWS credentials and region from the environment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from infrastructure.constants import (
    OUTPUT_FAILED_EVENTS_QUEUE_URL,
    OUTPUT_WEBHOOK_DEAD_LETTERS_URL,
    STACK_NAME,
)
from infrastructure.stream_mapping import BATCH_SIZE, lambda_record, new_image_filter

# Long enough to replay one message; a message left alone is made visible again right away.
VISIBILITY_SECONDS = 300
# An open shard answers empty pages at its tip: after this many, the window has no more records.
EMPTY_PAGES = 3

Invoke = Callable[[str, dict[str, Any]], Any]


class ReplayFailed(Exception):
    """This message could not be replayed; it stays in its queue."""


def lambda_invoker(client: Any) -> Invoke:
    """Invokes a function synchronously; a function error is a failed replay."""

    def invoke(function_arn: str, event: dict[str, Any]) -> Any:
        response = client.invoke(
            FunctionName=function_arn, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise ReplayFailed(f"{function_arn} failed: {payload[:500]!r}")
        return json.loads(payload) if payload else None

    return invoke


@dataclass
class Report:
    replayed: int = 0
    kept: list[str] = field(default_factory=list)  # why each message was left in its queue


@dataclass
class Redriver:
    sqs: Any
    streams: Any
    invoke: Invoke
    dry_run: bool = False
    say: Callable[[str], None] = print

    def failed_events(self, queue_url: str) -> Report:
        report = Report()
        left: list[str] = []  # receipt handles to make visible again
        for message in self._messages(queue_url):
            try:
                what = self.replay(message)
            except ReplayFailed as error:
                report.kept.append(f"{message['MessageId']}: {error}")
                left.append(message["ReceiptHandle"])
                continue
            if self.dry_run:
                self.say(f"would replay {message['MessageId']}: {what}")
                left.append(message["ReceiptHandle"])
                continue
            self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            report.replayed += 1
            self.say(f"replayed {message['MessageId']}: {what}")
        for handle in left:
            self.sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        return report

    def _messages(self, queue_url: str) -> Iterator[dict[str, Any]]:
        """Every message now in the queue, each once (a received one stays invisible meanwhile)."""
        while True:
            received = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=VISIBILITY_SECONDS,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=1,
            ).get("Messages", [])
            if not received:
                return
            yield from received

    def replay(self, message: dict[str, Any]) -> str:
        """Replays one message (or, dry, only checks it can be); returns what it did."""
        try:
            body = json.loads(message["Body"])
        except ValueError as error:
            raise ReplayFailed("the body is not JSON") from error
        if isinstance(body, dict) and "DDBStreamBatchInfo" in body:
            return self._replay_stream_batch(body)
        target = (message.get("MessageAttributes") or {}).get("TARGET_ARN", {}).get("StringValue")
        if isinstance(body, dict) and "detail-type" in body and target:
            if not self.dry_run:
                self.invoke(target, body)
            return f"{body['detail-type']} event to {target}"
        raise ReplayFailed("neither a stream batch nor an EventBridge event with its target")

    def _replay_stream_batch(self, failure: dict[str, Any]) -> str:
        info = failure["DDBStreamBatchInfo"]
        function_arn = failure["requestContext"]["functionArn"]
        records = self.stream_window(info)
        if not self.dry_run:
            for start in range(0, len(records), BATCH_SIZE):
                answer = self.invoke(function_arn, {"Records": records[start : start + BATCH_SIZE]})
                failed = (answer or {}).get("batchItemFailures") or []
                if failed:
                    raise ReplayFailed(f"{len(failed)} record(s) failed again, first {failed[0]}")
        window = f"{info['startSequenceNumber']}..{info['endSequenceNumber']}"
        return f"{len(records)} stream record(s) of {info['shardId']} {window} to {function_arn}"

    def stream_window(self, info: dict[str, Any]) -> list[dict[str, Any]]:
        """The records from the batch's first to its last sequence number that the mapping passes,
        as Lambda event records."""
        stream_arn, end = info["streamArn"], int(info["endSequenceNumber"])
        try:
            iterator = self.streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=info["shardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=info["startSequenceNumber"],
            )["ShardIterator"]
        except self.streams.exceptions.TrimmedDataAccessException as error:
            raise ReplayFailed("the records are no longer in the stream (24 hours)") from error
        except self.streams.exceptions.ResourceNotFoundException as error:
            raise ReplayFailed("the stream or its shard no longer exists") from error
        selects = new_image_filter()
        region = self.streams.meta.region_name
        records: list[dict[str, Any]] = []
        empty = 0
        while iterator and empty < EMPTY_PAGES:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            empty = 0 if page["Records"] else empty + 1
            for record in page["Records"]:
                if int(record["dynamodb"]["SequenceNumber"]) > end:
                    return records
                if selects(record):
                    records.append(lambda_record(record, stream_arn, region))
            iterator = page.get("NextShardIterator")
        return records

    def webhook_dead_letters(self, queue_url: str) -> str:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
        )["Attributes"]
        count = attributes["ApproximateNumberOfMessages"]
        if self.dry_run:
            return f"would move about {count} message(s) back to the webhook delivery queue"
        task = self.sqs.start_message_move_task(SourceArn=attributes["QueueArn"])
        return (
            f"moving about {count} message(s) back to the webhook delivery queue (task {task['TaskHandle']})"
        )


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infrastructure.redrive", description=__doc__.split("\n")[0]
    )
    parser.add_argument("queue", choices=["failed-events", "webhooks"])
    parser.add_argument("--stack", default=STACK_NAME)
    parser.add_argument("--dry-run", action="store_true", help="check and list, change nothing")
    arguments = parser.parse_args(argv)
    session = boto3.Session()
    outputs = stack_outputs(session.client("cloudformation"), arguments.stack)
    redriver = Redriver(
        sqs=session.client("sqs"),
        streams=session.client("dynamodbstreams"),
        invoke=lambda_invoker(session.client("lambda")),
        dry_run=arguments.dry_run,
    )
    if arguments.queue == "webhooks":
        print(redriver.webhook_dead_letters(outputs[OUTPUT_WEBHOOK_DEAD_LETTERS_URL]))
        return 0
    report = redriver.failed_events(outputs[OUTPUT_FAILED_EVENTS_QUEUE_URL])
    for reason in report.kept:
        print(f"kept {reason}")
    print(f"{report.replayed} replayed, {len(report.kept)} kept")
    return 1 if report.kept else 0


if __name__ == "__main__":
    sys.exit(main())
