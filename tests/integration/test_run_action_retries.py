"""run_action under at-least-once delivery: Step Functions repeating a task, and the SDK repeating a
write whose first try succeeded but whose answer was lost. Neither runs an action twice, and
neither makes completed work look abandoned or failed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.engine import lifecycle
from execution_monitor.engine.contract import Outcome, RunRef
from execution_monitor.engine.steps import StepRunner
from execution_monitor.store.dynamodb import DynamoStore
from execution_monitor.store.interface import StoreContention
from tests.helpers import NoRunner, put_workflow
from tests.integration.conftest import TABLE

WRITES = ("transact_write_items", "update_item", "put_item")


class LostAnswers:
    """A DynamoDB client whose writes are each sent twice, answering with the second outcome: what
    the SDK does when the first answer is lost to a timeout (the first write did happen)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.repeated = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if name not in WRITES:
            return method

        def twice(**request: Any) -> Any:
            method(**request)
            self.repeated += 1
            return method(**request)

        return twice


def started(store: DynamoStore) -> RunRef:
    queue = boto3.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    actions = [
        {"id": "pause", "type": "delay", "params": {"seconds": 1}},
        {"id": "notify", "type": "send_message", "params": {"queueUrl": queue, "message": "m"}},
    ]
    workflow = put_workflow(store, "ws1", "wf1", actions)
    (execution, _), _ = lifecycle.start_execution(
        store.executions, store.statistics, NoRunner(), workflow, {}
    )
    return RunRef(
        workspace_id="ws1", workflow_id="wf1", execution_id=execution.id, run_id=execution.current_run_id
    )


def messages() -> int:
    sqs = boto3.client("sqs")
    received = sqs.receive_message(
        QueueUrl=sqs.get_queue_url(QueueName="q")["QueueUrl"], MaxNumberOfMessages=10
    )
    return len(received.get("Messages", []))


def run_to_the_end(runner: StepRunner, times: int = 1) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for operation in (
        lambda: runner.begin_delay(0),
        lambda: runner.finish_delay(0),
        lambda: runner.attempt(1, 30_000),
        runner.complete,
    ):
        outcomes.extend(operation().outcome for _ in range(times))
    return outcomes


def test_given_each_task_invoked_twice_then_every_step_runs_once_and_the_execution_completes(
    store: DynamoStore,
) -> None:
    run = started(store)

    outcomes = run_to_the_end(StepRunner(store.executions, run), times=2)

    assert outcomes == [Outcome.WAITING] * 2 + [Outcome.COMPLETED] * 6
    execution, steps = store.executions.get_execution("ws1", run.execution_id) or (None, [])
    assert execution is not None and execution.status is ExecutionStatus.COMPLETED
    assert [step.attempt for step in steps] == [1, 1]
    assert messages() == 1


def test_given_the_sdk_repeats_every_write_that_already_succeeded_then_nothing_is_abandoned_or_failed(
    dynamodb: Any,
) -> None:
    """DynamoDB answers a repeated conditional write with a failed condition (its own first write
    changed the state): the store must tell that apart from losing to another writer."""
    lossy = LostAnswers(dynamodb)
    store = DynamoStore(lossy, TABLE)

    run = started(store)
    outcomes = run_to_the_end(StepRunner(store.executions, run))

    assert outcomes == [Outcome.WAITING, Outcome.COMPLETED, Outcome.COMPLETED, Outcome.COMPLETED]
    execution, steps = store.executions.get_execution("ws1", run.execution_id) or (None, [])
    assert execution is not None and execution.status is ExecutionStatus.COMPLETED and execution.error is None
    assert [step.status for step in steps] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    assert execution.progress.completed_steps == 2 and execution.progress.percentage == 100
    assert messages() == 1
    assert lossy.repeated >= 5  # the create, two step begins, two step ends, the end


def test_given_the_sdk_repeats_a_cancel_that_succeeded_then_the_cancel_answers_cancelled(
    dynamodb: Any,
) -> None:
    store = DynamoStore(LostAnswers(dynamodb), TABLE)
    run = started(store)
    StepRunner(store.executions, run).begin_delay(0)

    execution, steps = lifecycle.cancel_execution(
        store.executions, NoRunner(), "ws1", "wf1", run.execution_id
    )

    assert execution.status is ExecutionStatus.CANCELLED
    assert [step.status for step in steps] == [StepStatus.CANCELLED, StepStatus.PENDING]


def test_given_recording_a_finished_action_meets_throttling_then_it_is_retried_in_place(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = started(store)
    runner = StepRunner(store.executions, run)
    runner.begin_delay(0)
    original: Callable[..., bool] = store.executions.finish_step
    failures = iter([StoreContention("busy"), StoreContention("busy")])

    def contended(*args: Any) -> bool:
        error = next(failures, None)
        if error is not None:
            raise error
        return original(*args)

    monkeypatch.setattr(store.executions, "finish_step", contended)
    monkeypatch.setattr("execution_monitor.engine.steps.RECORD_PAUSES", (0, 0, 0))

    assert runner.finish_delay(0).outcome is Outcome.COMPLETED
