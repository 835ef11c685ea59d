"""Local stand-in for the EventBridge rule on "Step Functions Execution Status Change".

moto emits no EventBridge events, so this thread polls the state machine's runs and hands each run
that ended to the same reconcile_execution handler, with the event shape EventBridge delivers.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from execution_monitor.observability import logger
from infrastructure.local.events import LambdaContext
from infrastructure.routes import RECONCILER_FUNCTION

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def status_change_event(run: dict[str, Any]) -> dict[str, Any]:
    """What EventBridge sends for a run that ended (detail as documented by Step Functions)."""
    detail = {
        "executionArn": run["executionArn"],
        "stateMachineArn": run["stateMachineArn"],
        "name": run["name"],
        "status": run["status"],
        "input": run.get("input"),
        "error": run.get("error"),
        "cause": run.get("cause"),
    }
    return {
        "version": "0",
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "resources": [run["executionArn"]],
        "detail": detail,
    }


def _reconcile(event: dict[str, Any]) -> Any:
    handler = importlib.import_module(f"{RECONCILER_FUNCTION}.handler").lambda_handler
    return handler(event, LambdaContext(RECONCILER_FUNCTION, timeout_ms=30_000))


class RunWatcher:
    def __init__(
        self,
        stepfunctions: Any,
        state_machine_arn: str,
        interval_seconds: float = 0.5,
        deliver: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.client = stepfunctions
        self.deliver = deliver or _reconcile
        self.state_machine_arn = state_machine_arn
        self.interval = interval_seconds
        self.seen: set[str] = set()  # every run listed so far
        self.running: set[str] = set()  # runs running at the last poll
        self.pending: set[str] = set()  # runs that ended and are not delivered yet
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="run-watcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def poll_once(self) -> int:
        """Delivers each run that ended since the last poll; returns how many.

        Two short listings, not every run ever started: the runs running now, and the runs started
        since the last poll (newest first, up to the first page holding a run seen before). A run
        ended when it was running at the last poll and is not now, or when it was new and ended.
        What is learnt is kept only once both listings succeeded, and an ended run stays pending
        until its delivery succeeded: a failure is retried at the next poll, as a re-listing would.
        """
        running_now = {summary["executionArn"] for summary in self._listed(statusFilter="RUNNING")}
        new = self._started_since_last_poll()
        self.pending.update(arn for arn in self.running if arn not in running_now)
        for summary in new:
            arn = summary["executionArn"]
            if summary["status"] in ENDED:
                self.pending.add(arn)
            else:
                running_now.add(arn)  # started after the running listing
        self.seen.update(summary["executionArn"] for summary in new)
        self.running = running_now
        delivered = 0
        for arn in sorted(self.pending):
            run = self.client.describe_execution(executionArn=arn)
            self.deliver(status_change_event(run))
            self.pending.discard(arn)
            delivered += 1
        return delivered

    def _listed(self, **filters: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn, **filters
        )
        for page in pages:
            yield from page["executions"]

    def _started_since_last_poll(self) -> list[dict[str, Any]]:
        # Runs are listed newest first: stop after the first page that holds a run seen before.
        new: list[dict[str, Any]] = []
        pages = self.client.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn)
        for page in pages:
            unseen = [summary for summary in page["executions"] if summary["executionArn"] not in self.seen]
            new.extend(unseen)
            if len(unseen) < len(page["executions"]):
                break
        return new

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.poll_once()
            except Exception:
                logger.exception("run watcher poll failed; retrying")
