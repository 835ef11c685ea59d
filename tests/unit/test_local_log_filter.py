"""`make dev`'s log keeps moto's real errors but not the dump moto writes for every stopped run."""

from __future__ import annotations

import logging

from infrastructure.local.__main__ import _without_stopped_run_noise


def record(name: str, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)


def test_a_stopped_runs_dump_is_dropped_and_other_errors_are_kept() -> None:
    eval_logger = "moto.stepfunctions.parser.asl.component.eval_component"
    dropped = [
        record(
            eval_logger, "Exception=FailureEventException, Error=HistoryEventType.MapIterationAborted, ..."
        ),
        record(
            "moto.stepfunctions.parser.asl.component.program.program",
            "Stepfunctions computation ended with exception "
            "'AttributeError('str' object has no attribute 'get')'.",
        ),
    ]
    kept = [
        record(eval_logger, "Exception=States.Runtime, Details=an unexpected interpreter error"),
        record("execution_monitor", "MapIterationAborted in our own log line"),
    ]
    assert [_without_stopped_run_noise(each) for each in dropped] == [False, False]
    assert [_without_stopped_run_noise(each) for each in kept] == [True, True]
