"""run_action under Step Functions' at-least-once task invocations: a repeat changes nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from execution_monitor.engine import lifecycle
from execution_monitor.engine.steps import StepRunner
from execution_monitor.models import WorkflowDefinition
from execution_monitor.store.dynamodb import DynamoStore
from execution_monitor.store.interface import StoreContention
from tests.helpers import NoRunner


@pytest.fixture
def runner(store: DynamoStore) -> StepRunner:
    queue = boto3.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    definition = WorkflowDefinition.model_validate(
        {
            "name": "w",
            "actions": [
                {"id": "pause", "type": "delay", "params": {"seconds": 1}},
                {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "m"}},
            ],
        }
    )
    workflow = store.put_workflow("ws1", "wf1", definition)
    execution, _ = lifecycle.start_execution(store, NoRunner(), workflow, {})
    ref = {"workspaceId": "ws1", "executionId": execution.id, "runId": execution.runs[0].run_id}
    return StepRunner(store, ref)


def test_given_each_task_invoked_twice_then_every_step_runs_once_and_the_execution_completes(
    runner: StepRunner, store: DynamoStore
) -> None:
    assert runner.begin_delay(0) == runner.begin_delay(0) == {"outcome": "waiting"}
    assert runner.finish_delay(0) == runner.finish_delay(0) == {"outcome": "completed"}
    assert runner.attempt(1, 30_000) == runner.attempt(1, 30_000) == {"outcome": "completed"}
    assert runner.complete() == {"outcome": "completed"}

    execution = store.get_execution("ws1", runner.execution_id)
    assert execution is not None and execution.status == "completed"
    assert [step.attempt for step in execution.action_results or []] == [1, 1]
    received = boto3.client("sqs").receive_message(
        QueueUrl=boto3.client("sqs").get_queue_url(QueueName="q")["QueueUrl"], MaxNumberOfMessages=10
    )
    assert len(received.get("Messages", [])) == 1


def test_given_recording_a_finished_action_loses_to_contention_then_it_is_retried_in_place(
    runner: StepRunner, store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner.begin_delay(0)
    original = store.finish_step
    failures = iter([StoreContention("busy"), StoreContention("busy")])

    def contended(*args: Any) -> bool:
        error = next(failures, None)
        if error is not None:
            raise error
        return original(*args)

    monkeypatch.setattr(store, "finish_step", contended)
    monkeypatch.setattr("execution_monitor.engine.steps.FINISH_RETRY_PAUSES", (0, 0, 0))

    assert runner.finish_delay(0) == {"outcome": "completed"}
