"""DynamoDB item <-> Python values, and stored records <-> wire models."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from execution_monitor.errors import ValidationFailed
from execution_monitor.models import (
    CANCELLABLE_EXECUTION_STATUSES,
    RETRYABLE_EXECUTION_STATUSES,
    TERMINAL_EXECUTION_STATUSES,
    ActionResult,
    Execution,
    Progress,
    Workflow,
)
from execution_monitor.store.records import displayed_step_status, step_counts

RUN_FIELDS = ("runId", "startIndex", "startedAt")
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in values.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_DESERIALIZER.deserialize(value)) for key, value in item.items()}


def to_attr(value: Any) -> dict[str, Any]:
    return _SERIALIZER.serialize(value)


def loads(text: str | None, default: Any = None) -> Any:
    return default if text is None else json.loads(text)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def workflow_from_record(record: dict[str, Any]) -> Workflow:
    definition = loads(record["definition"])
    return Workflow(
        id=record["workflowId"],
        workspace_id=record["workspaceId"],
        name=definition["name"],
        description=definition.get("description"),
        actions=definition["actions"],
        version=record["version"],
        created_at=record["createdAt"],
        updated_at=record["updatedAt"],
    )


def empty_progress(total_steps: int) -> dict[str, Any]:
    return {
        "completedSteps": 0,
        "failedSteps": 0,
        "totalSteps": total_steps,
        "percentage": 0,
        "estimatedTimeRemaining": None,
        "estimatedCompletionAt": None,
    }


def step_from_record(record: dict[str, Any], execution_status: str) -> ActionResult:
    return ActionResult(
        action_id=record["actionId"],
        action_type=record["actionType"],
        name=record.get("name"),
        status=displayed_step_status(record["status"], execution_status),
        attempt=record.get("attempt", 0),
        started_at=record.get("startedAt"),
        completed_at=record.get("completedAt"),
        duration=record.get("durationMs"),
        error=record.get("error"),
        output=loads(record.get("output")),
        history=record.get("history", []),
    )


def execution_from_record(
    header: dict[str, Any], steps: list[dict[str, Any]] | None = None, completed_before: int = 0
) -> Execution:
    """The wire model. `steps` may start at index `completed_before` when every earlier step is
    known completed (the SSE stream reads only from its frontier)."""
    status = header["status"]
    progress = dict(header.get("progress") or empty_progress(header.get("totalSteps", 0)))
    if steps is not None:
        # The steps at hand are newer than the stored aggregate (the stream updater follows them).
        total = header.get("totalSteps", completed_before + len(steps))
        progress.update(step_counts(status, steps, total, completed_before))
    if status in TERMINAL_EXECUTION_STATUSES:
        progress.update(estimatedTimeRemaining=None, estimatedCompletionAt=None)
    return Execution(
        id=header["id"],
        workspace_id=header["workspaceId"],
        workflow_id=header["workflowId"],
        workflow_version=header["workflowVersion"],
        status=status,
        input=loads(header.get("input"), {}),
        started_at=header["startedAt"],
        completed_at=header.get("completedAt"),
        updated_at=header["updatedAt"],
        duration=header.get("durationMs"),
        error=header.get("error"),
        retry_of=header.get("retryOf"),
        retried_by=header.get("retriedBy"),
        version=header["version"],
        can_cancel=status in CANCELLABLE_EXECUTION_STATUSES,
        can_retry=status in RETRYABLE_EXECUTION_STATUSES and not header.get("retriedBy"),
        progress=Progress.model_validate(progress),
        # The stored run also holds its ARN (account id, state machine): internal, not on the wire.
        runs=[{name: run[name] for name in RUN_FIELDS} for run in header.get("runs", [])],
        action_results=None if steps is None else [step_from_record(step, status) for step in steps],
    )


def encode_cursor(last_key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in sorted(last_key.items())}
    return base64.urlsafe_b64encode(dumps(plain).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, index_pk_name: str, index_pk: str, item_pk_prefix: str) -> dict[str, Any]:
    """The ExclusiveStartKey a cursor stands for; refuses one made for another list or tenant."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise _bad_cursor() from error
    index_sk_name = index_pk_name.replace("pk", "sk")
    expected_names = {"pk", "sk", index_pk_name, index_sk_name}
    if (
        not isinstance(plain, dict)
        or set(plain) != expected_names
        or not all(isinstance(value, str) for value in plain.values())
        or plain[index_pk_name] != index_pk
        or not plain["pk"].startswith(item_pk_prefix)
    ):
        raise _bad_cursor()
    return {name: {"S": value} for name, value in plain.items()}


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(
        "cursor is not valid for this list",
        details=[{"loc": ["query", "cursor"], "msg": "use nextCursor from the previous page as given"}],
    )
