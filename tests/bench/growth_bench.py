"""What a step costs as workflows grow, on the whole local system (`make dev`'s runtime, in-process):
DynamoDB items read and written, and Step Functions state transitions, per step transition; wall
time per step; and the GET of a big execution (time, bytes, gzip bytes, DynamoDB requests).

Counting hooks sit on the one cached DynamoDB client every in-process function uses (API handlers,
run_action, the reconciler, process_stream); the bench's own waiting uses separate clients, so it
is not counted. A "step transition" is one step's pending → running → completed.
"""

from __future__ import annotations

import gzip
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import uvicorn

SIZES = tuple(int(size) for size in os.environ.get("GROWTH_BENCH_SIZES", "10,20,100,200,1000").split(","))
WORKSPACE = "bench"
RUN_TIMEOUT_SECONDS = 1800
# DynamoDB operations and how many items each reads or writes.
_WRITES_PER_REQUEST = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class DynamoCounter:
    """Items read and written and requests made through one boto3 DynamoDB client."""

    reads: int = 0
    writes: int = 0
    requests: int = 0
    queries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def reset(self) -> None:
        with self.lock:
            self.reads = self.writes = self.requests = self.queries = 0

    def snapshot(self) -> tuple[int, int, int, int]:
        with self.lock:
            return self.reads, self.writes, self.requests, self.queries

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name in _WRITES_PER_REQUEST:
            written = 1
        elif name == "TransactWriteItems":
            written = len(params.get("TransactItems", []))
        elif name == "BatchWriteItem":
            written = sum(len(requests) for requests in params.get("RequestItems", {}).values())
        else:
            written = 0
        with self.lock:
            self.writes += written
            self.requests += 1

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "GetItem":
            read = 1
        elif name in ("Query", "Scan"):
            read = max(1, len(parsed.get("Items", [])))  # an empty page still costs a read
        elif name == "BatchGetItem":
            read = sum(len(found) for found in parsed.get("Responses", {}).values())
        elif name == "TransactGetItems":
            read = len(parsed.get("Responses", []))
        else:
            read = 0
        with self.lock:
            self.reads += read
            self.queries += name == "Query"


@contextmanager
def local_system() -> Iterator[tuple[str, DynamoCounter]]:
    """The local runtime and its gateway in this process; yields the base URL and the counter."""
    from execution_monitor import aws
    from infrastructure.local.gateway import Gateway
    from infrastructure.local.runtime import LocalRuntime
    from infrastructure.local.static import StaticSite

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the table, not every handler's log line
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    runtime = LocalRuntime(gateway_url=base_url)
    runtime.start()
    counter = DynamoCounter()
    counter.attach(aws.client("dynamodb"))
    server = uvicorn.Server(
        uvicorn.Config(
            Gateway(is_ready=runtime.is_ready, site=StaticSite()), log_level="error", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield base_url, counter
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        runtime.stop()


def _workflow(steps: int) -> dict[str, Any]:
    actions = [{"id": f"s{index}", "type": "delay", "params": {"seconds": 0}} for index in range(steps)]
    return {"name": f"{steps} delays", "actions": actions}


def _wait_until_settled(store: Any, execution_id: str, counter: DynamoCounter) -> float:
    """Waits for the execution to end and for the stream consumer to go quiet; returns when it ended."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while (header := store.get_header(WORKSPACE, execution_id)) is None or not header.status.is_terminal:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_id} did not finish within {RUN_TIMEOUT_SECONDS}s")
        time.sleep(0.05)
    ended = time.monotonic()
    quiet, last = 0, counter.snapshot()
    while quiet < 3:  # three quiet seconds: the stream consumer has caught up
        time.sleep(1)
        now = counter.snapshot()
        quiet = quiet + 1 if now == last else 0
        last = now
    return ended


def _run(http: httpx.Client, counter: DynamoCounter, steps: int) -> dict[str, Any]:
    from execution_monitor.store.dynamodb import DynamoStore

    watcher = DynamoStore(boto3.client("dynamodb"), os.environ["TABLE_NAME"]).executions
    machine = os.environ["STATE_MACHINE_ARN"]
    sfn = boto3.client("stepfunctions")
    path = f"/api/workspaces/{WORKSPACE}/workflows/grow{steps}"
    http.put(path, json=_workflow(steps)).raise_for_status()
    counter.reset()
    started = time.monotonic()
    execution_id = http.post(f"{path}/executions", json={}).json()["execution"]["id"]
    ended = _wait_until_settled(watcher, execution_id, counter)
    reads, writes, requests, _ = counter.snapshot()
    url = f"{path}/executions/{execution_id}"
    runs = [run["runId"] for run in http.get(url).json()["execution"]["runs"]]
    run_arn = machine.replace(":stateMachine:", ":execution:")
    entered = sum(
        event["type"].endswith("StateEntered")
        for run_id in runs
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=f"{run_arn}:{run_id}")
        for event in page["events"]
    )
    row = {
        "steps": steps,
        "wall ms/step": round((ended - started) * 1000 / steps),
        "items read/step": round(reads / steps, 2),
        "items written/step": round(writes / steps, 2),
        "DynamoDB requests/step": round(requests / steps, 2),
        "SFN transitions/step": round(entered / steps, 2),
    }
    row.update(_get_big(http, counter, url))
    return row


def _get_big(http: httpx.Client, counter: DynamoCounter, url: str) -> dict[str, Any]:
    """The GET of the finished execution: best of 3, its size, and what it asked DynamoDB."""
    timings = []
    for _ in range(3):
        counter.reset()
        began = time.perf_counter()
        response = http.get(url)
        timings.append(time.perf_counter() - began)
    body = response.content
    _, _, requests, queries = counter.snapshot()
    return {
        "GET ms": round(min(timings) * 1000),
        "GET KB": round(len(body) / 1024, 1),
        "GET KB gzip": round(len(gzip.compress(body)) / 1024, 1),
        "GET DynamoDB requests": requests,
        "GET Query pages": queries,
    }


def growth_rows(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    from infrastructure.local import tokens

    with local_system() as (base_url, counter):
        headers = {"Authorization": f"Bearer {tokens.mint_token([WORKSPACE])}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            return [_run(http, counter, steps) for steps in sizes]
