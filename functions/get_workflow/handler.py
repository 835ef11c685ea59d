"""GET workflow."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from execution_monitor import workflows
from execution_monitor.api import create_resolver, json_response, serve
from execution_monitor.models import WorkflowEnvelope
from execution_monitor.observability import logger, tracer
from execution_monitor.params import WORKFLOW_ROUTE, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.get(WORKFLOW_ROUTE, summary="Read a workflow definition")
def get_workflow(workspaceId: WorkspaceId, workflowId: WorkflowId) -> Response[WorkflowEnvelope]:
    workflow = workflows.get_workflow(default_store(), workspaceId, workflowId)
    return json_response(200, WorkflowEnvelope(workflow=workflow))


app = create_resolver(router)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return serve(app, event, context)
