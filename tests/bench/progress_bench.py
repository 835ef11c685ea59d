"""Benchmark: update_progress over 1,000 stream records of 50 concurrent executions, on moto.

The records are real: 50 executions are created and advanced with the same conditional writes
run_action makes (round-robin, as concurrent executions interleave in the stream), then the
table's stream is read and fed to the real handler in batches. Reported: records per second and
how many aggregate writes reached execution headers (the updater's promise: at most one per
execution per batch).
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
from execution_monitor.engine.lifecycle import new_execution_records
from execution_monitor.store import keys
from execution_monitor.store.codec import dumps
from execution_monitor.store.dynamodb import DynamoStore
from execution_monitor.store.records import header_keys, status_index_keys, step_keys
from execution_monitor.store.updates import Update
from infrastructure.local.stream_poller import read_stream
from infrastructure.table import create_table_request
from tests.helpers import NoRunner

TABLE = "progress-bench"
WORKSPACE = "bench"
WORKFLOW = "wf_bench"
EXECUTIONS = 50
STEPS = 5
# Per execution: 6 inserts (5 steps + header), 3 steps begun and finished (4 records each) and a
# 4th begun (2 records) = 20 records; 50 executions = 1,000 records.
COMPLETED_STEPS = 3
STEP_MS = 60_000  # the 4th step starts "now": its ETA is on schedule, as in a live system


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


def _new_execution(started: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Records exactly as POST executions writes them (not started: the bench drives the steps)."""
    actions = [
        {"id": f"step{index}", "type": "http_request", "params": {"url": f"https://example.com/{index}"}}
        for index in range(STEPS)
    ]
    return new_execution_records(
        NoRunner(),
        workspace_id=WORKSPACE,
        workflow_id=WORKFLOW,
        workflow_version=1,
        actions=actions,
        execution_input={},
        now=started,
    )


def _advance(
    store: DynamoStore, header: dict[str, Any], step: dict[str, Any], fields: dict[str, Any]
) -> None:
    """What run_action's transaction writes, as two updates: the same stream records, but cheap on
    moto (whose TransactWriteItems deep-copies the whole table, stream included, every time)."""
    header_fields = {"updatedAt": fields["updatedAt"]}
    if fields["status"] == "running":
        header_fields.update(status="running", **status_index_keys(header, "running"))
    assert store.apply(Update(header_keys(WORKSPACE, header["id"]), sets=header_fields, bump_version=True))
    assert store.apply(Update(step_keys(WORKSPACE, header["id"], step["index"]), sets=fields))


def seed_executions(store: DynamoStore, executions: int = EXECUTIONS) -> list[str]:
    """Creates and advances `executions` executions round-robin; returns their ids."""
    base = clock.now() - timedelta(milliseconds=COMPLETED_STEPS * STEP_MS)
    created = [_new_execution(clock.iso(base)) for _ in range(executions)]
    for header, steps in created:
        store.create_execution(header, steps)
    for index in range(COMPLETED_STEPS + 1):
        started = clock.iso(base + timedelta(milliseconds=index * STEP_MS))
        for header, steps in created:
            begin = {"status": "running", "attempt": 1, "startedAt": started, "updatedAt": started}
            _advance(store, header, steps[index], begin)
        if index == COMPLETED_STEPS:
            break
        ended = clock.iso(base + timedelta(milliseconds=(index + 1) * STEP_MS))
        for header, steps in created:
            finish = {
                "status": "completed",
                "completedAt": ended,
                "durationMs": STEP_MS,
                "output": dumps({}),
                "updatedAt": ended,
            }
            _advance(store, header, steps[index], finish)
    return [header["id"] for header, _ in created]


@contextmanager
def moto_table() -> Iterator[None]:
    """A fresh mocked account with the table (streams on) and the handlers' settings pointed at it."""
    from execution_monitor import store as store_module
    from execution_monitor.aws import reset_clients
    from execution_monitor.settings import get_settings

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
        get_settings.cache_clear()
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
    from tests.helpers import LambdaContext
    from update_progress.handler import lambda_handler

    logger.setLevel("WARNING")  # the handler logs one line per batch
    with moto_table():
        seed_executions(default_store())
        records = stream_records()
        counter = HeaderWriteCounter(client("dynamodb"))
        started = time.perf_counter()
        failures = 0
        for start in range(0, len(records), batch_size):
            response = lambda_handler({"Records": records[start : start + batch_size]}, LambdaContext())
            failures += len(response["batchItemFailures"])
        seconds = time.perf_counter() - started
    return {
        "bench": "update_progress",
        "records": len(records),
        "executions": EXECUTIONS,
        "batch size": batch_size,
        "invocations": -(-len(records) // batch_size),
        "seconds": round(seconds, 3),
        "records/s": round(len(records) / seconds),
        "aggregate writes": counter.count,
        "failed records": failures,
    }


def run_progress_bench() -> list[dict[str, Any]]:
    """1,000 stream records over 50 executions: one batch of 1,000, then batches of 100."""
    return [_one_case(1000), _one_case(100)]
