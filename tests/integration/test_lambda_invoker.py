"""Pins the private moto method the local runtime patches, so a moto upgrade fails here first."""

import inspect
import json

import boto3
import moto
from moto.awslambda.models import LambdaFunction

from infrastructure.local import lambda_invoker


def test_moto_is_the_pinned_version_whose_invoker_contract_we_patch() -> None:
    assert moto.__version__ == "5.2.5"
    assert list(inspect.signature(lambda_invoker._original_invoke).parameters)[:2] == ["self", "event"]


def test_given_the_patch_when_a_function_is_invoked_then_our_handler_runs_and_errors_carry_their_type(
    engine: str,
) -> None:
    assert LambdaFunction._invoke_lambda is lambda_invoker._invoke_in_process

    response = boto3.client("lambda").invoke(
        FunctionName="run_action",
        Payload=json.dumps(
            {
                "operation": "teleport",
                "execution": {
                    "workspaceId": "ws1",
                    "workflowId": "wf1",
                    "executionId": "exec_1",
                    "runId": "exec_1-1",
                },
            }
        ).encode(),
    )

    assert "FunctionError" in response  # moto says "Handled"; AWS says "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValidationError"
    assert "operation" in payload["errorMessage"] and "teleport" in payload["errorMessage"]
