"""Domain objects for tests: actions, statistics, and executions driven through the real transitions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from execution_monitor import clock
from execution_monitor.actions.definitions import (
    ActionDefinition,
    DelayAction,
    DelayParams,
    HttpRequestAction,
)
from execution_monitor.domain import progress, transitions
from execution_monitor.domain.execution import Progress, Run
from execution_monitor.domain.statistics import StepStats, definition_hash

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def http(action_id: str) -> HttpRequestAction:
    return HttpRequestAction.model_validate(
        {"id": action_id, "type": "http_request", "params": {"url": f"https://example.com/{action_id}"}}
    )


def delay(action_id: str, seconds: int) -> DelayAction:
    return DelayAction(id=action_id, type="delay", params=DelayParams(seconds=seconds))


def learned(action: ActionDefinition, *durations: int) -> StepStats:
    stats = StepStats()
    for position, duration in enumerate(durations):
        stats = stats.add(clock.iso(at(position)), duration, definition_hash(action), f"e{position}#0#1")
    return stats


class Driven:
    """One execution driven through the domain's transitions at chosen instants (ms after T0)."""

    def __init__(
        self, actions: Sequence[ActionDefinition], stats: dict[str, StepStats] | None = None
    ) -> None:
        run = Run("exec_1-1", 0, clock.iso(T0), "arn")
        self.execution, self.steps = transitions.create(
            execution_id="exec_1",
            run=run,
            workspace_id="ws1",
            workflow_id="wf1",
            workflow_version=1,
            actions=actions,
            expected=progress.expectations(actions, stats or {}),
            execution_input={},
        )

    def apply(self, transition: transitions.Transition) -> Progress:
        self.execution = transition.execution
        if transition.step is not None:
            self.steps[transition.step.index] = transition.step
        return self.execution.progress

    def begin(self, index: int, ms: float) -> Progress:
        return self.apply(transitions.begin_step(self.execution, self.steps[index], "exec_1-1", at(ms)))

    def complete(self, index: int, ms: float) -> Progress:
        return self.apply(transitions.complete_step(self.execution, self.steps[index], {}, at(ms)))

    def run_step(self, index: int, begin_ms: float, end_ms: float) -> Progress:
        self.begin(index, begin_ms)
        return self.complete(index, end_ms)
