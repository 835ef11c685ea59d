"""GET a workspace's workflows: by id, one index Query per page, each with its last execution."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.models import WorkflowPage
from execution_monitor.params import Cursor, Limit, WorkspaceId
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import workflow_page_view

router = Router()


@router.get(
    paths.resolver_path(paths.WORKFLOWS),
    summary="List a workspace's workflows with their last execution's status",
    responses=documented(200, WorkflowPage),
)
def list_workflows(
    workspaceId: WorkspaceId, limit: Limit = 20, cursor: Cursor = None
) -> Response[WorkflowPage]:
    page = default_store().workflows.list_workflows(workspaceId, limit=limit, cursor=cursor)
    return json_response(200, workflow_page_view(page))


lambda_handler = api_handler(router, settings=(TableSettings,))
