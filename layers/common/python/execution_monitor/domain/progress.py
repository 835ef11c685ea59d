"""Progress and estimated time remaining, updated in O(1) at every transition (docs/eta.md).

Pure functions: no I/O, and `now` is always a parameter. The engine calls them when it records a
transition, so the stored progress is exact and current the moment a step moves; nothing re-reads
an execution's steps to recompute it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from execution_monitor import clock
from execution_monitor.actions.definitions import ActionDefinition, DelayAction
from execution_monitor.domain.execution import ExecutionState, Progress, Schedule, StepState
from execution_monitor.domain.statistics import StepStats, definition_hash


def expected_ms(action: ActionDefinition, stats: StepStats | None) -> int | None:
    """A step's expected wall time: the workflow's statistics for this very action definition (a
    delay: never below its configured seconds), else a delay's seconds, else unknown."""
    learned = None if stats is None else stats.typical_for(definition_hash(action))
    if isinstance(action, DelayAction):
        configured = action.params.seconds * 1000
        return configured if learned is None else max(configured, learned)
    return learned


def initial_schedule(steps: list[StepState], started_at: str) -> Schedule:
    known = [step.expected_ms for step in steps if step.expected_ms is not None]
    return Schedule(
        remaining_known_ms=sum(known), remaining_unknown=len(steps) - len(known), due_since=started_at
    )


def expectations(actions: Sequence[ActionDefinition], stats: Mapping[str, StepStats]) -> list[int | None]:
    return [expected_ms(action, stats.get(action.id)) for action in actions]


def remaining_ms(schedule: Schedule, due_expected_ms: int | None, elapsed_ms: int) -> int | None:
    """Expected wall time of every step still to run, less what the due one has already used (never
    more than its own expectation). None when a step still to run has no estimate at all: an ETA
    that silently leaves steps out would be wrong, not just imprecise."""
    fallback = schedule.own_mean_ms
    if schedule.remaining_unknown and fallback is None:
        return None
    total = schedule.remaining_known_ms + schedule.remaining_unknown * (fallback or 0)
    due = due_expected_ms if due_expected_ms is not None else fallback
    return max(0, total - min(elapsed_ms, due or 0))


def elapsed_ms(since: str | None, now: datetime) -> int:
    if not since:
        return 0
    return max(0, round((now - clock.parse_iso(since)).total_seconds() * 1000))


def with_eta(progress: Progress, remaining: int | None, now: datetime) -> Progress:
    return replace(
        progress,
        estimated_time_remaining_ms=remaining,
        estimated_completion_at=None
        if remaining is None
        else clock.iso(now + timedelta(milliseconds=remaining)),
    )


def estimate(execution: ExecutionState, due: StepState | None, now: datetime) -> Progress:
    """The execution's progress with an ETA as of `now`; `due` is the step running or next to run."""
    if execution.status.is_terminal:
        return with_eta(execution.progress, None, now)
    due_expected = None if due is None else due.expected_ms
    remaining = remaining_ms(execution.schedule, due_expected, elapsed_ms(execution.schedule.due_since, now))
    return with_eta(execution.progress, remaining, now)


def due_step_expected_end(execution: ExecutionState, due: StepState | None) -> datetime | None:
    """When the step running or next to run is expected to be done (its expected wall time from
    when it became due); None when the execution is over or that step's duration is unknown."""
    if (
        execution.status.is_terminal
        or due is None
        or due.expected_ms is None
        or not execution.schedule.due_since
    ):
        return None
    return clock.parse_iso(execution.schedule.due_since) + timedelta(milliseconds=due.expected_ms)


def wall_ms(schedule: Schedule, step: StepState, completed_at: str) -> int | None:
    """What a step that completes at `completed_at` cost the execution: from when it became due,
    so the engine's scheduling, retries and backoff count, not only the action's own time."""
    anchor = schedule.due_since
    if anchor and anchor <= completed_at:
        return clock.millis_between(anchor, completed_at)
    return step.duration_ms


def after_completion(schedule: Schedule, step: StepState, wall: int | None, completed_at: str) -> Schedule:
    """The schedule once `step` completed at `completed_at` after `wall` ms."""
    known = step.expected_ms is not None
    counts_for_mean = wall is not None and not isinstance(step.action, DelayAction)
    return Schedule(
        remaining_known_ms=schedule.remaining_known_ms - (step.expected_ms or 0),
        remaining_unknown=schedule.remaining_unknown - (0 if known else 1),
        own_wall_sum_ms=schedule.own_wall_sum_ms + ((wall or 0) if counts_for_mean else 0),
        own_wall_count=schedule.own_wall_count + (1 if counts_for_mean else 0),
        due_since=completed_at,
    )
