"""The sweep: finds, through the sweep index (no Scan), the executions due for a look, and flags
the stalled ones (domain/stalls.py). It also rescues an execution whose first run never began
(the API answered, then the process died before starting it): it starts the run, by its name,
which Step Functions makes idempotent. Scheduled every minute in AWS, every few seconds locally."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from execution_monitor import clock
from execution_monitor.domain import stalls, transitions
from execution_monitor.domain.execution import ExecutionState
from execution_monitor.domain.status import ExecutionStatus
from execution_monitor.engine.contract import run_input
from execution_monitor.engine.runner import Runner
from execution_monitor.observability import logger
from execution_monitor.store.interface import ExecutionStore

ATTEMPTS = 3


def sweep(store: ExecutionStore, runner: Runner, now: datetime) -> Counter[str]:
    """Looks at every execution due by `now`; returns how many ended how."""
    outcomes: Counter[str] = Counter()
    for workspace_id, execution_id in store.due_for_check(clock.iso(now)):
        try:
            outcomes[look(store, runner, workspace_id, execution_id, now)] += 1
        except Exception:  # one execution's trouble must not stop the sweep of the others
            logger.exception("sweep could not look at an execution", extra={"execution_id": execution_id})
            outcomes["error"] += 1
    return outcomes


def look(store: ExecutionStore, runner: Runner, workspace_id: str, execution_id: str, now: datetime) -> str:
    for _ in range(ATTEMPTS):
        execution = store.get_header(workspace_id, execution_id)
        if execution is None or not execution.status.is_active or execution.check_at is None:
            return "settled"
        if execution.check_at > clock.iso(now):
            return "not due"
        if execution.status is ExecutionStatus.PENDING and not _run_exists(store, runner, execution):
            return "restarted"
        step = store.get_step(execution, execution.due_index)
        if step is None:
            return "settled"
        anchor = step.started_at if execution.running_step == step.index else execution.schedule.due_since
        limit = stalls.stall_after_ms(step) if execution.running_step == step.index else stalls.START_GRACE_MS
        overdue_by = _elapsed_ms(anchor, now) - limit
        if overdue_by >= 0:
            if store.mark_stalled(transitions.mark_stalled(execution, step, now)):
                logger.info(
                    "execution stalled", extra={"execution_id": execution_id, "action_id": step.action_id}
                )
                return "stalled"
        elif store.postpone_check(transitions.look_again(execution, -overdue_by, now)):
            return "on time"
    return "contended"


def _elapsed_ms(since: str | None, now: datetime) -> int:
    return 0 if not since else clock.millis_between(since, clock.iso(now))


def _run_exists(store: ExecutionStore, runner: Runner, execution: ExecutionState) -> bool:
    """Starts the current run if it was never started (False then); True when it exists."""
    if runner.run_status(execution.current_run_id) is not None:
        return True
    loaded = store.get_execution(execution.workspace_id, execution.id)
    if loaded is None:
        return True
    _, steps = loaded
    run = execution.current_run
    runner.start(run.run_id, run_input(execution, steps[run.start_index :], run.run_id))
    store.postpone_check(transitions.look_again(execution, stalls.START_GRACE_MS, clock.now()))
    logger.warning("started a run that was never started", extra={"execution_id": execution.id})
    return False
