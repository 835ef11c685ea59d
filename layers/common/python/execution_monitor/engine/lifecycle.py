"""API-side execution operations: start, cancel, retry the execution, retry one step."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from execution_monitor import clock
from execution_monitor.engine.runner import Runner
from execution_monitor.errors import Conflict, NotFound
from execution_monitor.models import (
    CANCELLABLE_EXECUTION_STATUSES,
    RETRYABLE_EXECUTION_STATUSES,
    Execution,
    Workflow,
)
from execution_monitor.observability import logger
from execution_monitor.store import keys
from execution_monitor.store.codec import dumps, execution_from_record, loads
from execution_monitor.store.interface import ExecutionStore
from execution_monitor.store.records import header_keys, step_keys

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
Records = tuple[dict[str, Any], list[dict[str, Any]]]


def _run(runner: Runner, execution_id: str, number: int, start_index: int, now: str) -> dict[str, Any]:
    run_id = f"{execution_id}-{number}"
    return {
        "runId": run_id,
        "startIndex": start_index,
        "startedAt": now,
        "executionArn": runner.run_arn(run_id),
    }


def run_payload(header: dict[str, Any], steps: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    """State-machine input: who is running, and the steps left, in order (ids and Wait seconds only)."""
    items = []
    for step in steps:
        item = {"index": step["index"], "actionId": step["actionId"], "type": step["actionType"]}
        if step["actionType"] == "delay":
            item["delaySeconds"] = loads(step["action"])["params"]["seconds"]
        items.append(item)
    return {
        "execution": {
            "workspaceId": header["workspaceId"],
            "workflowId": header["workflowId"],
            "executionId": header["id"],
            "runId": run_id,
        },
        "steps": items,
    }


def new_execution_records(
    runner: Runner,
    *,
    workspace_id: str,
    workflow_id: str,
    workflow_version: int,
    actions: list[dict[str, Any]],
    execution_input: dict[str, Any],
    now: str,
    retry_of: str | None = None,
) -> Records:
    execution_id = clock.new_id("exec")
    run = _run(runner, execution_id, 1, 0, now)
    order_key = keys.newest_first_sk(now, execution_id)
    header = {
        **header_keys(workspace_id, execution_id),
        "type": keys.ITEM_EXECUTION,
        "gsi1pk": keys.by_workflow_pk(workspace_id, workflow_id),
        "gsi1sk": order_key,
        "gsi2pk": keys.by_status_pk(workspace_id, workflow_id, "pending"),
        "gsi2sk": order_key,
        "id": execution_id,
        "workspaceId": workspace_id,
        "workflowId": workflow_id,
        "workflowVersion": workflow_version,
        "status": "pending",
        "input": dumps(execution_input),
        "startedAt": now,
        "updatedAt": now,
        "version": 1,
        "totalSteps": len(actions),
        "currentRunId": run["runId"],
        "runs": [run],
        "retryOf": retry_of,
    }
    steps = [
        {
            **step_keys(workspace_id, execution_id, index),
            "type": keys.ITEM_STEP,
            "workspaceId": workspace_id,
            "workflowId": workflow_id,
            "executionId": execution_id,
            "index": index,
            "actionId": action["id"],
            "actionType": action["type"],
            "name": action.get("name"),
            "action": dumps(action),
            "status": "pending",
            "attempt": 0,
            "history": [],
            "updatedAt": now,
        }
        for index, action in enumerate(actions)
    ]
    return header, steps


def _launch(
    store: ExecutionStore,
    runner: Runner,
    header: dict[str, Any],
    steps: list[dict[str, Any]],
    undo_claim: Callable[[], object],
) -> None:
    """Creates the execution, then starts its first run. If the execution cannot be created, the
    claim made for it (idempotency key, retry link) is undone so that a repeat is not locked out."""
    try:
        store.create_execution(header, steps)
    except Exception:
        undo_claim()
        raise
    try:
        runner.start(header["currentRunId"], run_payload(header, steps, header["currentRunId"]))
    except Exception as error:
        now = clock.iso(clock.now())
        store.end_execution(header, header["currentRunId"], "failed", now, 0, f"could not start: {error}")
        raise


def start_execution(
    store: ExecutionStore,
    runner: Runner,
    workflow: Workflow,
    execution_input: dict[str, Any],
    idempotency_key: str | None = None,
) -> tuple[Execution, bool]:
    """Returns the execution and whether this call created it (False: an idempotent repeat)."""
    now = clock.now()
    stamp = clock.iso(now)
    header, steps = new_execution_records(
        runner,
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_version=workflow.version,
        actions=workflow.actions,
        execution_input=execution_input,
        now=stamp,
    )
    claim: dict[str, Any] | None = None
    if idempotency_key:
        request_hash = hashlib.sha256(dumps(execution_input).encode()).hexdigest()
        claim = {
            "pk": keys.idempotency_pk(workflow.workspace_id, workflow.id, idempotency_key),
            "sk": keys.IDEMPOTENCY_SK,
            "type": keys.ITEM_IDEMPOTENCY,
            "executionId": header["id"],
            "requestHash": request_hash,
            "expiresAt": int(now.timestamp()) + IDEMPOTENCY_TTL_SECONDS,
        }
        held = store.claim_idempotency_key(claim, int(now.timestamp()))
        if held is not None:
            if held["requestHash"] != request_hash:
                raise Conflict("this Idempotency-Key was used with a different request body")
            existing = store.get_execution(workflow.workspace_id, held["executionId"])
            if existing is None:
                raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
            return existing, False
        header["idempotencyKey"] = idempotency_key

    def release_claim() -> None:
        if claim is not None:
            store.release_idempotency_key(claim)

    _launch(store, runner, header, steps, release_claim)
    return execution_from_record(header, steps), True


def _records(store: ExecutionStore, workspace_id: str, workflow_id: str, execution_id: str) -> Records:
    found = store.read_execution_records(workspace_id, execution_id)
    if found is None or found[0]["workflowId"] != workflow_id:
        raise NotFound(f"execution {execution_id} not found")
    return found


def _reload(store: ExecutionStore, header: dict[str, Any]) -> Execution:
    execution = store.get_execution(header["workspaceId"], header["id"])
    if execution is None:  # never deleted; guards the type
        raise NotFound(f"execution {header['id']} not found")
    return execution


CONFLICT_ATTEMPTS = 3  # re-reads when a version-conditioned write loses to a concurrent writer


def cancel_execution(
    store: ExecutionStore, runner: Runner, workspace_id: str, workflow_id: str, execution_id: str
) -> Execution:
    for _ in range(CONFLICT_ATTEMPTS):
        header, steps = _records(store, workspace_id, workflow_id, execution_id)
        if header["status"] == "cancelled":
            return execution_from_record(header, steps)
        if header["status"] not in CANCELLABLE_EXECUTION_STATUSES:
            raise Conflict(f"execution is already {header['status']}")
        running = next((step for step in steps if step["status"] == "running"), None)
        now = clock.iso(clock.now())
        if store.cancel(header, running, now, clock.millis_between(header["startedAt"], now)):
            # The record is authoritative; stopping the run only saves work. A step that finishes
            # meanwhile fails its conditional write and leaves the cancelled state alone.
            try:
                runner.stop(runner.run_arn(header["currentRunId"]), "cancelled through the API")
            except Exception:  # the reconciler settles the run whenever it ends
                logger.exception("could not stop the run of a cancelled execution")
            return _reload(store, header)
    raise Conflict("the execution kept changing while cancelling; try again")


def retry_execution(
    store: ExecutionStore, runner: Runner, workspace_id: str, workflow_id: str, execution_id: str
) -> Execution:
    header, steps = _records(store, workspace_id, workflow_id, execution_id)
    if header["status"] not in RETRYABLE_EXECUTION_STATUSES:
        raise Conflict(f"only a failed or cancelled execution can be retried; this one is {header['status']}")
    if header.get("retriedBy"):
        raise Conflict(f"execution was already retried by {header['retriedBy']}")
    now = clock.iso(clock.now())
    new_header, new_steps = new_execution_records(
        runner,
        workspace_id=workspace_id,
        workflow_id=workflow_id,
        workflow_version=header["workflowVersion"],
        actions=[loads(step["action"]) for step in steps],
        execution_input=loads(header["input"], {}),
        now=now,
        retry_of=execution_id,
    )
    # The claim decides between concurrent retries: only one caller links a new execution.
    if not store.claim_retry(header, new_header["id"], now):
        raise Conflict("execution was retried concurrently or changed state")
    _launch(store, runner, new_header, new_steps, lambda: store.release_retry(header, new_header["id"], now))
    return execution_from_record(new_header, new_steps)


def _retryable_step(header: dict[str, Any], steps: list[dict[str, Any]], step: dict[str, Any]) -> bool:
    if header["status"] == "failed":
        return step["status"] in ("failed", "running")
    if header["status"] == "cancelled":
        # The interrupted step: the first one that did not complete.
        first_open = next((candidate for candidate in steps if candidate["status"] != "completed"), None)
        return first_open is not None and first_open["index"] == step["index"]
    return False


def _attempt_record(header: dict[str, Any], step: dict[str, Any], now: str) -> dict[str, Any]:
    """The step's last attempt, kept in its history when it is tried again."""
    return {
        "attempt": step["attempt"],
        "status": "cancelled" if header["status"] == "cancelled" else "failed",
        "startedAt": step.get("startedAt"),
        "completedAt": step.get("completedAt") or now,
        "duration": step.get("durationMs"),
        "error": step.get("error") or header.get("error"),
    }


def retry_step(
    store: ExecutionStore,
    runner: Runner,
    workspace_id: str,
    workflow_id: str,
    execution_id: str,
    action_id: str,
) -> Execution:
    # The restart is conditional on the version read; a progress write can move it meanwhile, so
    # re-read and re-check a few times. A concurrent retry-step makes the step not retryable: 409.
    for _ in range(CONFLICT_ATTEMPTS):
        header, steps = _records(store, workspace_id, workflow_id, execution_id)
        step = next((candidate for candidate in steps if candidate["actionId"] == action_id), None)
        if step is None:
            raise NotFound(f"execution {execution_id} has no action {action_id}")
        if not _retryable_step(header, steps, step):
            raise Conflict(
                f"only the failed step of a failed execution (or the interrupted step of a cancelled one) "
                f"can be retried; execution is {header['status']}, step {action_id} is {step['status']}"
            )
        now = clock.iso(clock.now())
        history = list(step.get("history", []))
        if step.get("attempt", 0) > 0:
            history.append(_attempt_record(header, step, now))
        run = _run(runner, execution_id, len(header.get("runs", [])) + 1, step["index"], now)
        if store.restart_from_step(header, step, run, history, now):
            break
    else:
        raise Conflict("the execution kept changing; reload it and try again")
    remaining = [candidate for candidate in steps if candidate["index"] >= step["index"]]
    try:
        runner.start(run["runId"], run_payload(header, remaining, run["runId"]))
    except Exception:
        logger.exception("could not start the retry run")
        store.end_execution(header, run["runId"], "failed", now, 0, "could not restart the run")
        raise
    return _reload(store, header)
