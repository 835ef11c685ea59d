"""Settles an execution whose run ended without run_action recording it (timeout, abort, crash)."""

from __future__ import annotations

import json
from typing import Any

from execution_monitor import clock
from execution_monitor.domain import transitions
from execution_monitor.domain.status import ExecutionStatus
from execution_monitor.engine.failures import one_line, run_failure
from execution_monitor.observability import logger
from execution_monitor.store.interface import ExecutionStore

# Step Functions run status -> execution status it leaves behind when nothing else recorded one.
_SETTLED_AS = {
    "SUCCEEDED": ExecutionStatus.COMPLETED,
    "FAILED": ExecutionStatus.FAILED,
    "TIMED_OUT": ExecutionStatus.FAILED,
    "ABORTED": ExecutionStatus.CANCELLED,
}


def settle_run(store: ExecutionStore, detail: dict[str, Any]) -> str:
    """Returns what it did: 'settled:<status>' or why it left the record alone."""
    status = _SETTLED_AS.get(detail.get("status", ""))
    if status is None:
        return "ignored: run still going"
    try:
        ref = json.loads(detail.get("input") or "{}")["execution"]
        workspace_id, execution_id = ref["workspaceId"], ref["executionId"]
    except (ValueError, KeyError, TypeError):
        return "ignored: not a run of ours"
    logger.append_keys(execution_id=execution_id)
    execution = store.get_header(workspace_id, execution_id)
    if execution is None:
        return "ignored: unknown execution"
    if not execution.is_current(str(detail.get("name"))):
        return "ignored: already settled or superseded"
    error = None
    if status is not ExecutionStatus.COMPLETED:
        reason = run_failure(detail.get("error"), detail.get("cause"))
        ended = f"run {detail['status'].lower().replace('_', ' ')}"
        error = one_line(f"{ended}: {reason}" if reason else ended)
    settled = store.end_execution(transitions.end_execution(execution, status, clock.now(), error))
    logger.info("reconciled run", extra={"status": status, "settled": settled})
    return f"settled:{status}" if settled else "ignored: lost a race"
