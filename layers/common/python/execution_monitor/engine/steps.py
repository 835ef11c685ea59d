"""What run_action does for each operation of the state machine.

Each operation reads what it needs (the execution header, the step, and the steps its params
reference: O(1) reads per step, however long the workflow), decides a transition, and writes it
conditionally on the state it read. When the write loses to another writer, it reads again and
decides again: the execution may have been cancelled or restarted meanwhile (the run stops
quietly), or the write may already be there (Step Functions delivers tasks at least once).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from execution_monitor import actions, clock
from execution_monitor.domain import transitions
from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.domain.transitions import Transition
from execution_monitor.engine.contract import Outcome, RunRef, TaskOutput
from execution_monitor.engine.failures import describe
from execution_monitor.engine.templates import resolve
from execution_monitor.observability import logger
from execution_monitor.store.interface import ExecutionStore, StepContext, StoreContention

DEADLINE_MARGIN_SECONDS = 5
# Reads and re-decisions when a write loses to a concurrent writer (then Step Functions retries
# the task on StoreContention, with backoff).
WRITE_ATTEMPTS = 4
# Once an action has run, recording it must not be left to a retry of the whole task (which would
# run the action again): throttling then is waited out here, in place.
RECORD_PAUSES = (0.1, 0.3, 0.9)

COMPLETED = TaskOutput(outcome=Outcome.COMPLETED)
WAITING = TaskOutput(outcome=Outcome.WAITING)
FAILED = TaskOutput(outcome=Outcome.FAILED)
ABANDONED = TaskOutput(outcome=Outcome.ABANDONED)

# What an operation decides from what it read: an answer now, or a transition to write and the
# answer to give once it is written.
Decision = TaskOutput | tuple[Transition, TaskOutput]


class StepRunner:
    def __init__(self, store: ExecutionStore, run: RunRef, now: Callable[[], datetime] = clock.now) -> None:
        self.store = store
        self.run = run
        self.now = now

    # -- reading and settling --------------------------------------------------------------------

    def _current(self, execution: ExecutionState) -> bool:
        if execution.is_current(self.run.run_id):
            return True
        logger.info("run is no longer current", extra={"status": execution.status})
        return False

    def _ran_here(self, step: StepState, status: StepStatus, attempt: int | None = None) -> bool:
        return (
            step.status is status
            and step.run_id == self.run.run_id
            and (attempt is None or step.attempt == attempt)
        )

    def _settle(
        self, index: int, decide: Callable[[StepContext], Decision], write: Callable[[Transition], bool]
    ) -> tuple[TaskOutput, StepContext | None]:
        """The answer, and the context it was decided from when a transition was written."""
        for _ in range(WRITE_ATTEMPTS):
            context = self.store.get_step_context(self.run.workspace_id, self.run.execution_id, index)
            if context is None:
                return ABANDONED, None
            decided = decide(context)
            if isinstance(decided, TaskOutput):
                return decided, None
            transition, answer = decided
            if write(transition):
                return answer, context
        raise StoreContention(f"execution {self.run.execution_id} kept changing; the task will be retried")

    # -- delays (the Wait state sits between the two) --------------------------------------------

    def begin_delay(self, index: int) -> TaskOutput:
        def decide(context: StepContext) -> Decision:
            step = context.step
            if self._ran_here(step, StepStatus.COMPLETED):
                return COMPLETED
            if not self._current(context.execution):
                return ABANDONED
            if self._ran_here(step, StepStatus.RUNNING):
                return WAITING  # begun by an earlier invocation of this task
            return transitions.begin_step(context.execution, step, self.run.run_id, self.now()), WAITING

        return self._settle(index, decide, self.store.claim_step)[0]

    def finish_delay(self, index: int) -> TaskOutput:
        def decide(context: StepContext) -> Decision:
            step = context.step
            if self._ran_here(step, StepStatus.COMPLETED):
                return COMPLETED
            if not self._current(context.execution) or not self._ran_here(step, StepStatus.RUNNING):
                return ABANDONED
            return transitions.complete_step(context.execution, step, {}, self.now()), COMPLETED

        return self._record(index, decide)

    # -- actions ---------------------------------------------------------------------------------

    def attempt(self, index: int, remaining_ms: int) -> TaskOutput:
        def begin(context: StepContext) -> Decision:
            if self._ran_here(context.step, StepStatus.COMPLETED):
                return COMPLETED  # a repeated invocation: the step's own record says it is done
            if not self._current(context.execution):
                return ABANDONED
            return transitions.begin_step(
                context.execution, context.step, self.run.run_id, self.now()
            ), WAITING

        started, context = self._settle(index, begin, self.store.claim_step)
        if context is None:
            return started
        attempt = context.step.attempt + 1
        action = context.step.action
        timeout = min(action.time_limit_seconds, max(1, remaining_ms / 1000 - DEADLINE_MARGIN_SECONDS))
        references = {
            "input": context.execution.input,
            "steps": {
                action_id: dependency.output
                for action_id, dependency in context.dependencies.items()
                if dependency.status is StepStatus.COMPLETED
            },
        }
        try:
            params = type(action.params).model_validate(resolve(action.params.to_json_dict(), references))
            output = actions.perform(action, params, timeout)
        except Exception as error:
            return self._record_failure(index, attempt, describe(error))
        return self._record_success(index, attempt, output)

    def _record(self, index: int, decide: Callable[[StepContext], Decision]) -> TaskOutput:
        for pause in RECORD_PAUSES:
            try:
                return self._settle(index, decide, self.store.finish_step)[0]
            except StoreContention:
                time.sleep(pause)
        return self._settle(index, decide, self.store.finish_step)[0]

    def _record_success(self, index: int, attempt: int, output: object) -> TaskOutput:
        def decide(context: StepContext) -> Decision:
            step = context.step
            if self._ran_here(step, StepStatus.COMPLETED, attempt):
                return COMPLETED
            if not self._current(context.execution) or not self._ran_here(step, StepStatus.RUNNING, attempt):
                return ABANDONED
            return transitions.complete_step(context.execution, step, output, self.now()), COMPLETED

        return self._record(index, decide)

    def _record_failure(self, index: int, attempt: int, error: str) -> TaskOutput:
        def decide(context: StepContext) -> Decision:
            execution, step = context.execution, context.step
            if self._ran_here(step, StepStatus.FAILED, attempt):
                return FAILED
            if not self._current(execution) or not self._ran_here(step, StepStatus.RUNNING, attempt):
                return ABANDONED
            if attempt >= step.action.max_attempts:
                return transitions.fail_step(execution, step, error, self.now()), FAILED
            retry = step.action.retry
            assert retry is not None  # more than one attempt comes from a retry policy
            again = TaskOutput(outcome=Outcome.RETRY, wait_seconds=retry.wait_before(attempt + 1))
            if any(past.attempt == attempt for past in step.history):
                return again  # recorded by an earlier invocation of this task
            wait = retry.wait_before(attempt + 1)
            return transitions.retry_later(execution, step, error, wait, self.now()), again

        return self._record(index, decide)

    # -- the run's end ---------------------------------------------------------------------------

    def complete(self) -> TaskOutput:
        return self._end(ExecutionStatus.COMPLETED, None)

    def fail(self, error: str) -> TaskOutput:
        return self._end(ExecutionStatus.FAILED, error)

    def _end(self, status: ExecutionStatus, error: str | None) -> TaskOutput:
        done = TaskOutput(outcome=Outcome(status.value))
        for _ in range(WRITE_ATTEMPTS):
            execution = self.store.get_header(self.run.workspace_id, self.run.execution_id)
            if execution is None:
                return ABANDONED
            if execution.status is status and execution.current_run_id == self.run.run_id:
                return done
            if not self._current(execution):
                return ABANDONED
            if self.store.end_execution(transitions.end_execution(execution, status, self.now(), error)):
                return done
        raise StoreContention(f"execution {self.run.execution_id} kept changing; the task will be retried")
