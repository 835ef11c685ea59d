"""Errors on the execution record are one bounded line, never a stack trace."""

import json

from execution_monitor.engine.failures import MAX_ERROR_CHARS, describe, run_failure


def test_given_a_lambda_error_cause_then_only_its_type_and_message_are_kept() -> None:
    cause = json.dumps(
        {
            "errorMessage": "table is\nthrottled",
            "errorType": "StoreContention",
            "stackTrace": ['  File "/var/task/handler.py", line 9, in lambda_handler\n'],
        }
    )
    assert run_failure("StoreContention", cause) == "StoreContention: table is throttled"


def test_given_plain_error_and_cause_then_both_are_joined_on_one_line() -> None:
    assert run_failure("States.Timeout", "took\ttoo long") == "States.Timeout: took too long"
    assert run_failure(None, None) == ""


def test_given_a_huge_message_then_it_is_truncated() -> None:
    text = run_failure("Boom", "x" * 10_000)
    assert len(text) == MAX_ERROR_CHARS
    assert text.endswith("…")
    assert len(describe(ValueError("y" * 10_000))) == MAX_ERROR_CHARS
