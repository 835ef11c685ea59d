"""Settles an execution whose run ended without run_action recording it (timeout, abort, crash)."""

from __future__ import annotations

import json
from typing import Any

from execution_monitor import clock
from execution_monitor.engine.failures import one_line, run_failure
from execution_monitor.models import TERMINAL_EXECUTION_STATUSES
from execution_monitor.observability import logger
from execution_monitor.store.interface import ExecutionStore

# Step Functions run status -> execution status it leaves behind when nothing else recorded one.
_SETTLED_AS = {"SUCCEEDED": "completed", "FAILED": "failed", "TIMED_OUT": "failed", "ABORTED": "cancelled"}


def settle_run(store: ExecutionStore, detail: dict[str, Any]) -> str:
    """Returns what it did: 'settled:<status>' or why it left the record alone."""
    status = _SETTLED_AS.get(detail.get("status", ""))
    if status is None:
        return "ignored: run still going"
    try:
        ref = json.loads(detail.get("input") or "{}")["execution"]
    except (ValueError, KeyError, TypeError):
        return "ignored: not a run of ours"
    found = store.read_execution_records(ref["workspaceId"], ref["executionId"])
    if found is None:
        return "ignored: unknown execution"
    header, _ = found
    if header["status"] in TERMINAL_EXECUTION_STATUSES or header.get("currentRunId") != detail.get("name"):
        return "ignored: already settled or superseded"
    error = None
    if status != "completed":
        reason = run_failure(detail.get("error"), detail.get("cause"))
        ended = f"run {detail['status'].lower().replace('_', ' ')}"
        error = one_line(f"{ended}: {reason}" if reason else ended)
    now = clock.iso(clock.now())
    settled = store.end_execution(
        header, header["currentRunId"], status, now, clock.millis_between(header["startedAt"], now), error
    )
    logger.info("reconciled run", extra={"execution_id": header["id"], "status": status, "settled": settled})
    return f"settled:{status}" if settled else "ignored: lost a race"
