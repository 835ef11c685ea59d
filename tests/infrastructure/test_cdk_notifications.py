"""Events out and the sweep, as deployed: the bus, webhook deliveries through a queue with a
dead-letter queue, and a scheduled sweep that may describe and start only this engine's runs."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure import constants
from tests.infrastructure.synthesis import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _actions(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        action: statement["Resource"]
        for statement in statements
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }


def test_events_go_to_one_named_bus(synthesized: Synthesized) -> None:
    (bus,) = synthesized.of_type("AWS::Events::EventBus").values()
    assert bus["Properties"]["Name"] == constants.EVENT_BUS_NAME


def test_webhook_deliveries_run_from_their_queue_with_partial_failures_and_park_in_a_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    notifications = synthesized.stack.notifications
    queue = synthesized.resources[synthesized.logical_id(notifications.queue)]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synthesized.logical_id(notifications.dead_letters), "Arn"]},
        "maxReceiveCount": constants.WEBHOOK_MAX_RECEIVES,
    }
    function = synthesized.resources[synthesized.logical_id(notifications.deliverer.function)]["Properties"]
    assert queue["VisibilityTimeout"] > function["Timeout"]
    (mapping,) = [
        resource["Properties"]
        for resource in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" not in resource["Properties"]
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [synthesized.logical_id(notifications.queue), "Arn"]}
    granted = _actions(synthesized.role_statements(notifications.deliverer.function))
    assert granted["sqs:ChangeMessageVisibility"] == mapping["EventSourceArn"]
    assert "dynamodb:PutItem" not in granted and "dynamodb:DeleteItem" not in granted
    assert not any(action.startswith(("states:", "events:", "lambda:")) for action in granted)


def test_the_sweep_runs_every_minute_and_may_only_describe_and_start_this_engines_runs(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    (rule,) = [
        rule
        for rule in synthesized.of_type("AWS::Events::Rule").values()
        if "ScheduleExpression" in rule["Properties"]
    ]
    assert rule["Properties"]["ScheduleExpression"] == f"rate({constants.SWEEP_EVERY_MINUTES} minute)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.sweep), "Arn"]
    }
    granted = _actions(synthesized.role_statements(stack.sweep))
    assert {action for action in granted if action.startswith("states:")} == {
        "states:StartExecution",
        "states:DescribeExecution",
    }
    assert granted["states:StartExecution"] == {"Ref": synthesized.logical_id(stack.state_machine)}
    assert {action for action in granted if action.startswith("dynamodb:") and "Item" in action} - {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
    } == {"dynamodb:UpdateItem"}
