"""Every API path, once, in API Gateway's form (`{param}`): the CDK routes table, the local
gateway, the handlers (via `resolver_path`) and the SSE app (Starlette reads this form) use these."""

from __future__ import annotations

import re

API_PREFIX = "/api"
OPENAPI = f"{API_PREFIX}/openapi.json"
WORKSPACE = f"{API_PREFIX}/workspaces/{{workspaceId}}"
WORKFLOWS = f"{WORKSPACE}/workflows"
WORKSPACE_EXECUTIONS = f"{WORKSPACE}/executions"
WORKFLOW = f"{WORKFLOWS}/{{workflowId}}"
EXECUTIONS = f"{WORKFLOW}/executions"
EXECUTION = f"{EXECUTIONS}/{{executionId}}"
STREAM = f"{EXECUTION}/stream"
CANCEL = f"{EXECUTION}/cancel"
RETRY = f"{EXECUTION}/retry"
RETRY_STEP = f"{EXECUTION}/retry-step"
RETRY_PLAN = f"{EXECUTION}/retry-plan"
EVENTS = f"{EXECUTION}/events"


def resolver_path(path: str) -> str:
    """The Powertools resolver's spelling of a path: `<param>` instead of `{param}`."""
    return re.sub(r"\{(\w+)\}", r"<\1>", path)
