"""Benchmark: process_stream (step statistics) over the stream of 50 concurrent executions, on moto.

The records are real: 50 executions are created and advanced with the engine's own transitions and
store intents (round-robin, as concurrent executions interleave in the stream), then the table's
stream is read and fed to the real handler in batches. Reported: records per second, statistics
writes, and how many requests reached execution headers (none: progress moves with each
transition; the stream consumer only learns durations).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
from moto import mock_aws

from execution_monitor import clock
from execution_monitor.domain import transitions
from execution_monitor.domain.execution import ExecutionState, Run, StepState
from execution_monitor.models import WorkflowDefinition
from execution_monitor.store.dynamodb import DynamoStore, keys
from infrastructure.local.stream_poller import read_stream
from infrastructure.table import create_table_request

TABLE = "progress-bench"
WORKSPACE = "bench"
WORKFLOW = "wf_bench"
EXECUTIONS = 50
STEPS = 5
COMPLETED_STEPS = 3  # then the 4th begins "now": its ETA is on schedule, as in a live system
STEP_MS = 60_000
ACTIONS = WorkflowDefinition.model_validate(
    {
        "name": "bench",
        "actions": [
            {"id": f"step{index}", "type": "http_request", "params": {"url": f"https://example.com/{index}"}}
            for index in range(STEPS)
        ],
    }
).actions


class HeaderWriteCounter:
    """Counts requests that write an execution header (UpdateItem, PutItem, TransactWriteItems)."""

    def __init__(self, client: Any) -> None:
        self.count = 0
        client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "UpdateItem":
            targets = [params.get("Key", {})]
        elif model.name == "PutItem":
            targets = [params.get("Item", {})]
        elif model.name == "TransactWriteItems":
            operations = [next(iter(item.values())) for item in params.get("TransactItems", [])]
            targets = [operation.get("Key") or operation.get("Item") or {} for operation in operations]
        else:
            return
        if any(target.get("sk", {}).get("S") == keys.EXECUTION_SK for target in targets):
            self.count += 1


def _new_execution(started_at: str) -> tuple[ExecutionState, list[StepState]]:
    """An execution as POST executions creates it (not started: the bench drives the steps)."""
    execution_id = clock.new_id("exec")
    run = Run(
        f"{execution_id}-1",
        0,
        started_at,
        f"arn:aws:states:us-east-1:123456789012:execution:e:{execution_id}",
    )
    return transitions.create(
        execution_id=execution_id,
        run=run,
        workspace_id=WORKSPACE,
        workflow_id=WORKFLOW,
        workflow_version=1,
        actions=list(ACTIONS),
        expected=[None] * STEPS,
        execution_input={},
    )


def seed_executions(store: DynamoStore, executions: int = EXECUTIONS) -> list[str]:
    """Creates and advances `executions` executions round-robin with the engine's transitions:
    COMPLETED_STEPS steps of STEP_MS each, then the next one begun now. Returns their ids."""
    # Whole milliseconds, as stored: the running step's elapsed time is then exactly zero.
    base = clock.parse_iso(clock.iso(clock.now() - timedelta(milliseconds=COMPLETED_STEPS * STEP_MS)))
    created = [_new_execution(clock.iso(base)) for _ in range(executions)]
    for execution, steps in created:
        store.executions.create_execution(execution, steps)
    ids = [execution.id for execution, _ in created]
    for index in range(COMPLETED_STEPS + 1):
        began_at = base + timedelta(milliseconds=index * STEP_MS)
        for execution_id in ids:
            context = store.executions.get_step_context(WORKSPACE, execution_id, index)
            assert context is not None
            run_id = context.execution.current_run_id
            assert store.executions.claim_step(
                transitions.begin_step(context.execution, context.step, run_id, began_at)
            )
        if index == COMPLETED_STEPS:
            break
        ended_at = began_at + timedelta(milliseconds=STEP_MS)
        for execution_id in ids:
            context = store.executions.get_step_context(WORKSPACE, execution_id, index)
            assert context is not None
            assert store.executions.finish_step(
                transitions.complete_step(context.execution, context.step, {}, ended_at)
            )
    return ids


@contextmanager
def moto_table() -> Iterator[None]:
    """A fresh mocked account with the table (streams on) and the handlers' settings pointed at it."""
    from execution_monitor import store as store_module
    from execution_monitor.aws import reset_clients
    from execution_monitor.settings import reset_settings

    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "TABLE_NAME": TABLE,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)

    def reset() -> None:
        reset_settings()
        reset_clients()
        store_module.default_store.cache_clear()

    reset()
    try:
        with mock_aws():
            boto3.client("dynamodb").create_table(**create_table_request(TABLE))
            yield
    finally:
        reset()
        os.environ.clear()
        os.environ.update(saved)


def stream_records() -> list[dict[str, Any]]:
    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return read_stream(boto3.client("dynamodbstreams"), arn)


def _one_case(batch_size: int) -> dict[str, Any]:
    from execution_monitor.aws import client
    from execution_monitor.observability import logger
    from execution_monitor.store import default_store
    from infrastructure.local.stream_poller import new_image_filter
    from process_stream.handler import lambda_handler
    from tests.helpers import LambdaContext

    logger.setLevel("WARNING")  # the handler logs one line per batch
    with moto_table():
        seed_executions(default_store())
        records = [record for record in stream_records() if new_image_filter()(record)]
        counter = HeaderWriteCounter(client("dynamodb"))
        started = time.perf_counter()
        failures = 0
        for start in range(0, len(records), batch_size):
            response = lambda_handler({"Records": records[start : start + batch_size]}, LambdaContext())
            failures += len(response["batchItemFailures"])
        seconds = time.perf_counter() - started
    return {
        "bench": "process_stream",
        "records": len(records),
        "executions": EXECUTIONS,
        "batch size": batch_size,
        "invocations": -(-len(records) // batch_size),
        "seconds": round(seconds, 3),
        "records/s": round(len(records) / seconds),
        "header writes": counter.count,
        "failed records": failures,
    }


def run_stream_bench() -> list[dict[str, Any]]:
    """The completed steps of 50 executions: in one batch, then in batches of 10."""
    return [_one_case(1000), _one_case(10)]
