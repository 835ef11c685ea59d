"""Progress and estimated time remaining of one execution, from its header and steps.

Pure functions: no I/O, and `now` is always a parameter, so the same inputs give the same answer
(tests pin the clock; the updater passes the time of the write). The method is in docs/eta.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from execution_monitor import clock
from execution_monitor.models import TERMINAL_EXECUTION_STATUSES
from execution_monitor.step_stats import StepStats, definition_hash
from execution_monitor.store.codec import empty_progress, loads
from execution_monitor.store.records import step_counts

# A recomputed ETA within this much of the stored one is "the same" (no write, no version bump).
# Without a tolerance every replayed record would rewrite an ETA that only moved with the clock.
ETA_TOLERANCE_MS = 1000
ETA_TOLERANCE_FRACTION = 0.05
REMAINING_STEP_STATUSES = ("pending", "running")

Record = dict[str, Any]


def step_action(step: Record) -> dict[str, Any]:
    action: dict[str, Any] = loads(step.get("action"), {})
    return action


def configured_delay_ms(step: Record) -> int | None:
    """A delay step's duration is known in advance: at least its configured seconds."""
    if step.get("actionType") != "delay":
        return None
    return round(float(step_action(step)["params"]["seconds"]) * 1000)


def _steps_by_index(steps: Sequence[Record]) -> dict[int, Record]:
    return {int(step["index"]): step for step in steps}


def due_since(header: Record, steps: Sequence[Record], step: Record) -> str | None:
    """When the step became the one to run: its run's start if it is the run's first step, else
    the end of the step before it. Wall time from there to the step's end is what the step costs
    the execution — the engine's scheduling, retries and backoff included, not only the action.
    """
    index = int(step["index"])
    runs = {run["runId"]: run for run in header.get("runs", [])}
    run = runs.get(step.get("runId") or header.get("currentRunId"))
    if run is not None and int(run["startIndex"]) == index:
        return str(run["startedAt"])
    previous = _steps_by_index(steps).get(index - 1)
    if previous is not None and previous.get("completedAt"):
        return str(previous["completedAt"])
    if index == 0:
        return str(header["startedAt"])
    started: str | None = step.get("startedAt")
    return started


def wall_ms(header: Record, steps: Sequence[Record], step: Record) -> int | None:
    """What a completed step cost the execution (falls back to its own duration)."""
    anchor, completed = due_since(header, steps, step), step.get("completedAt")
    if anchor and completed and anchor <= completed:
        return clock.millis_between(anchor, completed)
    duration = step.get("durationMs")
    return None if duration is None else int(duration)


def own_mean_ms(header: Record, steps: Sequence[Record]) -> int | None:
    """The mean wall time of this execution's completed steps, delays excluded (they say nothing)."""
    walls = [
        wall
        for step in steps
        if step["status"] == "completed" and step.get("actionType") != "delay"
        for wall in [wall_ms(header, steps, step)]
        if wall is not None
    ]
    return round(sum(walls) / len(walls)) if walls else None


def typical_ms(step: Record, stats: Mapping[str, StepStats], fallback_ms: int | None) -> int | None:
    """This workflow's statistics for the action (a delay: never below its configured seconds),
    else a delay's configured seconds, else the execution's own mean."""
    known = stats.get(step["actionId"])
    learned = None if known is None else known.typical_for(definition_hash(step_action(step)))
    delay = configured_delay_ms(step)
    if delay is not None:
        return delay if learned is None else max(delay, learned)
    return learned if learned is not None else fallback_ms


def elapsed_ms(since: str | None, now: datetime) -> int:
    if not since:
        return 0
    return max(0, round((now - clock.parse_iso(since)).total_seconds() * 1000))


def estimate_remaining_ms(
    header: Record, steps: Sequence[Record], stats: Mapping[str, StepStats], now: datetime
) -> int | None:
    """Typical wall time of every step still to run, less what the next one has already used.

    None when the execution is terminal, or when a step still to run has no estimate at all (an ETA
    that silently leaves steps out would be wrong, not just imprecise).
    """
    if header["status"] in TERMINAL_EXECUTION_STATUSES:
        return None
    fallback = own_mean_ms(header, steps)
    remaining = 0
    next_due = True  # the first step still to run is the running one, or the next to start
    for step in sorted(steps, key=lambda candidate: int(candidate["index"])):
        if step["status"] not in REMAINING_STEP_STATUSES:
            continue
        typical = typical_ms(step, stats, fallback)
        if typical is None:
            return None
        if next_due:
            remaining += max(0, typical - elapsed_ms(due_since(header, steps, step), now))
            next_due = False
        else:
            remaining += typical
    return remaining


def compute_progress(
    header: Record, steps: Sequence[Record], stats: Mapping[str, StepStats], now: datetime
) -> dict[str, Any]:
    remaining = estimate_remaining_ms(header, steps, stats, now)
    return {
        **step_counts(header["status"], list(steps), int(header.get("totalSteps", len(steps)))),
        "estimatedTimeRemaining": remaining,
        "estimatedCompletionAt": None
        if remaining is None
        else clock.iso(now + timedelta(milliseconds=remaining)),
    }


def aggregate(
    header: Record, steps: Sequence[Record], stats: Mapping[str, StepStats], now: datetime
) -> dict[str, Any]:
    """The header attributes the updater owns: `progress`, and `durationMs` once terminal."""
    fields: dict[str, Any] = {"progress": compute_progress(header, steps, stats, now)}
    if header["status"] in TERMINAL_EXECUTION_STATUSES and header.get("completedAt"):
        fields["durationMs"] = clock.millis_between(header["startedAt"], header["completedAt"])
    return fields


def _same_eta(stored: Mapping[str, Any], computed: Mapping[str, Any]) -> bool:
    before, after = stored.get("estimatedCompletionAt"), computed.get("estimatedCompletionAt")
    if before is None or after is None:
        return before is None and after is None
    drift_ms = abs((clock.parse_iso(after) - clock.parse_iso(before)).total_seconds() * 1000)
    remaining = computed.get("estimatedTimeRemaining") or 0
    return drift_ms <= max(ETA_TOLERANCE_MS, ETA_TOLERANCE_FRACTION * remaining)


def same_progress(stored: Mapping[str, Any] | None, computed: Mapping[str, Any]) -> bool:
    """Whether the stored progress already says what the recomputed one says.

    Counts must match exactly; the ETA is compared by its completion instant (which does not move
    with the clock while steps keep to their typical durations), within a tolerance.
    """
    before = stored if stored is not None else empty_progress(int(computed["totalSteps"]))
    exact = ("completedSteps", "failedSteps", "totalSteps", "percentage")
    return all(before.get(name) == computed[name] for name in exact) and _same_eta(before, computed)


def changed_fields(header: Record, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of `fields` that differs from what the header stores (empty: nothing to write)."""
    changed: dict[str, Any] = {}
    if not same_progress(header.get("progress"), fields["progress"]):
        changed["progress"] = fields["progress"]
    if "durationMs" in fields and header.get("durationMs") != fields["durationMs"]:
        changed["durationMs"] = fields["durationMs"]
    if changed:
        # The progress map is written whole, so a duration-only change keeps it consistent.
        changed["progress"] = fields["progress"]
    return changed
