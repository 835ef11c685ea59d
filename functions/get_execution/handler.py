"""GET execution: one strongly consistent Query; ETag = version; If-None-Match answers 304."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import executions, paths
from execution_monitor.api import api_handler, documented, execution_response
from execution_monitor.models import ExecutionEnvelope
from execution_monitor.params import ExecutionId, IfNoneMatch, WorkflowId, WorkspaceId
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store

router = Router()


@router.get(
    paths.resolver_path(paths.EXECUTION),
    summary="Read an execution with its step results",
    responses=documented(200, ExecutionEnvelope, not_modified=True),
)
def get_execution(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    executionId: ExecutionId,
    ifNoneMatch: IfNoneMatch = None,
) -> Response[Any]:
    execution, steps = executions.get_execution(
        default_store().executions, workspaceId, workflowId, executionId
    )
    return execution_response(execution, steps, ifNoneMatch)


lambda_handler = api_handler(router, settings=(TableSettings,))
