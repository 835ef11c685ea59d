"""GET workflow."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import workflows
from execution_monitor.api import api_handler, json_response
from execution_monitor.models import WorkflowEnvelope
from execution_monitor.params import WORKFLOW_ROUTE, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.get(WORKFLOW_ROUTE, summary="Read a workflow definition")
def get_workflow(workspaceId: WorkspaceId, workflowId: WorkflowId) -> Response[WorkflowEnvelope]:
    workflow = workflows.get_workflow(default_store(), workspaceId, workflowId)
    return json_response(200, WorkflowEnvelope(workflow=workflow))


lambda_handler = api_handler(router)
