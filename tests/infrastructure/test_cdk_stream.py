"""The stream consumer as deployed: batching, partial failures, bisect, retries, DLQ and filter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure import stream_mapping
from tests.infrastructure.synthesis import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _mapping(synthesized: Synthesized) -> dict[str, Any]:
    (mapping,) = [
        resource
        for resource in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in resource["Properties"]  # the table stream's (the other is SQS)
    ]
    return dict(mapping["Properties"])


def test_process_stream_reads_the_tables_stream_in_batches_with_partial_failures(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    mapping = _mapping(synthesized)
    assert mapping["EventSourceArn"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.data.table), "StreamArn"]
    }
    assert mapping["FunctionName"] == {"Ref": synthesized.logical_id(stack.stream_consumer.function.function)}
    assert mapping["BatchSize"] == stream_mapping.BATCH_SIZE
    assert mapping["ParallelizationFactor"] == stream_mapping.PARALLELIZATION_FACTOR > 1
    assert mapping["StartingPosition"] == stream_mapping.STARTING_POSITION
    assert mapping["MaximumBatchingWindowInSeconds"] >= 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == stream_mapping.RETRY_ATTEMPTS
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.failures.queue), "Arn"]
    }


def test_only_finished_steps_and_execution_headers_reach_the_consumer(synthesized: Synthesized) -> None:
    patterns = [
        json.loads(criterion["Pattern"]) for criterion in _mapping(synthesized)["FilterCriteria"]["Filters"]
    ]
    assert patterns == [
        {"dynamodb": {"NewImage": {"type": {"S": ["step"]}, "status": {"S": ["completed", "failed"]}}}},
        {"dynamodb": {"NewImage": {"type": {"S": ["execution"]}}}},
    ]


def test_the_consumer_touches_the_table_and_publishes_only_to_its_bus_queue_and_failure_queue(
    synthesized: Synthesized,
) -> None:
    statements = synthesized.role_statements(synthesized.stack.stream_consumer.function.function)
    granted = {
        action: statement["Resource"]
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= set(
        granted
    )
    assert "dynamodb:DeleteItem" not in granted
    assert not any(action.startswith(("states:", "sns:", "lambda:")) for action in granted)
    stack = synthesized.stack
    sends = [
        resource
        for statement in statements
        if "sqs:SendMessage"
        in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        for resource in (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
    ]
    queue_arn = {"Fn::GetAtt": [synthesized.logical_id(stack.notifications.queue), "Arn"]}
    failure_queue = {"Fn::GetAtt": [synthesized.logical_id(stack.failures.queue), "Arn"]}
    assert sorted(map(json.dumps, sends)) == sorted(map(json.dumps, [queue_arn, failure_queue]))
    assert granted["events:PutEvents"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.notifications.bus), "Arn"]
    }
