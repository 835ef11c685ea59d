"""Every change of an execution as a pure function from its state to its next state.

The engine picks the transition, the store writes it conditionally on the state it came from
(`Transition.execution_before.version` and the step's status and attempt), so a concurrent writer
makes the write fail instead of being overwritten. Progress and ETA move with each transition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from execution_monitor import clock
from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain import progress, stalls
from execution_monitor.domain.execution import (
    Attempt,
    ExecutionState,
    Progress,
    Run,
    Stall,
    StepState,
)
from execution_monitor.domain.status import ExecutionStatus, StepStatus


@dataclass(frozen=True, slots=True)
class Transition:
    """The execution (and at most one step) before and after one change."""

    execution_before: ExecutionState
    execution: ExecutionState
    step_before: StepState | None = None
    step: StepState | None = None


def _touched(execution: ExecutionState, now: str, **changes: object) -> ExecutionState:
    return replace(execution, updated_at=now, version=execution.version + 1, **changes)  # type: ignore[arg-type]


def _ended(
    execution: ExecutionState, status: ExecutionStatus, now: str, progress_now: Progress, error: str | None
) -> ExecutionState:
    return _touched(
        execution,
        now,
        status=status,
        completed_at=now,
        duration_ms=clock.millis_between(execution.started_at, now),
        error=error if error is not None else execution.error,
        running_step=None,
        stalled=None,
        check_at=None,
        progress=progress.with_eta(progress_now, None, clock.parse_iso(now)),
    )


def begin_step(execution: ExecutionState, step: StepState, run_id: str, now: datetime) -> Transition:
    stamp = clock.iso(now)
    began = replace(
        step,
        status=StepStatus.RUNNING,
        attempt=step.attempt + 1,
        run_id=run_id,
        started_at=stamp,
        completed_at=None,
        duration_ms=None,
        wall_ms=None,
        output=None,
        error=None,
    )
    running = replace(
        execution,
        status=ExecutionStatus.RUNNING,
        running_step=step.index,
        stalled=None,
        check_at=stalls.check_at(now, stalls.stall_after_ms(began)),
    )
    after = _touched(running, stamp, progress=progress.estimate(running, began, now))
    return Transition(execution, after, step, began)


def complete_step(execution: ExecutionState, step: StepState, output: object, now: datetime) -> Transition:
    stamp = clock.iso(now)
    wall = progress.wall_ms(execution.schedule, step, stamp)
    completed = replace(
        step,
        status=StepStatus.COMPLETED,
        completed_at=stamp,
        duration_ms=clock.millis_between(step.started_at or stamp, stamp),
        wall_ms=wall,
        output=output,
        error=None,
    )
    counts = execution.progress
    moved = replace(
        execution,
        running_step=None,
        stalled=None,
        check_at=stalls.check_at(now, stalls.START_GRACE_MS),
        schedule=progress.after_completion(execution.schedule, step, wall, stamp),
        progress=Progress.of_counts(counts.completed_steps + 1, counts.failed_steps, counts.total_steps),
    )
    # The next step is due from now, so none of its expected time is used yet.
    after = _touched(moved, stamp, progress=progress.estimate(moved, None, now))
    return Transition(execution, after, step, completed)


def failed_attempt(step: StepState, error: str, now: str) -> Attempt:
    return Attempt(
        attempt=step.attempt,
        status=StepStatus.FAILED,
        started_at=step.started_at,
        completed_at=now,
        duration_ms=clock.millis_between(step.started_at or now, now),
        error=error,
    )


def retry_later(
    execution: ExecutionState, step: StepState, error: str, wait_seconds: int, now: datetime
) -> Transition:
    """An attempt failed and the action's retry policy tries again after `wait_seconds`: the step
    stays running (the wait is part of its wall time)."""
    stamp = clock.iso(now)
    waiting = replace(step, error=error, history=(*step.history, failed_attempt(step, error, stamp)))
    check = stalls.check_at(now, wait_seconds * 1000 + stalls.stall_after_ms(step))
    after = _touched(execution, stamp, check_at=check, progress=progress.estimate(execution, step, now))
    return Transition(execution, after, step, waiting)


def fail_step(execution: ExecutionState, step: StepState, error: str, now: datetime) -> Transition:
    """The last attempt failed: the step and with it the execution failed."""
    stamp = clock.iso(now)
    failed = replace(
        step,
        status=StepStatus.FAILED,
        completed_at=stamp,
        duration_ms=clock.millis_between(step.started_at or stamp, stamp),
        error=error,
    )
    counts = execution.progress
    after = _ended(
        execution,
        ExecutionStatus.FAILED,
        stamp,
        Progress.of_counts(counts.completed_steps, counts.failed_steps + 1, counts.total_steps),
        f"{step.action_id}: {error}",
    )
    return Transition(execution, after, step, failed)


def end_execution(
    execution: ExecutionState, status: ExecutionStatus, now: datetime, error: str | None = None
) -> Transition:
    """The run ended without a step deciding it: completed, or failed/cancelled by the engine."""
    counts = execution.progress
    # A step still running when the engine failed reads as failed (read-model rule): count it.
    failed = counts.failed_steps + (
        1 if status is ExecutionStatus.FAILED and execution.running_step is not None else 0
    )
    final = Progress.of_counts(counts.completed_steps, failed, counts.total_steps)
    return Transition(execution, _ended(execution, status, clock.iso(now), final, error))


def cancel(execution: ExecutionState, running: StepState | None, now: datetime) -> Transition:
    """Cancelled through the API: the running step (if any) is cancelled, pending ones read skipped."""
    stamp = clock.iso(now)
    after = _ended(execution, ExecutionStatus.CANCELLED, stamp, execution.progress, None)
    if running is None:
        return Transition(execution, after)
    cancelled = replace(
        running,
        status=StepStatus.CANCELLED,
        completed_at=stamp,
        duration_ms=clock.millis_between(running.started_at or stamp, stamp),
    )
    return Transition(execution, after, running, cancelled)


def restart_from_step(execution: ExecutionState, step: StepState, run: Run, now: datetime) -> Transition:
    """retry-step: a new run from `step`; its last attempt (if it ran since) joins its history."""
    stamp = clock.iso(now)
    history = step.history
    if step.status is not StepStatus.PENDING and not any(past.attempt == step.attempt for past in history):
        ended_as = (
            StepStatus.CANCELLED if execution.status is ExecutionStatus.CANCELLED else StepStatus.FAILED
        )
        history = (
            *history,
            Attempt(
                attempt=step.attempt,
                status=ended_as,
                started_at=step.started_at,
                completed_at=step.completed_at or stamp,
                duration_ms=step.duration_ms,
                error=step.error or execution.error,
            ),
        )
    reset = replace(
        step,
        status=StepStatus.PENDING,
        history=history,
        error=None,
        completed_at=None,
        duration_ms=None,
        output=None,
        started_at=None,
    )
    counts = execution.progress
    restarted = replace(
        execution,
        status=ExecutionStatus.RUNNING,
        current_run_id=run.run_id,
        runs=(*execution.runs, run),
        error=None,
        completed_at=None,
        duration_ms=None,
        running_step=None,
        check_at=stalls.check_at(now, stalls.START_GRACE_MS),
        schedule=replace(execution.schedule, due_since=stamp),
        # Only the retried step could read as failed (the run stopped there): none does now.
        progress=Progress.of_counts(counts.completed_steps, 0, counts.total_steps),
    )
    after = _touched(restarted, stamp, progress=progress.estimate(restarted, reset, now))
    return Transition(execution, after, step, reset)


def mark_stalled(execution: ExecutionState, step: StepState, now: datetime) -> Transition:
    """The sweep found the due step overdue: flag it until the step moves (its transitions clear it)."""
    anchor = step.started_at if execution.running_step == step.index else execution.schedule.due_since
    running_for = progress.elapsed_ms(anchor, now)
    stall = Stall(step.action_id, running_for, stalls.expected_duration_ms(step))
    return Transition(execution, _touched(execution, clock.iso(now), stalled=stall, check_at=None))


def look_again(execution: ExecutionState, after_ms: int, now: datetime) -> Transition:
    """Nothing to flag yet: the sweep looks again later (not a visible change: no version bump)."""
    return Transition(execution, replace(execution, check_at=stalls.check_at(now, after_ms)))


def link_retry(execution: ExecutionState, new_execution_id: str, now: datetime) -> Transition:
    return Transition(execution, _touched(execution, clock.iso(now), retried_by=new_execution_id))


def unlink_retry(execution: ExecutionState, now: datetime) -> Transition:
    return Transition(execution, _touched(execution, clock.iso(now), retried_by=None))


def create(
    *,
    execution_id: str,
    run: Run,
    workspace_id: str,
    workflow_id: str,
    workflow_version: int,
    actions: Sequence[ActionDefinition],
    expected: Sequence[int | None],
    execution_input: dict[str, Any],
    retry_of: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ExecutionState, list[StepState]]:
    """A new execution, pending, with every step pending and its first run planned."""
    positions = {action.id: index for index, action in enumerate(actions)}
    steps = [
        StepState(
            workspace_id=workspace_id,
            workflow_id=workflow_id,
            execution_id=execution_id,
            index=index,
            action=action,
            expected_ms=expected[index],
            # Only earlier steps can have output by the time this one runs.
            depends_on=tuple(
                sorted(
                    positions[ref] for ref in action.referenced_steps() if positions.get(ref, index) < index
                )
            ),
        )
        for index, action in enumerate(actions)
    ]
    execution = ExecutionState(
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        id=execution_id,
        workflow_version=workflow_version,
        status=ExecutionStatus.PENDING,
        started_at=run.started_at,
        updated_at=run.started_at,
        version=1,
        total_steps=len(steps),
        current_run_id=run.run_id,
        runs=(run,),
        progress=Progress.of_counts(0, 0, len(steps)),
        schedule=progress.initial_schedule(steps, run.started_at),
        input=execution_input,
        retry_of=retry_of,
        idempotency_key=idempotency_key,
        check_at=stalls.check_at(clock.parse_iso(run.started_at), stalls.START_GRACE_MS),
    )
    first = steps[0] if steps else None
    estimated = progress.estimate(execution, first, clock.parse_iso(run.started_at))
    return replace(execution, progress=estimated), steps
