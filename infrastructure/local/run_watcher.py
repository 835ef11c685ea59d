"""Local stand-in for the EventBridge rule on "Step Functions Execution Status Change".

moto emits no EventBridge events, so this thread polls the state machine's runs and hands each run
that ended to the same reconcile_execution handler, with the event shape EventBridge delivers.
"""

from __future__ import annotations

import importlib
import threading
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


class RunWatcher:
    def __init__(self, stepfunctions: Any, state_machine_arn: str, interval_seconds: float = 0.5) -> None:
        self.client = stepfunctions
        self.state_machine_arn = state_machine_arn
        self.interval = interval_seconds
        self.reported: set[str] = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="run-watcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def poll_once(self) -> int:
        handler = importlib.import_module(f"{RECONCILER_FUNCTION}.handler").lambda_handler
        delivered = 0
        pages = self.client.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn)
        for page in pages:
            for summary in page["executions"]:
                arn = summary["executionArn"]
                if summary["status"] not in ENDED or arn in self.reported:
                    continue
                run = self.client.describe_execution(executionArn=arn)
                handler(status_change_event(run), LambdaContext(RECONCILER_FUNCTION, timeout_ms=30_000))
                self.reported.add(arn)
                delivered += 1
        return delivered

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.poll_once()
            except Exception:
                logger.exception("run watcher poll failed; retrying")
