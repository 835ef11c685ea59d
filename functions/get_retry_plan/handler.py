"""GET retry-plan: what retry (no actionId) or retry-step (actionId) would re-run and keep. 409 when
it is not allowed, 404 for an unknown action."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import paths
from execution_monitor.api import api_handler, documented, json_response
from execution_monitor.models import RetryPlanEnvelope
from execution_monitor.params import ExecutionId, PlannedActionId, WorkflowId, WorkspaceId
from execution_monitor.retry_plans import retry_plan
from execution_monitor.settings import TableSettings
from execution_monitor.store import default_store

router = Router()


@router.get(
    paths.resolver_path(paths.RETRY_PLAN),
    summary="What a retry or a retry-step would do, before doing it",
    responses=documented(200, RetryPlanEnvelope, 409),
)
def get_retry_plan(
    workspaceId: WorkspaceId,
    workflowId: WorkflowId,
    executionId: ExecutionId,
    actionId: PlannedActionId = None,
) -> Response[RetryPlanEnvelope]:
    store = default_store()
    plan = retry_plan(store.executions, store.statistics, workspaceId, workflowId, executionId, actionId)
    return json_response(200, RetryPlanEnvelope(plan=plan))


lambda_handler = api_handler(router, settings=(TableSettings,))
