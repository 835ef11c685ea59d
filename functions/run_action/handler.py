"""run_action: called by each Task state of the state machine with an `operation`."""

from typing import Any

from execution_monitor.engine.contract import Operation, TaskInput
from execution_monitor.engine.failures import run_failure
from execution_monitor.engine.steps import StepRunner
from execution_monitor.observability import instrumented, logger
from execution_monitor.settings import ActionSettings, TableSettings
from execution_monitor.store import default_store

TableSettings.load()
ActionSettings.load()


def _step_index(task: TaskInput) -> int:
    if task.step is None:
        raise ValueError(f"operation {task.operation} needs a step")
    return task.step.index


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = TaskInput.model_validate(event)
    runner = StepRunner(default_store().executions, task.execution)
    logger.append_keys(
        execution_id=task.execution.execution_id, run_id=task.execution.run_id, operation=task.operation
    )
    match task.operation:
        case Operation.ATTEMPT:
            output = runner.attempt(_step_index(task), context.get_remaining_time_in_millis())
        case Operation.BEGIN_DELAY:
            output = runner.begin_delay(_step_index(task))
        case Operation.FINISH_DELAY:
            output = runner.finish_delay(_step_index(task))
        case Operation.COMPLETE:
            output = runner.complete()
        case Operation.FAIL:
            failure = task.failure
            reason = run_failure(failure.error, failure.cause) if failure else ""
            output = runner.fail(reason or "the run failed")
    return output.to_payload()
