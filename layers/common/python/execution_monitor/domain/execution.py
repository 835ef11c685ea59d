"""An execution, its steps and runs as typed state, and the read-model rules derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain.status import RETRYABLE, ExecutionStatus, StepStatus


@dataclass(frozen=True, slots=True)
class Run:
    """One state-machine run of an execution; retry-step starts another from a later step."""

    run_id: str
    start_index: int
    started_at: str
    arn: str  # internal (account id, state machine): never on the wire


@dataclass(frozen=True, slots=True)
class Attempt:
    """A finished earlier attempt of a step, kept in its history when the step is tried again."""

    attempt: int
    status: StepStatus
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    completed_steps: int
    failed_steps: int
    total_steps: int
    percentage: int
    estimated_time_remaining_ms: int | None = None
    estimated_completion_at: str | None = None

    @staticmethod
    def of_counts(completed: int, failed: int, total: int) -> Progress:
        # floor(100 * completed / total): 100 only when every step completed.
        percentage = (100 * completed) // total if total > 0 else 0
        return Progress(completed, failed, total, percentage)


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the ETA is computed from, kept on the execution so every transition updates it in O(1).

    `remaining_known_ms` sums the expected wall time of the steps not completed yet whose
    duration is known (from the workflow's statistics when the execution was created, or a delay's
    seconds); `remaining_unknown` counts the others, which the execution's own mean wall time
    (`own_wall_*`, delays excluded) stands in for once there is one. `due_since` is when the step
    now due (running or next to start) became due: its run's start or the previous step's end.
    """

    remaining_known_ms: int = 0
    remaining_unknown: int = 0
    own_wall_sum_ms: int = 0
    own_wall_count: int = 0
    due_since: str | None = None

    @property
    def own_mean_ms(self) -> int | None:
        return round(self.own_wall_sum_ms / self.own_wall_count) if self.own_wall_count else None


@dataclass(frozen=True, slots=True)
class Stall:
    """A running step that has run well past what its history predicts (docs/stalls.md)."""

    action_id: str
    running_for_ms: int
    expected_duration_ms: int


@dataclass(frozen=True, slots=True)
class ExecutionState:
    workspace_id: str
    workflow_id: str
    id: str
    workflow_version: int
    status: ExecutionStatus
    started_at: str
    updated_at: str
    version: int
    total_steps: int
    current_run_id: str
    runs: tuple[Run, ...]
    progress: Progress
    schedule: Schedule
    input: dict[str, Any] = field(default_factory=dict)
    completed_at: str | None = None
    duration_ms: int | None = None
    error: str | None = None
    retry_of: str | None = None
    retried_by: str | None = None
    idempotency_key: str | None = None
    running_step: int | None = None  # index of the step running now, if any
    stalled: Stall | None = None
    check_at: str | None = None  # when the sweep should look at it (domain/stalls.py); None: never

    @property
    def due_index(self) -> int:
        """The step running or next to run: steps complete in order, from the first."""
        return self.running_step if self.running_step is not None else self.progress.completed_steps

    @property
    def current_run(self) -> Run:
        return next(run for run in self.runs if run.run_id == self.current_run_id)

    @property
    def can_cancel(self) -> bool:
        return self.status.is_active

    @property
    def can_retry(self) -> bool:
        return self.status in RETRYABLE and not self.retried_by

    def is_current(self, run_id: str) -> bool:
        """Whether `run_id` may still write: the execution is active and this is its current run."""
        return self.status.is_active and self.current_run_id == run_id


@dataclass(frozen=True, slots=True)
class StepState:
    workspace_id: str
    workflow_id: str
    execution_id: str
    index: int
    action: ActionDefinition
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    run_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int | None = None
    wall_ms: int | None = None  # what the completed step cost the execution (see Schedule)
    expected_ms: int | None = None  # its expected wall time when the execution was created
    output: Any = None
    error: str | None = None
    history: tuple[Attempt, ...] = ()
    depends_on: tuple[int, ...] = ()  # indexes of the earlier steps its params reference
    stats_attempt: int = 0  # the attempt whose wall time is in the workflow's statistics

    @property
    def action_id(self) -> str:
        return self.action.id

    @property
    def action_type(self) -> str:
        return self.action.type

    @property
    def name(self) -> str | None:
        return self.action.name


# -- read-model rules ---------------------------------------------------------------------------


def displayed_step_status(step: StepStatus, execution: ExecutionStatus) -> StepStatus:
    """Pending steps of a finished execution never ran: they read as skipped, without 1000 writes.
    A step the run ended under (stopped, or the engine failed) did not complete."""
    if execution.is_terminal and step is StepStatus.PENDING:
        return StepStatus.SKIPPED
    if step is StepStatus.RUNNING and execution in (ExecutionStatus.CANCELLED, ExecutionStatus.FAILED):
        return StepStatus.CANCELLED if execution is ExecutionStatus.CANCELLED else StepStatus.FAILED
    return step


def counted_progress(
    execution: ExecutionState, steps: list[StepState], completed_before: int = 0
) -> Progress:
    """The progress with counts taken from the steps at hand (newer than any stored aggregate).

    `completed_before`: steps known completed that precede `steps` (a read from a later index).
    """
    displayed = [displayed_step_status(step.status, execution.status) for step in steps]
    counts = Progress.of_counts(
        completed_before + displayed.count(StepStatus.COMPLETED),
        displayed.count(StepStatus.FAILED),
        execution.total_steps,
    )
    return _with_eta(counts, execution.progress)


def _with_eta(counts: Progress, stored: Progress) -> Progress:
    return Progress(
        counts.completed_steps,
        counts.failed_steps,
        counts.total_steps,
        counts.percentage,
        stored.estimated_time_remaining_ms,
        stored.estimated_completion_at,
    )


def retryable_step(execution: ExecutionState, steps: list[StepState], step: StepState) -> bool:
    """The failed step of a failed execution, or the interrupted step (the first one not completed)
    of a cancelled one."""
    if execution.status is ExecutionStatus.FAILED:
        return step.status in (StepStatus.FAILED, StepStatus.RUNNING)
    if execution.status is ExecutionStatus.CANCELLED:
        first_open = next(
            (candidate for candidate in steps if candidate.status != StepStatus.COMPLETED), None
        )
        return first_open is not None and first_open.index == step.index
    return False
