"""API-side execution operations: start, cancel, retry the execution, retry one step."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from execution_monitor import clock, jsonvalues, observability
from execution_monitor import metric_names as names
from execution_monitor.actions.definitions import ActionDefinition
from execution_monitor.domain import progress, transitions
from execution_monitor.domain.execution import ExecutionState, Run, StepState, retryable_step
from execution_monitor.domain.status import RETRYABLE, ExecutionStatus, StepStatus
from execution_monitor.domain.workflow import IdempotencyClaim, Workflow
from execution_monitor.engine.contract import run_input
from execution_monitor.engine.runner import Runner
from execution_monitor.errors import Conflict, NotFound
from execution_monitor.executions import require_execution
from execution_monitor.observability import logger
from execution_monitor.store.interface import ExecutionStore, Loaded, StatisticsStore

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
CONFLICT_ATTEMPTS = 3  # re-reads when a write loses to a concurrent writer


def _run(runner: Runner, execution_id: str, number: int, start_index: int, now: str) -> Run:
    run_id = f"{execution_id}-{number}"
    return Run(run_id=run_id, start_index=start_index, started_at=now, arn=runner.run_arn(run_id))


def _new_execution(
    statistics: StatisticsStore,
    runner: Runner,
    *,
    workspace_id: str,
    workflow_id: str,
    workflow_version: int,
    actions: list[ActionDefinition],
    execution_input: dict[str, Any],
    retry_of: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[ExecutionState, list[StepState]]:
    """The new execution, its steps expected to take what the workflow's statistics say now."""
    execution_id = clock.new_id("exec")
    stats = statistics.get_step_stats(workspace_id, workflow_id, [action.id for action in actions])
    return transitions.create(
        execution_id=execution_id,
        run=_run(runner, execution_id, 1, 0, clock.iso(clock.now())),
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        workflow_version=workflow_version,
        actions=actions,
        expected=progress.expectations(actions, stats),
        execution_input=execution_input,
        retry_of=retry_of,
        idempotency_key=idempotency_key,
    )


def _launch(
    store: ExecutionStore,
    runner: Runner,
    execution: ExecutionState,
    steps: list[StepState],
    undo_claim: Callable[[], object],
) -> None:
    """Creates the execution, then starts its first run. If the execution cannot be created, the
    claim made for it (idempotency key, retry link) is undone so that a repeat is not locked out."""
    logger.append_keys(execution_id=execution.id)  # a new id: the request's path had none
    try:
        store.create_execution(execution, steps)
    except Exception:
        undo_claim()
        raise
    try:
        runner.start(execution.current_run_id, run_input(execution, steps, execution.current_run_id))
        observability.count(names.EXECUTIONS_STARTED)
    except Exception as error:
        logger.exception("could not start the first run")
        store.end_execution(
            transitions.end_execution(
                execution, ExecutionStatus.FAILED, clock.now(), f"could not start: {error}"
            )
        )
        raise


def start_execution(
    store: ExecutionStore,
    statistics: StatisticsStore,
    runner: Runner,
    workflow: Workflow,
    execution_input: dict[str, Any],
    idempotency_key: str | None = None,
) -> tuple[Loaded, bool]:
    """Returns the execution and whether this call created it (False: an idempotent repeat)."""
    execution, steps = _new_execution(
        statistics,
        runner,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        actions=list(workflow.actions),
        execution_input=execution_input,
        idempotency_key=idempotency_key,
    )
    claim: IdempotencyClaim | None = None
    if idempotency_key:
        now_epoch = int(clock.now().timestamp())
        claim = IdempotencyClaim(
            workspace_id=workflow.workspace_id,
            workflow_id=workflow.id,
            key=idempotency_key,
            execution_id=execution.id,
            request_hash=hashlib.sha256(jsonvalues.dumps(execution_input).encode()).hexdigest(),
            expires_at=now_epoch + IDEMPOTENCY_TTL_SECONDS,
        )
        held = store.claim_idempotency_key(claim, now_epoch)
        if held is not None:
            if held.request_hash != claim.request_hash:
                raise Conflict("this Idempotency-Key was used with a different request body")
            existing = store.get_execution(workflow.workspace_id, held.execution_id)
            if existing is None:
                raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
            return existing, False

    def release_claim() -> None:
        if claim is not None:
            store.release_idempotency_key(claim)

    _launch(store, runner, execution, steps, release_claim)
    return (execution, steps), True


def _load(store: ExecutionStore, workspace_id: str, workflow_id: str, execution_id: str) -> Loaded:
    return require_execution(store.get_execution(workspace_id, execution_id), workflow_id, execution_id)


def _reload(store: ExecutionStore, execution: ExecutionState) -> Loaded:
    return _load(store, execution.workspace_id, execution.workflow_id, execution.id)


def cancel_execution(
    store: ExecutionStore, runner: Runner, workspace_id: str, workflow_id: str, execution_id: str
) -> Loaded:
    for _ in range(CONFLICT_ATTEMPTS):
        execution, steps = _load(store, workspace_id, workflow_id, execution_id)
        if execution.status is ExecutionStatus.CANCELLED:
            return execution, steps
        if not execution.can_cancel:
            raise Conflict(f"execution is already {execution.status}")
        running = next((step for step in steps if step.status is StepStatus.RUNNING), None)
        if store.cancel(transitions.cancel(execution, running, clock.now())):
            # The record is authoritative; stopping the run only saves work. A step that finishes
            # meanwhile fails its conditional write and leaves the cancelled state alone.
            try:
                runner.stop(runner.run_arn(execution.current_run_id), "cancelled through the API")
            except Exception:  # the reconciler settles the run whenever it ends
                logger.exception("could not stop the run of a cancelled execution")
            return _reload(store, execution)
    raise Conflict("the execution kept changing while cancelling; try again")


def retry_execution(
    store: ExecutionStore,
    statistics: StatisticsStore,
    runner: Runner,
    workspace_id: str,
    workflow_id: str,
    execution_id: str,
) -> Loaded:
    execution, steps = _load(store, workspace_id, workflow_id, execution_id)
    if execution.status not in RETRYABLE:
        raise Conflict(f"only a failed or cancelled execution can be retried; this one is {execution.status}")
    if execution.retried_by:
        raise Conflict(f"execution was already retried by {execution.retried_by}")
    new_execution, new_steps = _new_execution(
        statistics,
        runner,
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        workflow_version=execution.workflow_version,
        actions=[step.action for step in steps],
        execution_input=execution.input,
        retry_of=execution_id,
    )
    # The link decides between concurrent retries: only one caller links a new execution.
    linked = transitions.link_retry(execution, new_execution.id, clock.now())
    if not store.link_retry(linked):
        raise Conflict("execution was retried concurrently or changed state")

    def unlink() -> None:
        current = store.get_header(workspace_id, execution_id)
        if current is not None and current.retried_by == new_execution.id:
            store.unlink_retry(transitions.unlink_retry(current, clock.now()))

    _launch(store, runner, new_execution, new_steps, unlink)
    return new_execution, new_steps


def retry_step(
    store: ExecutionStore,
    runner: Runner,
    workspace_id: str,
    workflow_id: str,
    execution_id: str,
    action_id: str,
) -> Loaded:
    # The restart is conditional on the version read; another write can move it meanwhile, so
    # re-read and re-check a few times. A concurrent retry-step makes the step not retryable: 409.
    for _ in range(CONFLICT_ATTEMPTS):
        execution, steps = _load(store, workspace_id, workflow_id, execution_id)
        step = next((candidate for candidate in steps if candidate.action_id == action_id), None)
        if step is None:
            raise NotFound(f"execution {execution_id} has no action {action_id}")
        if not retryable_step(execution, steps, step):
            raise Conflict(
                f"only the failed step of a failed execution (or the interrupted step of a cancelled one) "
                f"can be retried; execution is {execution.status}, step {action_id} is {step.status}"
            )
        now = clock.now()
        run = _run(runner, execution_id, len(execution.runs) + 1, step.index, clock.iso(now))
        restart = transitions.restart_from_step(execution, step, run, now)
        if store.start_run(restart):
            break
    else:
        raise Conflict("the execution kept changing; reload it and try again")
    try:
        runner.start(run.run_id, run_input(restart.execution, steps[step.index :], run.run_id))
    except Exception:
        logger.exception("could not start the retry run")
        failed = transitions.end_execution(
            restart.execution, ExecutionStatus.FAILED, now, "could not restart the run"
        )
        store.end_execution(failed)
        raise
    return _reload(store, execution)
