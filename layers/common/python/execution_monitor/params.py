"""Typed, validated request parameters shared by the handlers (they also document the OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from execution_monitor.api_model import IDENTIFIER_PATTERN
from execution_monitor.models import ExecutionStatus

WorkspaceId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="Workspace id")]
WorkflowId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="Workflow id")]
ExecutionId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="Execution id")]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size")]
StatusFilter = Annotated[ExecutionStatus | None, Query(description="Only executions in this status")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]
IfNoneMatch = Annotated[str | None, Header(alias="if-none-match", description="ETag of a cached copy")]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="idempotency-key", max_length=128, pattern=r"^[\x21-\x7e]+$", description="Repeat-safe key"),
]
RotateWebhookSecret = Annotated[
    bool, Query(description="Replace the workflow's webhook secret; the new one is answered once")
]
PlannedActionId = Annotated[
    str | None,
    Query(
        pattern=IDENTIFIER_PATTERN, description="The step retry-step would resume from; none: the whole retry"
    ),
]
