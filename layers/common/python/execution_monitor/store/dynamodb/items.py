"""Domain state <-> DynamoDB items: the only place that knows attribute names and item shapes.

Item types and keys are listed in docs/data-model.md. Attribute names stay camelCase (as written
since the first release); JSON documents (input, output, actions) are stored as JSON text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from execution_monitor import jsonvalues
from execution_monitor.actions.definitions import ActionDefinition, action_json, parse_action
from execution_monitor.domain.events import EventKind
from execution_monitor.domain.execution import (
    Attempt,
    ExecutionState,
    Progress,
    Run,
    Schedule,
    Stall,
    StepState,
)
from execution_monitor.domain.statistics import StepStats
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.domain.workflow import (
    IdempotencyClaim,
    LastExecution,
    Webhook,
    Workflow,
    WorkflowSummary,
)
from execution_monitor.store.dynamodb import keys

# A step's output is capped well below DynamoDB's 400 KB item limit.
MAX_OUTPUT_BYTES = 128 * 1024
_DESERIALIZER = TypeDeserializer()

Item = dict[str, Any]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def from_item(item: dict[str, Any]) -> Item:
    """A low-level client item (`{"S": ...}` values) as plain Python values (numbers as int/float)."""
    return {key: _plain(_DESERIALIZER.deserialize(value)) for key, value in item.items()}


def completed_step_from_image(image: dict[str, Any]) -> StepState | None:
    """A stream record's deserialized NewImage, when it is a completed step (else None)."""
    if image.get("type") != keys.ITEM_STEP or image.get("status") != StepStatus.COMPLETED.value:
        return None
    return step_from_item(_plain(image))


def execution_change(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[ExecutionState | None, ExecutionState] | None:
    """A stream record's deserialized images, when they are an execution header's (else None)."""
    if not new or new.get("type") != keys.ITEM_EXECUTION:
        return None
    return (execution_from_item(_plain(old)) if old else None), execution_from_item(_plain(new))


def step_change(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[StepState | None, StepState] | None:
    """A stream record's deserialized images, when they are a step's (else None)."""
    if not new or new.get("type") != keys.ITEM_STEP:
        return None
    return (step_from_item(_plain(old)) if old else None), step_from_item(_plain(new))


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# -- workflows -----------------------------------------------------------------------------------


def workflow_key(workspace_id: str, workflow_id: str) -> dict[str, str]:
    return {"pk": keys.workflow_pk(workspace_id, workflow_id), "sk": keys.WORKFLOW_SK}


def workflow_document(
    name: str, description: str | None, actions: list[ActionDefinition], webhooks: list[Webhook]
) -> str:
    """The stored definition: name, description, actions and webhooks as one JSON text."""
    document: dict[str, Any] = {
        "name": name,
        "description": description,
        "actions": [action.to_json_dict() for action in actions],
    }
    if webhooks:
        document["webhooks"] = [{"url": hook.url, "events": sorted(hook.events)} for hook in webhooks]
    return jsonvalues.dumps(document)


def workflow_attributes(workspace_id: str, workflow_id: str, name: str) -> dict[str, Any]:
    return {
        "type": keys.ITEM_WORKFLOW,
        "workspaceId": workspace_id,
        "workflowId": workflow_id,
        "name": name,
        "gsi3pk": keys.workspace_workflows_pk(workspace_id),
        "gsi3sk": workflow_id,
    }


def last_execution_attributes(execution: LastExecution) -> dict[str, Any]:
    return {
        "id": execution.id,
        "status": execution.status.value,
        "startedAt": execution.started_at,
        "version": execution.version,
        # Newest first by start, then id: what decides which execution is the last one.
        "order": keys.newest_first_sk(execution.started_at, execution.id),
    }


def workflow_summary_from_item(item: Item) -> WorkflowSummary:
    last = item.get("lastExecution")
    name = item.get("name") or jsonvalues.from_stored(item["definition"], {}).get("name", "")
    return WorkflowSummary(
        workspace_id=item["workspaceId"],
        id=item["workflowId"],
        name=name,
        version=int(item["version"]),
        updated_at=item["updatedAt"],
        last_execution=None
        if not last
        else LastExecution(
            last["id"], ExecutionStatus(last["status"]), last["startedAt"], int(last["version"])
        ),
    )


def _last_execution(stored: dict[str, Any]) -> LastExecution:
    return LastExecution(
        stored["id"], ExecutionStatus(stored["status"]), stored["startedAt"], int(stored["version"])
    )


def workflow_from_item(item: Item) -> Workflow:
    document = jsonvalues.from_stored(item["definition"], {})
    return Workflow(
        workspace_id=item["workspaceId"],
        id=item["workflowId"],
        name=document["name"],
        description=document.get("description"),
        actions=tuple(parse_action(jsonvalues.dumps(action)) for action in document["actions"]),
        version=int(item["version"]),
        created_at=item["createdAt"],
        updated_at=item["updatedAt"],
        webhooks=tuple(
            Webhook(hook["url"], frozenset(EventKind(kind) for kind in hook["events"]))
            for hook in document.get("webhooks", [])
        ),
    )


WEBHOOK_SECRET = "webhookSecret"  # noqa: S105 (an attribute name, not a secret)


# -- execution header ----------------------------------------------------------------------------


def header_key(workspace_id: str, execution_id: str) -> dict[str, str]:
    return {"pk": keys.execution_pk(workspace_id, execution_id), "sk": keys.EXECUTION_SK}


def _progress_attributes(progress: Progress) -> dict[str, Any]:
    return {
        "completedSteps": progress.completed_steps,
        "failedSteps": progress.failed_steps,
        "totalSteps": progress.total_steps,
        "percentage": progress.percentage,
        "estimatedTimeRemaining": progress.estimated_time_remaining_ms,
        "estimatedCompletionAt": progress.estimated_completion_at,
    }


def _progress(stored: dict[str, Any] | None, total_steps: int) -> Progress:
    if not stored:
        return Progress.of_counts(0, 0, total_steps)
    return Progress(
        completed_steps=int(stored.get("completedSteps", 0)),
        failed_steps=int(stored.get("failedSteps", 0)),
        total_steps=int(stored.get("totalSteps", total_steps)),
        percentage=int(stored.get("percentage", 0)),
        estimated_time_remaining_ms=_optional_int(stored.get("estimatedTimeRemaining")),
        estimated_completion_at=stored.get("estimatedCompletionAt"),
    )


def _schedule(stored: dict[str, Any] | None) -> Schedule:
    stored = stored or {}
    return Schedule(
        remaining_known_ms=int(stored.get("remainingKnownMs", 0)),
        remaining_unknown=int(stored.get("remainingUnknown", 0)),
        own_wall_sum_ms=int(stored.get("ownWallSumMs", 0)),
        own_wall_count=int(stored.get("ownWallCount", 0)),
        due_since=stored.get("dueSince"),
    )


def header_attributes(execution: ExecutionState) -> dict[str, Any]:
    """The header's attributes that change over its life (None: absent)."""
    schedule = execution.schedule
    stall = execution.stalled
    return {
        "status": execution.status.value,
        # gsi2 and gsi4 move with the status so `?status=` lists are one exact Query.
        "gsi2pk": keys.by_status_pk(execution.workspace_id, execution.workflow_id, execution.status),
        "gsi4pk": keys.workspace_status_pk(execution.workspace_id, execution.status),
        # In the sweep's index only while there is something to look at, and from when.
        "gsi5pk": None if execution.check_at is None else keys.sweep_pk(execution.id),
        "gsi5sk": None
        if execution.check_at is None
        else keys.sweep_sk(execution.check_at, execution.workspace_id, execution.id),
        "updatedAt": execution.updated_at,
        "version": execution.version,
        "completedAt": execution.completed_at,
        "durationMs": execution.duration_ms,
        "error": execution.error,
        "retriedBy": execution.retried_by,
        "currentRunId": execution.current_run_id,
        "runs": [
            {
                "runId": run.run_id,
                "startIndex": run.start_index,
                "startedAt": run.started_at,
                "executionArn": run.arn,
            }
            for run in execution.runs
        ],
        "progress": {
            name: value
            for name, value in _progress_attributes(execution.progress).items()
            if value is not None
        },
        "schedule": {
            "remainingKnownMs": schedule.remaining_known_ms,
            "remainingUnknown": schedule.remaining_unknown,
            "ownWallSumMs": schedule.own_wall_sum_ms,
            "ownWallCount": schedule.own_wall_count,
            **({"dueSince": schedule.due_since} if schedule.due_since else {}),
        },
        "runningStep": execution.running_step,
        "stalled": None
        if stall is None
        else {
            "actionId": stall.action_id,
            "runningFor": stall.running_for_ms,
            "expectedDuration": stall.expected_duration_ms,
        },
    }


def header_item(execution: ExecutionState) -> Item:
    order_key = keys.newest_first_sk(execution.started_at, execution.id)
    return {
        **header_key(execution.workspace_id, execution.id),
        "type": keys.ITEM_EXECUTION,
        "gsi1pk": keys.by_workflow_pk(execution.workspace_id, execution.workflow_id),
        "gsi1sk": order_key,
        "gsi2sk": order_key,
        "gsi3pk": keys.workspace_executions_pk(execution.workspace_id),
        "gsi3sk": order_key,
        "gsi4sk": order_key,
        "id": execution.id,
        "workspaceId": execution.workspace_id,
        "workflowId": execution.workflow_id,
        "workflowVersion": execution.workflow_version,
        "input": jsonvalues.dumps(execution.input),
        "startedAt": execution.started_at,
        "totalSteps": execution.total_steps,
        "retryOf": execution.retry_of,
        "idempotencyKey": execution.idempotency_key,
        **header_attributes(execution),
    }


def execution_from_item(item: Item) -> ExecutionState:
    total = int(item.get("totalSteps", 0))
    stall = item.get("stalled")
    input_value = jsonvalues.from_stored(item.get("input"), {})
    return ExecutionState(
        workspace_id=item["workspaceId"],
        workflow_id=item["workflowId"],
        id=item["id"],
        workflow_version=int(item["workflowVersion"]),
        status=ExecutionStatus(item["status"]),
        started_at=item["startedAt"],
        updated_at=item["updatedAt"],
        version=int(item["version"]),
        total_steps=total,
        current_run_id=item["currentRunId"],
        runs=tuple(
            Run(run["runId"], int(run["startIndex"]), run["startedAt"], run.get("executionArn", ""))
            for run in item.get("runs", [])
        ),
        progress=_progress(item.get("progress"), total),
        schedule=_schedule(item.get("schedule")),
        input=input_value if isinstance(input_value, dict) else {"value": input_value},
        completed_at=item.get("completedAt"),
        duration_ms=_optional_int(item.get("durationMs")),
        error=item.get("error"),
        retry_of=item.get("retryOf"),
        retried_by=item.get("retriedBy"),
        idempotency_key=item.get("idempotencyKey"),
        running_step=_optional_int(item.get("runningStep")),
        stalled=None
        if not stall
        else Stall(stall["actionId"], int(stall["runningFor"]), int(stall["expectedDuration"])),
        check_at=_check_at(item.get("gsi5sk")),
    )


def _check_at(sweep_sk: str | None) -> str | None:
    return None if not sweep_sk else sweep_sk.split("#", 1)[0]


# -- steps ---------------------------------------------------------------------------------------


def step_key(workspace_id: str, execution_id: str, index: int) -> dict[str, str]:
    return {"pk": keys.execution_pk(workspace_id, execution_id), "sk": keys.step_sk(index)}


def _attempt(stored: dict[str, Any]) -> Attempt:
    return Attempt(
        attempt=int(stored["attempt"]),
        status=StepStatus(stored["status"]),
        started_at=stored.get("startedAt"),
        completed_at=stored.get("completedAt"),
        # `duration` in histories written before the typed core (round 1).
        duration_ms=_optional_int(stored.get("durationMs", stored.get("duration"))),
        error=stored.get("error"),
    )


def step_attributes(step: StepState, updated_at: str) -> dict[str, Any]:
    """The step's attributes that change over its life (None: absent)."""
    return {
        "status": step.status.value,
        "attempt": step.attempt,
        "runId": step.run_id,
        "startedAt": step.started_at,
        "completedAt": step.completed_at,
        "durationMs": step.duration_ms,
        "wallMs": step.wall_ms,
        "output": None if step.output is None else jsonvalues.to_stored(step.output, MAX_OUTPUT_BYTES),
        "error": step.error,
        "history": [
            _without_none(
                {
                    "attempt": past.attempt,
                    "status": past.status.value,
                    "startedAt": past.started_at,
                    "completedAt": past.completed_at,
                    "durationMs": past.duration_ms,
                    "error": past.error,
                }
            )
            for past in step.history
        ],
        "updatedAt": updated_at,
        STATS_MARK: step.stats_attempt or None,
    }


def step_item(step: StepState, updated_at: str) -> Item:
    return {
        **step_key(step.workspace_id, step.execution_id, step.index),
        "type": keys.ITEM_STEP,
        "workspaceId": step.workspace_id,
        "workflowId": step.workflow_id,
        "executionId": step.execution_id,
        "index": step.index,
        "actionId": step.action_id,
        "actionType": step.action_type,
        "name": step.name,
        "action": action_json(step.action),
        "expectedMs": step.expected_ms,
        "dependsOn": list(step.depends_on),
        **step_attributes(step, updated_at),
    }


def step_from_item(item: Item) -> StepState:
    output = item.get("output")
    return StepState(
        workspace_id=item["workspaceId"],
        workflow_id=item["workflowId"],
        execution_id=item["executionId"],
        index=int(item["index"]),
        action=parse_action(item["action"]),
        status=StepStatus(item["status"]),
        attempt=int(item.get("attempt", 0)),
        run_id=item.get("runId"),
        started_at=item.get("startedAt"),
        completed_at=item.get("completedAt"),
        duration_ms=_optional_int(item.get("durationMs")),
        wall_ms=_optional_int(item.get("wallMs")),
        expected_ms=_optional_int(item.get("expectedMs")),
        output=None if output is None else jsonvalues.from_stored(output),
        error=item.get("error"),
        history=tuple(_attempt(past) for past in item.get("history", [])),
        depends_on=tuple(int(index) for index in item.get("dependsOn", [])),
        stats_attempt=int(item.get(STATS_MARK) or 0),
    )


# -- step statistics -----------------------------------------------------------------------------

STATS_SK_PREFIX = "STATS#"
# Set on a completed step once its wall time is in the workflow's statistics (the attempt number).
STATS_MARK = "statsAttempt"


def stats_key(workspace_id: str, workflow_id: str, action_id: str) -> dict[str, str]:
    return {"pk": keys.workflow_pk(workspace_id, workflow_id), "sk": f"{STATS_SK_PREFIX}{action_id}"}


def stats_item(workspace_id: str, workflow_id: str, action_id: str, stats: StepStats, now: str) -> Item:
    return {
        **stats_key(workspace_id, workflow_id, action_id),
        "type": keys.ITEM_STEP_STATS,
        "workspaceId": workspace_id,
        "workflowId": workflow_id,
        "actionId": action_id,
        "count": stats.count,
        "sumMs": stats.sum_ms,
        "meanMs": stats.mean_ms,
        "minMs": stats.min_ms,
        "maxMs": stats.max_ms,
        "recentMs": stats.recent_ms,
        "recentCompletedAt": [sample[0] for sample in stats.recent],
        "recentKeys": [sample[2] for sample in stats.recent],
        "p50Ms": stats.p50_ms,
        "p90Ms": stats.p90_ms,
        "typicalMs": stats.typical_ms,
        "definitionHash": stats.definition_hash,
        "updatedAt": now,
        "version": stats.version,
    }


def stats_from_item(item: Item) -> StepStats:
    durations = [int(value) for value in item.get("recentMs", [])]
    completed = [str(value) for value in item.get("recentCompletedAt", [])]
    sample_keys = [str(value) for value in item.get("recentKeys", [])]
    return StepStats(
        count=int(item.get("count", 0)),
        sum_ms=int(item.get("sumMs", 0)),
        min_ms=_optional_int(item.get("minMs")),
        max_ms=_optional_int(item.get("maxMs")),
        recent=tuple(zip(completed, durations, sample_keys, strict=True)),
        definition_hash=item.get("definitionHash"),
        version=int(item.get("version", 0)),
    )


# -- idempotency claims --------------------------------------------------------------------------


def claim_key(claim: IdempotencyClaim) -> dict[str, str]:
    return {
        "pk": keys.idempotency_pk(claim.workspace_id, claim.workflow_id, claim.key),
        "sk": keys.IDEMPOTENCY_SK,
    }


def claim_item(claim: IdempotencyClaim) -> Item:
    return {
        **claim_key(claim),
        "type": keys.ITEM_IDEMPOTENCY,
        "workspaceId": claim.workspace_id,
        "workflowId": claim.workflow_id,
        "idempotencyKey": claim.key,
        "executionId": claim.execution_id,
        "requestHash": claim.request_hash,
        "expiresAt": claim.expires_at,
    }


def claim_from_item(item: Item, like: IdempotencyClaim) -> IdempotencyClaim:
    return IdempotencyClaim(
        workspace_id=like.workspace_id,
        workflow_id=like.workflow_id,
        key=like.key,
        execution_id=item["executionId"],
        request_hash=item["requestHash"],
        expires_at=int(item["expiresAt"]),
    )
