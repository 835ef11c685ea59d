"""The one state-machine definition: CDK loads it with substitutions, the local runtime renders it."""

from __future__ import annotations

from pathlib import Path

DEFINITION_PATH = Path(__file__).resolve().parent / "state_machine.asl.json"
RUN_ACTION_PLACEHOLDER = "RunActionArn"


def definition_template() -> str:
    return DEFINITION_PATH.read_text()


def render(run_action_arn: str) -> str:
    return definition_template().replace("${" + RUN_ACTION_PLACEHOLDER + "}", run_action_arn)
