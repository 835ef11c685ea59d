"""PUT workflow: create or replace a definition; its version increments."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from execution_monitor import workflows
from execution_monitor.api import api_handler, json_response
from execution_monitor.models import WorkflowDefinition, WorkflowEnvelope
from execution_monitor.params import WORKFLOW_ROUTE, WorkflowId, WorkspaceId
from execution_monitor.store import default_store

router = Router()


@router.put(WORKFLOW_ROUTE, summary="Create or replace a workflow definition")
def put_workflow(
    workspaceId: WorkspaceId, workflowId: WorkflowId, definition: Annotated[WorkflowDefinition, Body()]
) -> Response[WorkflowEnvelope]:
    workflow = workflows.save_workflow(default_store(), workspaceId, workflowId, definition)
    return json_response(200, WorkflowEnvelope(workflow=workflow))


lambda_handler = api_handler(router)
