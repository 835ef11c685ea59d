"""What every action definition has, whatever its type."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from execution_monitor.api_model import IDENTIFIER_PATTERN, ApiModel

MAX_BACKOFF_SECONDS = 3600


class RetryPolicy(ApiModel):
    """How often a failing action is tried in all: maxAttempts counts the first try too."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    interval_seconds: float = Field(default=1, ge=0, le=3600)
    backoff_rate: float = Field(default=2, ge=1, le=10)

    def wait_before(self, next_attempt: int) -> int:
        """Seconds to wait before `next_attempt` (2 = the first retry): whole seconds, at most an hour."""
        seconds = self.interval_seconds * self.backoff_rate ** max(0, next_attempt - 2)
        return min(MAX_BACKOFF_SECONDS, max(0, int(-(-seconds // 1))))


class ActionBase(ApiModel):
    id: str = Field(pattern=IDENTIFIER_PATTERN)
    name: str | None = Field(default=None, max_length=200)
    retry: RetryPolicy | None = None
    timeout_seconds: int | None = Field(default=None, ge=1, le=300)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts if self.retry else 1
