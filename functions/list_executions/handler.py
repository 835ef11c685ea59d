"""GET executions: newest first, one index Query per page, optional status filter, opaque cursor."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import executions
from execution_monitor.api import api_handler, json_response
from execution_monitor.models import ExecutionPage
from execution_monitor.params import EXECUTIONS_ROUTE, Cursor, Limit, StatusFilter, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.get(EXECUTIONS_ROUTE, summary="List executions of a workflow, newest first")
def list_executions(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    limit: Limit = 20,
    status: StatusFilter = None,
    cursor: Cursor = None,
) -> Response[ExecutionPage]:
    page = executions.list_executions(
        default_store(), workspaceId, workflowId, limit=limit, status=status, cursor=cursor
    )
    return json_response(200, page)


lambda_handler = api_handler(router)
