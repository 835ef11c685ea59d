"""retry-step of a step that never began: cancelled before its run reached it, the step is still
pending, so the restart changes nothing on it (only the execution header moves)."""

from __future__ import annotations

from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.engine import lifecycle
from execution_monitor.store.dynamodb import DynamoStore
from tests.helpers import NoRunner, put_workflow


def test_given_a_cancel_before_the_first_step_began_when_retry_step_twice_then_each_restart_is_accepted(
    store: DynamoStore,
) -> None:
    # Given an execution whose run has not begun its first step (nothing runs it), then cancelled
    put_workflow(store, "ws1", "wf1", [{"id": "pause", "type": "delay", "params": {"seconds": 1}}])
    workflow = store.workflows.get_workflow("ws1", "wf1")
    assert workflow is not None
    runner = NoRunner()
    (execution, _), _ = lifecycle.start_execution(store.executions, store.statistics, runner, workflow, {})
    for attempt in (1, 2):
        cancelled, steps = lifecycle.cancel_execution(store.executions, runner, "ws1", "wf1", execution.id)
        assert cancelled.status is ExecutionStatus.CANCELLED
        assert steps[0].status is StepStatus.PENDING
        # When the still-pending step is retried
        restarted, steps = lifecycle.retry_step(store.executions, runner, "ws1", "wf1", execution.id, "pause")
        # Then the execution runs again from it, with a new run and no attempt invented for it
        assert restarted.status is ExecutionStatus.RUNNING
        assert len(restarted.runs) == attempt + 1
        assert steps[0].status is StepStatus.PENDING
        assert steps[0].history == ()
    assert len(runner.started) == 3
