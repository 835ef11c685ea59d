"""GET a workspace's executions across its workflows: newest first, one index Query per page."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import executions, paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.models import ExecutionPage
from execution_monitor.params import Cursor, Limit, StatusFilter, WorkspaceId
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import page_view

router = Router()


@router.get(
    paths.resolver_path(paths.WORKSPACE_EXECUTIONS),
    summary="List a workspace's executions across its workflows, newest first",
    responses=documented(200, ExecutionPage),
)
def list_workspace_executions(
    workspaceId: WorkspaceId, limit: Limit = 20, status: StatusFilter = None, cursor: Cursor = None
) -> Response[ExecutionPage]:
    page = executions.list_executions(
        default_store().executions, workspaceId, None, limit=limit, status=status, cursor=cursor
    )
    return json_response(200, page_view(page))


lambda_handler = api_handler(router, settings=(TableSettings,))
