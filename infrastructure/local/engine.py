"""Provisions the engine on moto: run_action as an in-process Lambda and the real state machine."""

from __future__ import annotations

import json
from typing import Any

from infrastructure.local import lambda_invoker
from infrastructure.state_machine import render

STATE_MACHINE_NAME = "execution-monitor-engine"
RUN_ACTION_FUNCTION = "run_action"
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}


def provision_engine(session: Any) -> str:
    """Creates the function and state machine in the (mocked) account; returns the machine's ARN."""
    lambda_invoker.install()
    lambda_invoker.HANDLERS[RUN_ACTION_FUNCTION] = RUN_ACTION_FUNCTION
    role_arn = session.client("iam").create_role(
        RoleName="execution-monitor-local", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY)
    )["Role"]["Arn"]
    function_arn = session.client("lambda").create_function(
        FunctionName=RUN_ACTION_FUNCTION,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.lambda_handler",
        Code={"ZipFile": lambda_invoker.placeholder_zip()},
        Timeout=330,
    )["FunctionArn"]
    return str(
        session.client("stepfunctions").create_state_machine(
            name=STATE_MACHINE_NAME, definition=render(function_arn), roleArn=role_arn, type="STANDARD"
        )["stateMachineArn"]
    )
