"""The local runtime's Step Functions patch: a finished run keeps its answer and a history
skeleton, not its interpreter, and its threads leave moto's thread list."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser import utils

from infrastructure.local import moto_stepfunctions

TWO_PASSES = {
    "StartAt": "First",
    "States": {"First": {"Type": "Pass", "Next": "Second"}, "Second": {"Type": "Pass", "End": True}},
}
ROLE = "arn:aws:iam::123456789012:role/engine"


@pytest.fixture
def sfn() -> Iterator[Any]:
    restore = moto_stepfunctions.install()
    try:
        with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
            yield boto3.client("stepfunctions")
    finally:
        restore()


def run_to_end(sfn: Any, name: str) -> dict[str, Any]:
    machines = sfn.list_state_machines()["stateMachines"]
    machine = (
        machines[0]
        if machines
        else sfn.create_state_machine(name="machine", definition=json.dumps(TWO_PASSES), roleArn=ROLE)
    )
    arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name=name, input=json.dumps({"big": "x" * 10_000})
    )["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(described)


def test_given_a_finished_run_then_describe_still_answers_its_status_and_output(sfn: Any) -> None:
    described = run_to_end(sfn, "run-1")

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"big": "x" * 10_000}


def test_given_a_finished_run_then_its_history_keeps_each_event_s_type_and_order_without_payloads(
    sfn: Any,
) -> None:
    described = run_to_end(sfn, "run-1")

    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]

    assert [event["type"] for event in events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert [event["id"] for event in events] == list(range(1, 7))
    assert all(set(event) <= {"timestamp", "type", "id", "previousEventId"} for event in events)


def test_given_runs_one_after_another_then_moto_s_thread_list_holds_only_the_last_ones(sfn: Any) -> None:
    for number in range(6):
        run_to_end(sfn, f"run-{number}")

    # Each run starts 2 threads; without the patch the list keeps all 12.
    assert len(utils.TMP_THREADS) <= 4
