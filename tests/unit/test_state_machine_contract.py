"""The state machine and run_action speak one typed contract: every operation a Task sends and every
outcome a Choice branches on is a member of the engine's enums, and each enum member is used."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from execution_monitor.engine.contract import Operation, Outcome, StepRef, TaskOutput
from infrastructure.state_machine import definition_template


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        processor = state.get("ItemProcessor")
        if processor:
            yield from states(processor)


DEFINITION = json.loads(definition_template())
STATES = dict(states(DEFINITION))


def test_every_operation_a_task_sends_is_an_operation_and_every_operation_is_sent() -> None:
    sent = {state["Parameters"]["operation"] for state in STATES.values() if state["Type"] == "Task"}
    assert sent == {operation.value for operation in Operation}


def test_every_outcome_a_choice_branches_on_is_an_outcome() -> None:
    branches = [
        (choice["Variable"], choice["StringEquals"])
        for state in STATES.values()
        if state["Type"] == "Choice"
        for choice in state["Choices"]
    ]
    outcomes = {value for variable, value in branches if variable == "$.result.outcome"}
    assert outcomes <= {outcome.value for outcome in Outcome}
    # Waiting is every branch's default after a delay begins; the others are named.
    assert outcomes | {Outcome.WAITING.value} == {outcome.value for outcome in Outcome}


def test_the_fields_the_definition_reads_are_the_contracts_wire_names() -> None:
    text = json.dumps(DEFINITION)
    step = StepRef(index=0, action_id="a", type="delay", delay_seconds=2).model_dump(by_alias=True)
    result = TaskOutput(outcome=Outcome.RETRY, wait_seconds=3).to_payload()
    read_from_step = set(re.findall(r"\$\.step\.(\w+)", text))
    read_from_result = set(re.findall(r"\$\.result\.(\w+)", text))
    assert read_from_step == {"type", "delaySeconds"} and read_from_step <= set(step)
    assert read_from_result == {"outcome", "waitSeconds"} and read_from_result <= set(result)
