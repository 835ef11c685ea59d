"""Execution and step statuses, and which of them allow what."""

from __future__ import annotations

from enum import StrEnum


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        return self in ACTIVE


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


TERMINAL = frozenset({ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})
ACTIVE = frozenset({ExecutionStatus.PENDING, ExecutionStatus.RUNNING})
# A failed or cancelled execution can be retried whole, or resumed from its failed/interrupted step.
RETRYABLE = frozenset({ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})
