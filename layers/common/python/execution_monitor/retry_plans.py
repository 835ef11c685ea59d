"""What a retry would do, before doing it: which steps run again, which keep their results, with
which definition, and how long it should take from the workflow's step statistics."""

from __future__ import annotations

from execution_monitor.domain import progress
from execution_monitor.domain.execution import (
    ExecutionState,
    StepState,
    displayed_step_status,
    retryable_step,
)
from execution_monitor.domain.status import RETRYABLE
from execution_monitor.errors import Conflict, NotFound
from execution_monitor.executions import get_execution
from execution_monitor.models import KeptStep, PlannedStep, RetryPlan
from execution_monitor.store.interface import ExecutionReader, StatisticsStore


def retry_plan(
    executions: ExecutionReader,
    statistics: StatisticsStore,
    workspace_id: str,
    workflow_id: str,
    execution_id: str,
    action_id: str | None,
) -> RetryPlan:
    """The plan of `POST …/retry` (no action id) or `POST …/retry-step` (409 when not allowed)."""
    execution, steps = get_execution(executions, workspace_id, workflow_id, execution_id)
    if action_id is None:
        if execution.status not in RETRYABLE or execution.retried_by:
            raise Conflict(f"this execution cannot be retried: it is {execution.status}")
        rerun, kept = steps, []
    else:
        step = next((candidate for candidate in steps if candidate.action_id == action_id), None)
        if step is None:
            raise NotFound(f"execution {execution_id} has no action {action_id}")
        if not retryable_step(execution, steps, step):
            raise Conflict(f"step {action_id} cannot be retried: the execution is {execution.status}")
        rerun, kept = steps[step.index :], steps[: step.index]
    learned = statistics.get_step_stats(workspace_id, workflow_id, {step.action_id for step in rerun})
    expected = [progress.expected_ms(step.action, learned.get(step.action_id)) for step in rerun]
    return RetryPlan(
        kind="execution" if action_id is None else "step",
        action_id=action_id,
        definition_version=execution.workflow_version,
        rerun=[_planned(step, execution) for step in rerun],
        kept=[_kept(step) for step in kept],
        estimated_duration=None if None in expected else sum(value or 0 for value in expected),
    )


def _planned(step: StepState, execution: ExecutionState) -> PlannedStep:
    return PlannedStep(
        action_id=step.action_id,
        name=step.name,
        action_type=step.action_type,
        status=displayed_step_status(step.status, execution.status).value,
        attempts=step.attempt,
    )


def _kept(step: StepState) -> KeptStep:
    return KeptStep(
        action_id=step.action_id, name=step.name, completed_at=step.completed_at, duration=step.duration_ms
    )
