"""The contract with the state machine (infrastructure/state_machine.asl.json), typed.

A run's input names the execution and lists the steps left; each Task state calls run_action with
an `operation`, and Choice states branch on the `outcome` it answers. A test checks every operation
and outcome the definition uses against these enums.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from execution_monitor.actions.definitions import DelayAction
from execution_monitor.domain.execution import ExecutionState, StepState


class Operation(StrEnum):
    ATTEMPT = "attempt"
    BEGIN_DELAY = "begin_delay"
    FINISH_DELAY = "finish_delay"
    COMPLETE = "complete"
    FAIL = "fail"


class Outcome(StrEnum):
    COMPLETED = "completed"  # the step (or the run) is done
    WAITING = "waiting"  # a delay began; the Wait state follows
    RETRY = "retry"  # the attempt failed; wait `waitSeconds`, then attempt again
    FAILED = "failed"  # the step failed for good (the execution failed with it)
    ABANDONED = "abandoned"  # the execution was cancelled or restarted: this run stops quietly


class _Payload(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class RunRef(_Payload):
    workspace_id: str
    workflow_id: str
    execution_id: str
    run_id: str


class StepRef(_Payload):
    index: int
    action_id: str
    type: str
    delay_seconds: int | None = None


class Failure(_Payload):
    """What a Catch puts in `$.failure`: Step Functions' Error and Cause (capitalised names)."""

    error: str | None = Field(default=None, alias="Error")
    cause: str | None = Field(default=None, alias="Cause")


class TaskInput(_Payload):
    operation: Operation
    execution: RunRef
    step: StepRef | None = None
    failure: Failure | None = None


class TaskOutput(_Payload):
    outcome: Outcome
    wait_seconds: int | None = None

    def to_payload(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class RunInput(_Payload):
    execution: RunRef
    steps: list[StepRef]

    def to_payload(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def run_input(execution: ExecutionState, steps: list[StepState], run_id: str) -> RunInput:
    """A run's input: who is running, and the steps left, in order (ids and Wait seconds only)."""
    return RunInput(
        execution=RunRef(
            workspace_id=execution.workspace_id,
            workflow_id=execution.workflow_id,
            execution_id=execution.id,
            run_id=run_id,
        ),
        steps=[
            StepRef(
                index=step.index,
                action_id=step.action_id,
                type=step.action_type,
                delay_seconds=step.action.params.seconds if isinstance(step.action, DelayAction) else None,
            )
            for step in steps
        ],
    )
