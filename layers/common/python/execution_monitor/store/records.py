"""Stored record shapes for executions and steps, and the read-model rules derived from them."""

from __future__ import annotations

from typing import Any

from execution_monitor.models import TERMINAL_EXECUTION_STATUSES
from execution_monitor.store import keys


def header_keys(workspace_id: str, execution_id: str) -> dict[str, str]:
    return {"pk": keys.execution_pk(workspace_id, execution_id), "sk": keys.EXECUTION_SK}


def step_keys(workspace_id: str, execution_id: str, index: int) -> dict[str, str]:
    return {"pk": keys.execution_pk(workspace_id, execution_id), "sk": keys.step_sk(index)}


def status_index_keys(header: dict[str, Any], status: str) -> dict[str, str]:
    """gsi2 moves with the status so `?status=` lists are one exact Query."""
    return {"gsi2pk": keys.by_status_pk(header["workspaceId"], header["workflowId"], status)}


def displayed_step_status(step_status: str, execution_status: str) -> str:
    """Pending steps of a finished execution never ran: they read as skipped, without 1000 writes."""
    if execution_status in TERMINAL_EXECUTION_STATUSES and step_status == "pending":
        return "skipped"
    if step_status == "running" and execution_status in ("cancelled", "failed"):
        # The run ended under the step (stopped, or the engine failed): it did not complete.
        return "cancelled" if execution_status == "cancelled" else "failed"
    return step_status


def step_counts(
    execution_status: str, steps: list[dict[str, Any]], total_steps: int, completed_before: int = 0
) -> dict[str, int]:
    """completedSteps, failedSteps, totalSteps and percentage, from the steps as displayed.

    `completed_before`: steps known completed that precede `steps` (a read from a later index).
    """
    displayed = [displayed_step_status(step["status"], execution_status) for step in steps]
    completed = completed_before + displayed.count("completed")
    return {
        "completedSteps": completed,
        "failedSteps": displayed.count("failed"),
        "totalSteps": total_steps,
        # floor(100 * completed / total): 100 only when every step completed.
        "percentage": (100 * completed) // total_steps if total_steps > 0 else 0,
    }
