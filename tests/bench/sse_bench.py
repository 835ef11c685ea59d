"""SSE benchmarks, measured (not computed) on in-process moto with the real app under uvicorn.

`sse_latency_rows()`: time from a step's DynamoDB write (the moment the write returned) to the
moment a client sees that version, p50/p95 over >= 100 writes, for (1) an SSE client of this app
with its production poll settings and (2) a client polling GET every 2 s (the monitor's default
fallback; it calls the get_execution Lambda handler in-process, so it pays no HTTP hop the SSE
client pays). Writes follow each other after random gaps of 0.3-3 s, so both the fast-poll and the
backed-off regime of the stream are in the sample.

`sse_reads_rows()`: DynamoDB requests (and items returned) per connected client per minute,
idle (an execution waiting, after the stream backed off) and running (a step change every ~0.75 s),
for the SSE client and the 2 s GET poller, counted with botocore hooks on the shared client.

Each function starts its own moto and server and returns table rows (dicts with the same keys).
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import uvicorn
from httpx_sse import connect_sse

STEPS = 10
POLL_EVERY_SECONDS = 2.0
FAKE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_NAME": "sse-bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_SERVICE_NAME": "sse-bench",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
MEMBER_CONTEXT = '{"authorizer": {"sub": "bench", "workspaces": "bench"}}'
WORKSPACE, WORKFLOW = "bench", "wf_bench"


def _reset_caches() -> None:
    from execution_monitor import store
    from execution_monitor.aws import reset_clients
    from execution_monitor.settings import reset_settings

    reset_settings()
    reset_clients()
    store.default_store.cache_clear()


@contextmanager
def _moto_and_app() -> Iterator[str]:
    """In-process moto with the table, and the stream app on a free port; yields its base URL."""
    from moto import mock_aws

    from infrastructure.table import create_table_request

    saved = {name: os.environ.get(name) for name in [*FAKE_ENVIRONMENT, "AWS_ENDPOINT_URL"]}
    os.environ.update(FAKE_ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    _reset_caches()
    from stream_execution.app import create_app  # validates its settings when imported

    try:
        with mock_aws():
            boto3.client("dynamodb").create_table(**create_table_request(FAKE_ENVIRONMENT["TABLE_NAME"]))
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = uvicorn.Server(
                uvicorn.Config(create_app(), log_level="error", lifespan="off", timeout_graceful_shutdown=1)
            )
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
                thread.join(timeout=5)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_caches()


@dataclass
class _Execution:
    """One execution the bench drives step by step through its own client (not the counted one)."""

    store: Any
    id: str
    workflow: str = WORKFLOW
    written: list[tuple[int, float]] = field(default_factory=list)  # (version after, monotonic time)
    completions: list[tuple[int, float]] = field(default_factory=list)  # the writes that complete a step

    @classmethod
    def create(cls, steps: int = STEPS, seconds: list[int] | None = None) -> _Execution:
        """An execution of delay steps (1 s each, or `seconds[i]`: what each step is expected to take)."""
        from execution_monitor.store.dynamodb import DynamoStore
        from tests.helpers import put_workflow, start

        store = DynamoStore(boto3.client("dynamodb"), FAKE_ENVIRONMENT["TABLE_NAME"])
        durations = seconds or [1] * steps
        actions = [
            {"id": f"step{i}", "type": "delay", "params": {"seconds": d}} for i, d in enumerate(durations)
        ]
        workflow = put_workflow(store, WORKSPACE, f"{WORKFLOW}_{len(durations)}_{sum(durations)}", actions)
        return cls(store, start(store, workflow).id, workflow=workflow.id)

    def transitions(self) -> Iterator[None]:
        """Each step begins then completes, then the execution completes: one version per write."""
        from execution_monitor import clock
        from execution_monitor.domain import transitions
        from execution_monitor.domain.status import ExecutionStatus
        from tests.helpers import begin_step, complete_step

        execution = self.store.executions.get_header(WORKSPACE, self.id)
        for index in range(execution.total_steps):
            begin_step(self.store, WORKSPACE, self.id, index)
            self._wrote()
            yield
            complete_step(self.store, WORKSPACE, self.id, index)
            self._wrote()
            self.completions.append(self.written[-1])
            yield
        execution = self.store.executions.get_header(WORKSPACE, self.id)
        ended = transitions.end_execution(execution, ExecutionStatus.COMPLETED, clock.now())
        assert self.store.executions.end_execution(ended)
        self._wrote()
        yield

    def _wrote(self) -> None:
        probe = self.store.executions.probe(WORKSPACE, self.id)
        self.written.append((probe.version, time.monotonic()))

    def stream_url(self, base: str) -> str:
        return f"{base}/api/workspaces/{WORKSPACE}/workflows/{self.workflow}/executions/{self.id}/stream"


def _watch_sse(url: str, seen: list[tuple[int, float]], stop: threading.Event) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=30)) as client,
        connect_sse(client, "GET", url, headers={"x-amzn-request-context": MEMBER_CONTEXT}) as source,
    ):
        for event in source.iter_sse():
            if event.id:
                seen.append((int(event.id), time.monotonic()))
            if event.event == "end" or stop.is_set():
                return


def _poll_get(execution_id: str, seen: list[tuple[int, float]], stop: threading.Event, phase: float) -> None:
    """The monitor's fallback: GET every 2 s with If-None-Match, through the real handler."""
    from get_execution import handler
    from tests.helpers import api_event, call

    path = f"/api/workspaces/{WORKSPACE}/workflows/{WORKFLOW}/executions/{execution_id}"
    etag = None
    next_poll = time.monotonic() + phase
    while not stop.wait(max(0.0, next_poll - time.monotonic())):
        next_poll += POLL_EVERY_SECONDS
        event = api_event(
            "GET", path, workspaces=(WORKSPACE,), headers={"If-None-Match": etag} if etag else {}
        )
        status, headers, _ = call(handler, event)
        received = time.monotonic()
        if status == 200:
            etag = headers["etag"]
            seen.append((int(etag.strip('"')), received))


def _latencies(written: list[tuple[int, float]], seen: list[tuple[int, float]]) -> list[float]:
    """For each write: the first time a client held that version or a newer one, minus the write time."""
    arrivals = sorted(seen, key=lambda item: item[1])
    out = []
    for version, at in written:
        arrival = next((moment for got, moment in arrivals if got >= version), None)
        if arrival is not None:
            out.append(max(0.0, arrival - at) * 1000)
    return out


def _percentiles(name: str, values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")
    return {
        "bench": "write -> client sees it",
        "client": name,
        "samples": len(values),
        "p50_ms": round(statistics.median(ordered), 1) if ordered else float("nan"),
        "p95_ms": round(p95, 1),
        "max_ms": round(ordered[-1], 1) if ordered else float("nan"),
    }


def sse_latency_rows(
    executions: int = 6, gap_seconds: tuple[float, float] = (0.3, 3.0), seed: int = 7
) -> list[dict[str, Any]]:
    """Write-to-client latency, SSE vs GET every 2 s, over executions x (2 x STEPS + 1) writes."""
    randomizer = random.Random(seed)
    with _moto_and_app() as base:
        runs = [_Execution.create() for _ in range(executions)]
        sse_seen: list[list[tuple[int, float]]] = [[] for _ in runs]
        get_seen: list[list[tuple[int, float]]] = [[] for _ in runs]
        stop = threading.Event()
        threads = [
            threading.Thread(target=_watch_sse, args=(run.stream_url(base), sse_seen[i], stop), daemon=True)
            for i, run in enumerate(runs)
        ] + [
            threading.Thread(
                target=_poll_get,
                args=(run.id, get_seen[i], stop, randomizer.uniform(0, POLL_EVERY_SECONDS)),
                daemon=True,
            )
            for i, run in enumerate(runs)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every client connected and past its opening read
        writers = [
            threading.Thread(target=_drive, args=(run, randomizer.random(), gap_seconds)) for run in runs
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        time.sleep(POLL_EVERY_SECONDS + 0.5)  # the last write reaches every poller
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    sse = [value for run, seen in zip(runs, sse_seen, strict=True) for value in _latencies(run.written, seen)]
    get = [value for run, seen in zip(runs, get_seen, strict=True) for value in _latencies(run.written, seen)]
    return [_percentiles("SSE (poll 0.25 s, backs off to 2 s)", sse), _percentiles("GET every 2 s", get)]


def _drive(run: _Execution, seed: float, gap_seconds: tuple[float, float]) -> None:
    randomizer = random.Random(seed)
    for _ in run.transitions():
        time.sleep(randomizer.uniform(*gap_seconds))


class _ReadCounter:
    """DynamoDB requests and returned items per thread kind, from hooks on the shared client."""

    def __init__(self, client: Any) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.items: Counter[str] = Counter()
        self.active = False
        client.meta.events.register("after-call.dynamodb", self._record)

    def _record(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if not self.active:
            return
        who = "GET every 2 s" if threading.current_thread().name == "get-poller" else "SSE"
        self.requests[(who, model.name)] += 1
        self.items[who] += parsed.get("Count", 1 if "Item" in parsed else 0)


def _per_minute(counter: _ReadCounter, who: str, state: str, seconds: float) -> dict[str, Any]:
    scale = 60 / seconds
    get_items = counter.requests[(who, "GetItem")]
    queries = counter.requests[(who, "Query")]
    return {
        "bench": "DynamoDB reads per client per minute",
        "client": who,
        "state": state,
        "requests": round((get_items + queries) * scale),
        "get_item": round(get_items * scale),
        "query": round(queries * scale),
        "items": round(counter.items[who] * scale),
    }


def sse_reads_rows(idle_seconds: float = 15.0, running_seconds: float = 15.0) -> list[dict[str, Any]]:
    """Reads of one SSE client and one GET poller on the same execution (STEPS steps), idle then running."""
    from execution_monitor.aws import client

    rows = []
    with _moto_and_app() as base:
        counter = _ReadCounter(client("dynamodb"))
        run = _Execution.create()
        stop = threading.Event()
        sse_seen: list[tuple[int, float]] = []
        get_seen: list[tuple[int, float]] = []
        threads = [
            threading.Thread(target=_watch_sse, args=(run.stream_url(base), sse_seen, stop), daemon=True),
            threading.Thread(
                target=_poll_get, args=(run.id, get_seen, stop, 0.0), name="get-poller", daemon=True
            ),
        ]
        for thread in threads:
            thread.start()
        time.sleep(5.0)  # past the stream's fast window: its steady idle state
        counter.active = True
        time.sleep(idle_seconds)
        counter.active = False
        rows += [_per_minute(counter, who, "idle", idle_seconds) for who in ("SSE", "GET every 2 s")]
        counter.requests.clear()
        counter.items.clear()
        transitions = run.transitions()
        counter.active = True
        started = time.monotonic()
        for _ in transitions:
            time.sleep(0.75)
            if time.monotonic() - started >= running_seconds:
                break
        elapsed = time.monotonic() - started
        counter.active = False
        rows += [
            _per_minute(counter, who, f"running (a change every ~0.75 s, {STEPS} steps)", elapsed)
            for who in ("SSE", "GET every 2 s")
        ]
        stop.set()
        for _ in transitions:  # finish the run so the stream ends with `end`
            pass
        for thread in threads:
            thread.join(timeout=10)
    return rows


def sse_predicted_rows(executions: int = 4, steps: int = 8, seed: int = 11) -> list[dict[str, Any]]:
    """Steps whose duration is known in advance (delays of 1-4 s; in production, the workflow's step
    statistics) and whose real duration varies by +-10 %: completion-to-client latency of SSE, and
    its DynamoDB reads per client per second over the whole run."""
    from execution_monitor.aws import client

    randomizer = random.Random(seed)
    with _moto_and_app() as base:
        counter = _ReadCounter(client("dynamodb"))
        plans = [[randomizer.randint(1, 4) for _ in range(steps)] for _ in range(executions)]
        runs = [_Execution.create(seconds=plan) for plan in plans]
        seen: list[list[tuple[int, float]]] = [[] for _ in runs]
        stop = threading.Event()
        watchers = [
            threading.Thread(target=_watch_sse, args=(run.stream_url(base), seen[i], stop), daemon=True)
            for i, run in enumerate(runs)
        ]
        for watcher in watchers:
            watcher.start()
        # Drive at once: a run's first step is due from its start, as in the engine.
        counter.active = True
        started = time.monotonic()

        def drive(run: _Execution, seconds: list[int], jitter: random.Random) -> None:
            for number, _ in enumerate(run.transitions()):
                step = number // 2
                running = number % 2 == 0 and step < len(seconds)
                time.sleep(seconds[step] * jitter.uniform(0.9, 1.1) if running else 0.05)

        writers = [
            threading.Thread(target=drive, args=(run, plan, random.Random(randomizer.random())))
            for run, plan in zip(runs, plans, strict=True)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        for watcher in watchers:
            watcher.join(timeout=10)
        elapsed = time.monotonic() - started
        counter.active = False
        stop.set()
    latencies = [
        value for run, got in zip(runs, seen, strict=True) for value in _latencies(run.completions, got)
    ]
    reads = sum(counter.requests.values()) / executions / elapsed
    return [{**_percentiles("SSE, predicted completions", latencies), "reads/s per client": round(reads, 2)}]


def bench_rows() -> list[dict[str, Any]]:
    return sse_latency_rows() + sse_reads_rows() + sse_predicted_rows()


if __name__ == "__main__":
    for row in bench_rows():
        print(row)
