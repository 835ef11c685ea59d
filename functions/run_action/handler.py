"""run_action: called by each Task state of the state machine with an `operation`."""

from typing import Any

from execution_monitor.engine.failures import run_failure
from execution_monitor.engine.steps import StepRunner
from execution_monitor.observability import logger, tracer
from execution_monitor.store import default_store


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runner = StepRunner(default_store(), event["execution"])
    operation = event["operation"]
    logger.append_keys(execution_id=runner.execution_id, run_id=runner.run_id, operation=operation)
    if operation == "attempt":
        return runner.attempt(event["step"]["index"], context.get_remaining_time_in_millis())
    if operation == "begin_delay":
        return runner.begin_delay(event["step"]["index"])
    if operation == "finish_delay":
        return runner.finish_delay(event["step"]["index"])
    if operation == "complete":
        return runner.complete()
    if operation == "fail":
        failure = event.get("failure") or {}
        return runner.fail(run_failure(failure.get("Error"), failure.get("Cause")) or "the run failed")
    raise ValueError(f"unknown operation {operation}")
