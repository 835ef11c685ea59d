"""The local run watcher (EventBridge's "execution status change" stand-in) against a scripted Step
Functions: each ended run delivered once, found without listing every run ever started."""

from __future__ import annotations

from typing import Any

import pytest

from infrastructure.local.run_watcher import RunWatcher

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:engine"
PAGE = 100


class ScriptedStepFunctions:
    """Runs in start order; lists them newest first in pages, as Step Functions does."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.pages_listed = 0

    def start(self, name: str, status: str = "RUNNING") -> str:
        arn = f"{MACHINE}:{name}".replace("stateMachine", "execution")
        self.runs.append({"executionArn": arn, "stateMachineArn": MACHINE, "name": name, "status": status})
        return arn

    def end(self, arn: str) -> None:
        next(run for run in self.runs if run["executionArn"] == arn)["status"] = "SUCCEEDED"

    def get_paginator(self, operation: str) -> ScriptedStepFunctions:
        assert operation == "list_executions"
        return self

    def paginate(self, stateMachineArn: str, statusFilter: str | None = None) -> Any:
        newest_first = [dict(run) for run in reversed(self.runs) if statusFilter in (None, run["status"])]
        for start in range(0, max(len(newest_first), 1), PAGE):
            self.pages_listed += 1
            yield {"executions": newest_first[start : start + PAGE]}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return dict(next(run for run in self.runs if run["executionArn"] == executionArn))


def watcher(stepfunctions: ScriptedStepFunctions, delivered: list[str]) -> RunWatcher:
    return RunWatcher(stepfunctions, MACHINE, deliver=lambda event: delivered.append(event["detail"]["name"]))


def test_given_runs_ending_between_polls_then_each_is_delivered_once() -> None:
    # Given a run seen running, and another that starts and ends between two polls
    stepfunctions, delivered = ScriptedStepFunctions(), list[str]()
    watch = watcher(stepfunctions, delivered)
    long_run = stepfunctions.start("long")
    assert watch.poll_once() == 0
    stepfunctions.start("quick", status="SUCCEEDED")
    # When the first run ends, and the watcher polls three times
    stepfunctions.end(long_run)
    counts = [watch.poll_once() for _ in range(3)]
    # Then both ended runs were delivered, once each, at the first poll after they ended
    assert counts == [2, 0, 0]
    assert sorted(delivered) == ["long", "quick"]


def test_given_many_runs_reported_already_then_a_poll_lists_only_the_newest_page() -> None:
    # Given 450 runs that ended and were delivered
    stepfunctions, delivered = ScriptedStepFunctions(), list[str]()
    watch = watcher(stepfunctions, delivered)
    for number in range(450):
        stepfunctions.start(f"old-{number}", status="SUCCEEDED")
    assert watch.poll_once() == 450
    # When one more run ends and the watcher polls
    stepfunctions.start("new", status="SUCCEEDED")
    stepfunctions.pages_listed = 0
    assert watch.poll_once() == 1
    # Then it read one page of running runs and one page of newest runs, not all five pages
    assert delivered[-1] == "new"
    assert stepfunctions.pages_listed == 2


def test_given_a_delivery_fails_then_the_run_is_delivered_at_the_next_poll() -> None:
    # Given a run that ended, and a reconciler that fails once
    stepfunctions, delivered = ScriptedStepFunctions(), list[str]()
    failures = [RuntimeError("the reconciler is down")]

    def deliver(event: dict[str, Any]) -> None:
        if failures:
            raise failures.pop()
        delivered.append(event["detail"]["name"])

    watch = RunWatcher(stepfunctions, MACHINE, deliver=deliver)
    stepfunctions.start("quick", status="SUCCEEDED")
    # When the watcher polls, fails to deliver, and polls again
    with pytest.raises(RuntimeError):
        watch.poll_once()
    counts = [watch.poll_once(), watch.poll_once()]
    # Then the run is delivered at the next poll, once
    assert counts == [1, 0]
    assert delivered == ["quick"]
