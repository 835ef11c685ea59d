"""Execution and step state changes as conditional writes. A False return means another writer won."""

from __future__ import annotations

from typing import Any, Protocol

from execution_monitor import clock
from execution_monitor.store.records import header_keys, status_index_keys, step_keys
from execution_monitor.store.updates import Update

ACTIVE = {":pending": "pending", ":running": "running"}
HEADER_IS_ACTIVE_IN_RUN = "#status IN (:pending, :running) AND #run = :run"


class _Applies(Protocol):
    def apply(self, *updates: Update) -> bool: ...


def _header(header: dict[str, Any]) -> dict[str, str]:
    return header_keys(header["workspaceId"], header["id"])


def _step(header: dict[str, Any], step: dict[str, Any]) -> dict[str, str]:
    return step_keys(header["workspaceId"], header["id"], step["index"])


def _terminal_header_fields(
    header: dict[str, Any], status: str, now: str, duration_ms: int
) -> dict[str, Any]:
    return {
        "status": status,
        **status_index_keys(header, status),
        "completedAt": now,
        "durationMs": duration_ms,
        "updatedAt": now,
    }


class ExecutionTransitions:
    """Mixed into the DynamoDB store; every method is one atomic, conditional request."""

    def begin_step(
        self: _Applies, header: dict[str, Any], step: dict[str, Any], run_id: str, attempt: int, now: str
    ) -> bool:
        return self.apply(
            Update(
                _header(header),
                sets={"status": "running", **status_index_keys(header, "running"), "updatedAt": now},
                condition=HEADER_IS_ACTIVE_IN_RUN,
                condition_values={**ACTIVE, ":run": run_id},
                bump_version=True,
            ),
            Update(
                _step(header, step),
                sets={
                    "status": "running",
                    "attempt": attempt,
                    "startedAt": now,
                    "runId": run_id,
                    "updatedAt": now,
                },
                removes=("completedAt", "durationMs", "output", "error"),
                condition="#status IN (:pending, :running) AND #attempt = :previous",
                condition_values={**ACTIVE, ":previous": attempt - 1},
            ),
        )

    def finish_step(
        self: _Applies,
        header: dict[str, Any],
        step: dict[str, Any],
        run_id: str,
        step_fields: dict[str, Any],
        execution_fields: dict[str, Any] | None = None,
    ) -> bool:
        """Records an attempt's end; `execution_fields` end the execution too (a final failure)."""
        return self.apply(
            Update(
                _header(header),
                sets={"updatedAt": step_fields["updatedAt"], **(execution_fields or {})},
                condition=HEADER_IS_ACTIVE_IN_RUN,
                condition_values={**ACTIVE, ":run": run_id},
                bump_version=True,
            ),
            Update(
                _step(header, step),
                sets=step_fields,
                condition="#status = :running AND #attempt = :attempt",
                condition_values={":running": "running", ":attempt": step["attempt"]},
            ),
        )

    def end_execution(
        self: _Applies,
        header: dict[str, Any],
        run_id: str,
        status: str,
        now: str,
        duration_ms: int,
        error: str | None = None,
    ) -> bool:
        fields = _terminal_header_fields(header, status, now, duration_ms)
        if error:
            fields["error"] = error
        return self.apply(
            Update(
                _header(header),
                sets=fields,
                condition=HEADER_IS_ACTIVE_IN_RUN,
                condition_values={**ACTIVE, ":run": run_id},
                bump_version=True,
            )
        )

    def cancel(
        self: _Applies,
        header: dict[str, Any],
        running_step: dict[str, Any] | None,
        now: str,
        duration_ms: int,
    ) -> bool:
        updates = [
            Update(
                _header(header),
                sets=_terminal_header_fields(header, "cancelled", now, duration_ms),
                # Not on version: progress writes bump it too, and must not make a cancel fail.
                condition=HEADER_IS_ACTIVE_IN_RUN,
                condition_values={**ACTIVE, ":run": header["currentRunId"]},
                bump_version=True,
            )
        ]
        if running_step is not None:
            started = running_step.get("startedAt") or now
            updates.append(
                Update(
                    _step(header, running_step),
                    sets={
                        "status": "cancelled",
                        "completedAt": now,
                        "durationMs": clock.millis_between(started, now),
                        "updatedAt": now,
                    },
                    condition="#status = :running AND #attempt = :attempt",
                    condition_values={":running": "running", ":attempt": running_step["attempt"]},
                )
            )
        return self.apply(*updates)

    def restart_from_step(
        self: _Applies,
        header: dict[str, Any],
        step: dict[str, Any],
        run: dict[str, Any],
        history: list[dict[str, Any]],
        now: str,
    ) -> bool:
        return self.apply(
            Update(
                _header(header),
                sets={
                    "status": "running",
                    **status_index_keys(header, "running"),
                    "currentRunId": run["runId"],
                    "runs": [*header.get("runs", []), run],
                    "updatedAt": now,
                },
                removes=("error", "completedAt", "durationMs"),
                condition="#status IN (:failed, :cancelled) AND #version = :version",
                condition_values={
                    ":failed": "failed",
                    ":cancelled": "cancelled",
                    ":version": header["version"],
                },
                bump_version=True,
            ),
            Update(
                _step(header, step),
                sets={"status": "pending", "history": history, "updatedAt": now},
                removes=("error", "completedAt", "durationMs", "output", "startedAt"),
                condition="#attempt = :attempt",
                condition_values={":attempt": step.get("attempt", 0)},
            ),
        )

    def release_retry(self: _Applies, header: dict[str, Any], new_execution_id: str, now: str) -> bool:
        """Unlinks a retry whose execution could not be created, so the execution can be retried."""
        return self.apply(
            Update(
                _header(header),
                sets={"updatedAt": now},
                removes=("retriedBy",),
                condition="#retriedBy = :retry",
                condition_values={":retry": new_execution_id},
                bump_version=True,
            )
        )

    def claim_retry(self: _Applies, header: dict[str, Any], new_execution_id: str, now: str) -> bool:
        return self.apply(
            Update(
                _header(header),
                sets={"retriedBy": new_execution_id, "updatedAt": now},
                condition="#status IN (:failed, :cancelled) AND attribute_not_exists(retriedBy)",
                condition_values={":failed": "failed", ":cancelled": "cancelled"},
                bump_version=True,
            )
        )
