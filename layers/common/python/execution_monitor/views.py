"""Domain state as the API's wire models: what GET, lists, SSE and the write routes answer."""

from __future__ import annotations

import json
from dataclasses import replace

from execution_monitor.domain.events import RecordedEvent
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
    Delivery,
    DeliveryAttempt,
    EventList,
    Execution,
    ExecutionEvent,
    ExecutionPage,
    ExecutionRun,
    LastExecution,
    Stall,
    StepAttempt,
    WorkflowPage,
    WorkflowSummary,
)
from execution_monitor.models import Progress as ProgressModel
from execution_monitor.models import Webhook as WebhookModel
from execution_monitor.models import Workflow as WorkflowModel
from execution_monitor.store.interface import ExecutionPage as StoredPage
from execution_monitor.store.interface import WorkflowPage as StoredWorkflowPage


def workflow_view(workflow: Workflow) -> WorkflowModel:
    return WorkflowModel(
        id=workflow.id,
        workspace_id=workflow.workspace_id,
        name=workflow.name,
        description=workflow.description,
        actions=[action.to_json_dict() for action in workflow.actions],
        webhooks=[WebhookModel(url=hook.url, events=sorted(hook.events)) for hook in workflow.webhooks],
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
        stalled=None
        if execution.stalled is None
        else Stall(
            action_id=execution.stalled.action_id,
            running_for=execution.stalled.running_for_ms,
            expected_duration=execution.stalled.expected_duration_ms,
        ),
        action_results=None if steps is None else [step_view(step, execution) for step in steps],
    )


def page_view(page: StoredPage) -> ExecutionPage:
    return ExecutionPage(
        executions=[execution_view(execution) for execution in page.executions], next_cursor=page.next_cursor
    )


def workflow_page_view(page: StoredWorkflowPage) -> WorkflowPage:
    return WorkflowPage(
        workflows=[
            WorkflowSummary(
                id=summary.id,
                name=summary.name,
                version=summary.version,
                updated_at=summary.updated_at,
                last_execution=None
                if summary.last_execution is None
                else LastExecution(
                    id=summary.last_execution.id,
                    status=summary.last_execution.status.value,
                    started_at=summary.last_execution.started_at,
                ),
            )
            for summary in page.workflows
        ],
        next_cursor=page.next_cursor,
    )


def events_view(recorded: list[RecordedEvent]) -> EventList:
    return EventList(
        events=[
            ExecutionEvent(
                id=event.ref.id,
                type=event.ref.kind.value,
                occurred_at=event.ref.occurred_at,
                action_id=event.ref.action_id,
                published=event.published,
                deliveries=[
                    Delivery(
                        url=delivery.url,
                        state=delivery.state,
                        attempts=[
                            DeliveryAttempt(
                                at=attempt.at,
                                status_code=attempt.status_code,
                                error=attempt.error,
                                next_attempt_at=attempt.next_attempt_at,
                                response_preview=attempt.response_preview,
                            )
                            for attempt in delivery.attempts
                        ],
                    )
                    for delivery in event.deliveries
                ],
                data=json.loads(event.payload)["data"],
            )
            for event in recorded
        ]
    )
