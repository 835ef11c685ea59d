"""GET events: the execution's published events, each with every webhook delivery attempt."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import executions, paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.models import EventList
from execution_monitor.params import ExecutionId, WorkflowId, WorkspaceId
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store
from execution_monitor.views import events_view

router = Router()


@router.get(
    paths.resolver_path(paths.EVENTS),
    summary="The execution's events and their webhook deliveries",
    responses=documented(200, EventList),
)
def list_execution_events(
    workspaceId: WorkspaceId, workflowId: WorkflowId, executionId: ExecutionId
) -> Response[EventList]:
    store = default_store()
    execution = store.executions.get_header(workspaceId, executionId)
    executions.require_execution(None if execution is None else (execution, []), workflowId, executionId)
    return json_response(200, events_view(store.events.list_events(workspaceId, executionId)))


lambda_handler = api_handler(router, settings=(TableSettings,))
