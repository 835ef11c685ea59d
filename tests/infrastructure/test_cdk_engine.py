"""The engine as deployed: the same state machine as `make dev`, and least-privilege wiring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.constants import CONTEXT_MESSAGE_QUEUE_ARNS, CONTEXT_MESSAGE_TOPIC_ARNS
from infrastructure.stack import ROUTE_PERMISSIONS
from infrastructure.state_machine import RUN_ACTION_PLACEHOLDER, definition_template
from tests.infrastructure.synthesis import SKIP_BUNDLING, Synthesized, synthesize

pytestmark = pytest.mark.xdist_group("cdk")

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statements: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    return {
        action: statement["Resource"]
        for statement in statements
        for action in _as_list(statement["Action"])
        if action.startswith(prefix)
    }


@pytest.fixture(scope="module")
def with_message_targets(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    context = {
        **SKIP_BUNDLING,
        CONTEXT_MESSAGE_QUEUE_ARNS: [QUEUE_ARN],
        CONTEXT_MESSAGE_TOPIC_ARNS: TOPIC_ARN,
    }
    return synthesize(tmp_path_factory.mktemp("cdk.out.targets"), context=context)


def test_the_deployed_state_machine_is_the_local_definition_with_run_actions_arn(
    synthesized: Synthesized,
) -> None:
    engine = synthesized.stack.engine
    machine = synthesized.resources[synthesized.logical_id(engine.state_machine)]["Properties"]
    run_action_arn = {"Fn::GetAtt": [synthesized.logical_id(engine.run_action.function), "Arn"]}
    # The template file itself, byte for byte; CloudFormation substitutes run_action's ARN.
    assert machine["DefinitionString"] == definition_template()
    assert machine["DefinitionSubstitutions"] == {RUN_ACTION_PLACEHOLDER: run_action_arn}
    assert "{%" not in machine["DefinitionString"]  # JSONPath only: moto (so `make dev`) has no JSONata
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_the_state_machine_may_invoke_only_run_action(synthesized: Synthesized) -> None:
    engine = synthesized.stack.engine
    invokes = _actions(synthesized.role_statements(engine.state_machine), "lambda:")
    arn = {"Fn::GetAtt": [synthesized.logical_id(engine.run_action.function), "Arn"]}
    assert set(invokes) == {"lambda:InvokeFunction"}
    assert invokes["lambda:InvokeFunction"] == [arn, {"Fn::Join": ["", [arn, ":*"]]}]


def test_run_action_reaches_only_the_table_and_no_message_target_by_default(synthesized: Synthesized) -> None:
    statements = synthesized.role_statements(synthesized.stack.engine.run_action.function)
    table = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.data.table), "Arn"]}
    dynamodb = _actions(statements, "dynamodb:")
    assert set(dynamodb) == {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    }
    assert dynamodb["dynamodb:UpdateItem"] == table
    assert _actions(statements, "sqs:") == {}
    assert _actions(statements, "sns:") == {}
    assert _actions(statements, "states:") == {}


def test_run_action_may_send_only_to_the_configured_queues_and_topics(
    with_message_targets: Synthesized,
) -> None:
    statements = with_message_targets.role_statements(with_message_targets.stack.engine.run_action.function)
    assert _actions(statements, "sqs:") == {"sqs:SendMessage": QUEUE_ARN}
    assert _actions(statements, "sns:") == {"sns:Publish": TOPIC_ARN}
    assert with_message_targets.synth_error is None, with_message_targets.synth_error


def test_api_functions_start_and_stop_only_this_state_machines_runs(synthesized: Synthesized) -> None:
    machine_id = synthesized.logical_id(synthesized.stack.state_machine)
    for folder, function in synthesized.stack.route_functions.items():
        environment = synthesized.resources[synthesized.logical_id(function)]["Properties"]["Environment"]
        states = _actions(synthesized.role_statements(function), "states:")
        if not ROUTE_PERMISSIONS[folder].runs:
            assert "STATE_MACHINE_ARN" not in environment["Variables"], folder
            assert states == {}, folder
            continue
        assert environment["Variables"]["STATE_MACHINE_ARN"] == {"Ref": machine_id}, folder
        assert set(states) == {"states:StartExecution", "states:StopExecution"}, folder
        assert states["states:StartExecution"] == {"Ref": machine_id}, folder
        runs = json.dumps(states["states:StopExecution"])
        assert ":execution:" in runs, folder
        assert json.dumps({"Fn::GetAtt": [machine_id, "Name"]}) in runs, folder


def test_ended_runs_reach_the_reconciler_with_retries_and_a_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    (rule,) = [
        rule
        for rule in synthesized.of_type("AWS::Events::Rule").values()
        if "EventPattern" in rule["Properties"]
    ]
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"] == {
        "stateMachineArn": [{"Ref": synthesized.logical_id(stack.state_machine)}],
        "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [synthesized.logical_id(stack.engine.reconciler.function), "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": [synthesized.logical_id(stack.failures.queue), "Arn"]
    }


def test_run_action_outlives_an_actions_longest_timeout(synthesized: Synthesized) -> None:
    from execution_monitor.actions.definitions import ActionBase

    function = synthesized.resources[synthesized.logical_id(synthesized.stack.engine.run_action.function)]
    longest_action = ActionBase.model_fields["timeout_seconds"].metadata
    ceiling = next(item.le for item in longest_action if hasattr(item, "le"))
    assert function["Properties"]["Timeout"] > ceiling
