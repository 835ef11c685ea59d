"""When a running execution counts as stalled (docs/stalls.md), and when the sweep should look.

A step is stalled once it has run three times as long as it is expected to, and at least ten
seconds longer; a step with no expectation once it has run ten seconds past its own time limit
(by then the engine itself is stuck: the action would have timed out). An execution is also
stalled when its run does not begin the next step within a grace after the previous one ended, or
its first step within a grace after it was started.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from execution_monitor import clock
from execution_monitor.actions.definitions import DelayAction
from execution_monitor.domain.execution import StepState

STALL_FACTOR = 3
STALL_MARGIN_MS = 10_000
# How long the engine may take to begin a step that is due (the first of a run, or the next one).
START_GRACE_MS = 60_000


def expected_duration_ms(step: StepState) -> int:
    """What the step is expected to take: its expectation, else its time limit."""
    if step.expected_ms is not None:
        return step.expected_ms
    if isinstance(step.action, DelayAction):
        return step.action.params.seconds * 1000
    return step.action.time_limit_seconds * 1000


def stall_after_ms(step: StepState) -> int:
    """How long the step may run before the execution counts as stalled."""
    if step.expected_ms is None:
        return expected_duration_ms(step) + STALL_MARGIN_MS
    return max(STALL_FACTOR * step.expected_ms, step.expected_ms + STALL_MARGIN_MS)


def check_at(moment: datetime, after_ms: int) -> str:
    return clock.iso(moment + timedelta(milliseconds=after_ms))
