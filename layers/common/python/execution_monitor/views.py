"""Domain state as the API's wire models: what GET, lists, SSE and the write routes answer."""

from __future__ import annotations

from dataclasses import replace

from execution_monitor.domain.execution import (
    ExecutionState,
    Progress,
    StepState,
    counted_progress,
    displayed_step_status,
)
from execution_monitor.domain.workflow import Workflow
from execution_monitor.models import (
    ActionResult,
    Execution,
    ExecutionPage,
    ExecutionRun,
    StepAttempt,
)
from execution_monitor.models import Progress as ProgressModel
from execution_monitor.models import Workflow as WorkflowModel
from execution_monitor.store.interface import ExecutionPage as StoredPage


def workflow_view(workflow: Workflow) -> WorkflowModel:
    return WorkflowModel(
        id=workflow.id,
        workspace_id=workflow.workspace_id,
        name=workflow.name,
        description=workflow.description,
        actions=[action.to_json_dict() for action in workflow.actions],
        version=workflow.version,
        created_at=workflow.created_at,
        updated_at=workflow.updated_at,
    )


def step_view(step: StepState, execution: ExecutionState) -> ActionResult:
    return ActionResult(
        action_id=step.action_id,
        action_type=step.action_type,
        name=step.name,
        status=displayed_step_status(step.status, execution.status).value,
        attempt=step.attempt,
        started_at=step.started_at,
        completed_at=step.completed_at,
        duration=step.duration_ms,
        error=step.error,
        output=step.output,
        history=[
            StepAttempt(
                attempt=past.attempt,
                status=past.status.value,
                started_at=past.started_at,
                completed_at=past.completed_at,
                duration=past.duration_ms,
                error=past.error,
            )
            for past in step.history
        ],
    )


def _progress_view(progress: Progress) -> ProgressModel:
    return ProgressModel(
        completed_steps=progress.completed_steps,
        failed_steps=progress.failed_steps,
        total_steps=progress.total_steps,
        percentage=progress.percentage,
        estimated_time_remaining=progress.estimated_time_remaining_ms,
        estimated_completion_at=progress.estimated_completion_at,
    )


def execution_view(
    execution: ExecutionState, steps: list[StepState] | None = None, completed_before: int = 0
) -> Execution:
    """The wire model; with `steps` (which may start at index `completed_before` when every earlier
    step is known completed, as the SSE stream reads), counts come from those steps."""
    progress = execution.progress if steps is None else counted_progress(execution, steps, completed_before)
    if execution.status.is_terminal:
        progress = replace(progress, estimated_time_remaining_ms=None, estimated_completion_at=None)
    return Execution(
        id=execution.id,
        workspace_id=execution.workspace_id,
        workflow_id=execution.workflow_id,
        workflow_version=execution.workflow_version,
        status=execution.status.value,
        input=execution.input,
        started_at=execution.started_at,
        completed_at=execution.completed_at,
        updated_at=execution.updated_at,
        duration=execution.duration_ms,
        error=execution.error,
        retry_of=execution.retry_of,
        retried_by=execution.retried_by,
        version=execution.version,
        can_cancel=execution.can_cancel,
        can_retry=execution.can_retry,
        progress=_progress_view(progress),
        runs=[
            ExecutionRun(run_id=run.run_id, start_index=run.start_index, started_at=run.started_at)
            for run in execution.runs
        ],
        action_results=None if steps is None else [step_view(step, execution) for step in steps],
    )


def page_view(page: StoredPage) -> ExecutionPage:
    return ExecutionPage(
        executions=[execution_view(execution) for execution in page.executions], next_cursor=page.next_cursor
    )
