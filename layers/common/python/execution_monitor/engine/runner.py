"""Starts and stops state-machine runs. One execution may have several runs (retry-step)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from execution_monitor.aws import client
from execution_monitor.engine.contract import RunInput
from execution_monitor.observability import logger
from execution_monitor.settings import EngineSettings


class Runner(Protocol):
    def run_arn(self, run_id: str) -> str: ...

    def start(self, run_id: str, run_input: RunInput) -> None: ...

    def stop(self, run_arn: str, cause: str) -> None: ...

    def run_status(self, run_id: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; None when the run does not exist."""
        ...


class StepFunctionsRunner:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def run_arn(self, run_id: str) -> str:
        # arn:...:stateMachine:<name> -> arn:...:execution:<name>:<run id>; known before the run starts.
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{run_id}"

    def start(self, run_id: str, run_input: RunInput) -> None:
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=run_id, input=json.dumps(run_input.to_payload())
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            logger.info("run already started", extra={"run_id": run_id})

    def stop(self, run_arn: str, cause: str) -> None:
        try:
            self.client.stop_execution(executionArn=run_arn, error="Cancelled", cause=cause)
        except self.client.exceptions.ExecutionDoesNotExist:
            logger.info("run to stop does not exist", extra={"run_arn": run_arn})

    def run_status(self, run_id: str) -> str | None:
        try:
            described = self.client.describe_execution(executionArn=self.run_arn(run_id))
        except self.client.exceptions.ExecutionDoesNotExist:
            return None
        return str(described["status"])


def default_runner() -> StepFunctionsRunner:
    return StepFunctionsRunner(client("stepfunctions"), EngineSettings.load().state_machine_arn)
