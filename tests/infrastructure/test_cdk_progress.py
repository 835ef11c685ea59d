"""The stream consumer as deployed: batching, partial failures, bisect, retries, DLQ and filter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure import progress_mapping
from tests.infrastructure.synthesis import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _mapping(synthesized: Synthesized) -> dict[str, Any]:
    (mapping,) = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    return dict(mapping["Properties"])


def test_update_progress_reads_the_tables_stream_in_batches_with_partial_failures(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    mapping = _mapping(synthesized)
    assert mapping["EventSourceArn"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.data.table), "StreamArn"]
    }
    assert mapping["FunctionName"] == {"Ref": synthesized.logical_id(stack.progress.updater.function)}
    assert mapping["BatchSize"] == progress_mapping.BATCH_SIZE
    assert mapping["StartingPosition"] == progress_mapping.STARTING_POSITION
    assert mapping["MaximumBatchingWindowInSeconds"] >= 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == progress_mapping.RETRY_ATTEMPTS
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.failures.queue), "Arn"]
    }


def test_only_completed_steps_reach_the_updater(synthesized: Synthesized) -> None:
    (criterion,) = _mapping(synthesized)["FilterCriteria"]["Filters"]
    assert json.loads(criterion["Pattern"]) == {
        "dynamodb": {"NewImage": {"type": {"S": ["step"]}, "status": {"S": ["completed"]}}}
    }


def test_the_updater_touches_the_table_and_sends_only_to_its_failure_queue(synthesized: Synthesized) -> None:
    statements = synthesized.role_statements(synthesized.stack.progress.updater.function)
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
    failure_queue = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.failures.queue), "Arn"]}
    assert granted["sqs:SendMessage"] == failure_queue
