"""What run_action does for each state of the state machine. Every write is conditional on the
execution still being active in this run, so a cancelled or restarted execution is never overwritten.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import TypeAdapter

from execution_monitor import clock
from execution_monitor.actions import PERFORMERS, ActionDefinition
from execution_monitor.engine.failures import describe
from execution_monitor.engine.templates import resolve
from execution_monitor.models import TERMINAL_EXECUTION_STATUSES
from execution_monitor.observability import logger
from execution_monitor.store.codec import dumps, loads
from execution_monitor.store.interface import ExecutionStore, StoreContention
from execution_monitor.store.records import status_index_keys

MAX_OUTPUT_BYTES = 64 * 1024
DEFAULT_ACTION_TIMEOUT_SECONDS = 60
DEADLINE_MARGIN_SECONDS = 5
_ACTION = TypeAdapter(ActionDefinition)

ABANDONED = {"outcome": "abandoned"}
COMPLETED = {"outcome": "completed"}
WAITING = {"outcome": "waiting"}
FINISH_RETRY_PAUSES = (0.1, 0.3, 0.9)


def _capped(output: Any) -> str:
    text = dumps(output)
    if len(text.encode()) <= MAX_OUTPUT_BYTES:
        return text
    return dumps({"truncated": True, "preview": text[: MAX_OUTPUT_BYTES // 2]})


class StepRunner:
    def __init__(self, store: ExecutionStore, ref: dict[str, Any]) -> None:
        self.store = store
        self.workspace_id = ref["workspaceId"]
        self.execution_id = ref["executionId"]
        self.run_id = ref["runId"]

    def _load(self) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        found = self.store.read_execution_records(self.workspace_id, self.execution_id)
        if found is None:
            return None
        header, steps = found
        if header["status"] in TERMINAL_EXECUTION_STATUSES or header.get("currentRunId") != self.run_id:
            logger.info("run is no longer current", extra={"run_id": self.run_id, "status": header["status"]})
            return None
        return header, steps

    def _completed_in_this_run(self, step: dict[str, Any]) -> bool:
        # Step Functions may invoke a task again after it succeeded (a lost response, a service
        # error): the step's own record says it is done, so answer as the first invocation did.
        return step["status"] == "completed" and step.get("runId") == self.run_id

    def _begin(
        self, header: dict[str, Any], steps: list[dict[str, Any]], index: int
    ) -> dict[str, Any] | None:
        step = steps[index]
        attempt = step.get("attempt", 0) + 1
        now = clock.iso(clock.now())
        if not self.store.begin_step(header, step, self.run_id, attempt, now):
            return None
        return {**step, "attempt": attempt, "startedAt": now, "status": "running", "runId": self.run_id}

    def _finish(self, *args: Any) -> bool:
        """finish_step, retried in place when it loses to contention: the action already ran, and a
        retry of the whole task would run it again."""
        for pause in FINISH_RETRY_PAUSES:
            try:
                return self.store.finish_step(*args)
            except StoreContention:
                time.sleep(pause)
        return self.store.finish_step(*args)

    def begin_delay(self, index: int) -> dict[str, Any]:
        loaded = self._load()
        if loaded is None:
            return ABANDONED
        header, steps = loaded
        step = steps[index]
        if step["status"] == "running" and step.get("runId") == self.run_id:
            return WAITING  # begun by an earlier invocation of this task
        if self._completed_in_this_run(step):
            return COMPLETED
        return ABANDONED if self._begin(header, steps, index) is None else WAITING

    def finish_delay(self, index: int) -> dict[str, Any]:
        loaded = self._load()
        if loaded is None:
            return ABANDONED
        header, steps = loaded
        step = steps[index]
        if self._completed_in_this_run(step):
            return COMPLETED
        now = clock.iso(clock.now())
        fields = {
            "status": "completed",
            "completedAt": now,
            "durationMs": clock.millis_between(step.get("startedAt") or now, now),
            "output": dumps({}),
            "updatedAt": now,
        }
        return COMPLETED if self._finish(header, step, self.run_id, fields) else ABANDONED

    def attempt(self, index: int, remaining_ms: int) -> dict[str, Any]:
        loaded = self._load()
        if loaded is None:
            return ABANDONED
        header, steps = loaded
        if self._completed_in_this_run(steps[index]):
            return COMPLETED
        step = self._begin(header, steps, index)
        if step is None:
            return ABANDONED
        action = _ACTION.validate_python(json.loads(step["action"]))
        context = {
            "input": loads(header.get("input"), {}),
            "steps": {s["actionId"]: loads(s.get("output")) for s in steps if s["status"] == "completed"},
        }
        timeout = min(
            action.timeout_seconds or DEFAULT_ACTION_TIMEOUT_SECONDS,
            max(1, remaining_ms / 1000 - DEADLINE_MARGIN_SECONDS),
        )
        try:
            params_model = type(action.params)
            params = params_model.model_validate(resolve(action.params.to_json_dict(), context))
            output = PERFORMERS[action.type](params, timeout)
        except Exception as error:
            return self._record_failure(header, step, action.max_attempts, action, describe(error))
        now = clock.iso(clock.now())
        fields = {
            "status": "completed",
            "completedAt": now,
            "durationMs": clock.millis_between(step["startedAt"], now),
            "output": _capped(output),
            "updatedAt": now,
        }
        return COMPLETED if self._finish(header, step, self.run_id, fields) else ABANDONED

    def _record_failure(
        self, header: dict[str, Any], step: dict[str, Any], max_attempts: int, action: Any, error: str
    ) -> dict[str, Any]:
        now = clock.iso(clock.now())
        duration = clock.millis_between(step["startedAt"], now)
        if step["attempt"] < max_attempts:
            attempt_record = {
                "attempt": step["attempt"],
                "status": "failed",
                "startedAt": step["startedAt"],
                "completedAt": now,
                "duration": duration,
                "error": error,
            }
            retrying = {
                "error": error,
                "history": [*step.get("history", []), attempt_record],
                "updatedAt": now,
            }
            if not self._finish(header, step, self.run_id, retrying):
                return ABANDONED
            wait = action.retry.wait_before(step["attempt"] + 1)
            return {"outcome": "retry", "waitSeconds": wait}
        fields: dict[str, Any] = {
            "status": "failed",
            "completedAt": now,
            "durationMs": duration,
            "error": error,
            "updatedAt": now,
        }
        execution_fields = {
            "status": "failed",
            **status_index_keys(header, "failed"),
            "error": f"{step['actionId']}: {error}",
            "completedAt": now,
            "durationMs": clock.millis_between(header["startedAt"], now),
        }
        done = self._finish(header, step, self.run_id, fields, execution_fields)
        return {"outcome": "failed"} if done else ABANDONED

    def complete(self) -> dict[str, Any]:
        return self._end("completed", None)

    def fail(self, error: str) -> dict[str, Any]:
        return self._end("failed", error)

    def _end(self, status: str, error: str | None) -> dict[str, Any]:
        loaded = self._load()
        if loaded is None:
            return ABANDONED
        header, _ = loaded
        now = clock.iso(clock.now())
        duration = clock.millis_between(header["startedAt"], now)
        done = self.store.end_execution(header, self.run_id, status, now, duration, error)
        return {"outcome": status} if done else ABANDONED
