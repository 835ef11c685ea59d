"""`make soak`: a fresh local runtime (what `make dev` runs) under N concurrent clients.

    python -m tests.bench.soak [--executions 2000] [--clients 8] [--steps 5]

Starts `python -m infrastructure.local` in a subprocess, then each client takes executions in turn
and drives one of three plans: watch it over SSE until `end`; poll it with If-None-Match (304s);
or cancel it while its long step runs and retry-step the interrupted step. Every execution must end
`completed`. Reported: 5xx answers, unexpected statuses, executions stuck (not finished in time),
false failures (failed with every step completed, or failed 'Abandoned' though nothing cancelled
it), lost or duplicated step results (a step missing, repeated, not completed, or an attempt listed
twice), the runtime's RSS over time, per-step time early vs late, p50/p95 latencies per request
kind, and how long the runtime takes to exit after SIGTERM. Exits 1 when a target is missed:
every count zero; and, with --targets (the default for the full soak), RSS <= 600 MB at the end,
late per-step time within 1.5x of early (+ 50 ms), exit <= 5 s after SIGTERM.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infrastructure.local import tokens
from tests.bench.__main__ import format_table

REPO_ROOT = Path(__file__).resolve().parents[2]
IMPORT_ROOTS = [REPO_ROOT / "layers" / "common" / "python", REPO_ROOT / "functions", REPO_ROOT]
STARTUP_SECONDS = 90.0
FINISH_SECONDS = 120.0  # an execution not finished this long after its last command is stuck
HOLD_SECONDS = 2  # the long step the cancel plan interrupts
RSS_LIMIT_MB = 600.0
SIGTERM_LIMIT_SECONDS = 5.0
TERMINAL = frozenset({"completed", "failed", "cancelled"})
PLANS = ("sse", "poll", "cancel_retry_step", "poll")


# -- the runtime under test ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Runtime:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB)
    exit_seconds: float | None = None
    exit_code: int | None = None

    def sample(self, started: float) -> None:
        self.rss.append((time.monotonic() - started, rss_mb(self.process.pid)))

    def terminate(self, timeout: float = 30.0) -> None:
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.process.wait(timeout=timeout)
            self.exit_seconds = time.monotonic() - sent
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def local_runtime() -> Iterator[Runtime]:
    """`python -m infrastructure.local` on a free port, healthy; SIGTERM (timed) when done."""
    port = _free_port()
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "runtime.log"
    python_path = os.pathsep.join([*map(str, IMPORT_ROOTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": python_path.rstrip(os.pathsep)}
    with log.open("wb") as output:  # a file, not a pipe: nobody reads a pipe while the soak runs
        process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.local"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=output,
        )
    runtime = Runtime(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(runtime):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local runtime did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield runtime
    finally:
        if process.poll() is None:
            runtime.terminate()


def _healthy(runtime: Runtime) -> bool:
    try:
        return httpx.get(f"{runtime.url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


# -- the clients -----------------------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    per_step_ms: list[tuple[int, float]] = field(default_factory=list)  # (execution number, ms)
    outcomes: Counter[str] = field(default_factory=Counter)

    def request(self, kind: str, seconds: float, status: int, expected: tuple[int, ...]) -> None:
        with self.lock:
            self.latencies[kind].append(seconds * 1000)
            if status >= 500:
                self.server_errors[kind] += 1
            elif status not in expected:
                self.unexpected[f"{kind} {status}"] += 1

    def problem(self, name: str, detail: str) -> None:
        with self.lock:
            self.problems[name] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{name}: {detail}")


class Client:
    def __init__(self, url: str, workspace: str, token: str, tally: Tally) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        self.base = f"/api/workspaces/{workspace}/workflows"
        self.token = token
        self.tally = tally

    def call(self, kind: str, method: str, path: str, *expected: int, **options: Any) -> httpx.Response:
        started = time.monotonic()
        response = self.http.request(method, path, **options)
        self.tally.request(kind, time.monotonic() - started, response.status_code, expected)
        return response

    def run(self, number: int, workflow: str, plan: str) -> None:
        created = self.call("create", "POST", f"{self.base}/{workflow}/executions", 202, json={"input": {}})
        if created.status_code != 202:
            return
        path = f"{self.base}/{workflow}/executions/{created.json()['execution']['id']}"
        cancelled = False
        if plan == "sse":
            self.watch_stream(path)
        elif plan == "cancel_retry_step":
            cancelled = self.cancel_then_retry_step(path)
        execution = self.poll_until_finished(path)
        if execution is not None:
            self.check(number, path, execution, cancelled)

    def watch_stream(self, path: str) -> None:
        started = time.monotonic()
        with self.http.stream("GET", f"{path}/stream", timeout=FINISH_SECONDS) as response:
            self.tally.request("stream (open)", time.monotonic() - started, response.status_code, (200,))
            if response.status_code != 200:
                return
            for line in response.iter_lines():
                if line == "event: end":
                    return

    def poll_until_finished(self, path: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + FINISH_SECONDS
        etag: str | None = None
        execution: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            headers = {"If-None-Match": etag} if etag else {}
            response = self.call("get", "GET", path, 200, 304, headers=headers)
            if response.status_code == 200:
                etag = response.headers.get("ETag")
                execution = response.json()["execution"]
                if execution["status"] in TERMINAL:
                    return execution
            time.sleep(0.2)
        status = None if execution is None else execution["status"]
        self.tally.problem("stuck", f"{path} still {status} after {FINISH_SECONDS:.0f}s")
        return None

    def cancel_then_retry_step(self, path: str) -> bool:
        """Cancels while the long step runs, then retries the interrupted step; True if it cancelled."""
        deadline = time.monotonic() + FINISH_SECONDS
        while time.monotonic() < deadline:
            execution = self.call("get", "GET", path, 200).json()["execution"]
            running = [step for step in execution["actionResults"] if step["status"] == "running"]
            if execution["status"] in TERMINAL:
                return False
            if running and running[0]["actionId"] == "hold":
                break
            time.sleep(0.05)
        cancel = self.call("cancel", "POST", f"{path}/cancel", 200, 409)
        if cancel.status_code != 200 or cancel.json()["execution"]["status"] != "cancelled":
            return False
        steps = cancel.json()["execution"]["actionResults"]
        interrupted = next(step["actionId"] for step in steps if step["status"] != "completed")
        self.call("retry-step", "POST", f"{path}/retry-step", 202, json={"actionId": interrupted})
        return True

    def check(self, number: int, path: str, execution: dict[str, Any], cancelled: bool) -> None:
        steps = execution["actionResults"]
        self.tally.outcomes[execution["status"]] += 1
        all_completed = all(step["status"] == "completed" for step in steps)
        if execution["status"] == "failed":
            abandoned = "Abandoned" in (execution.get("error") or "")
            if all_completed:
                self.tally.problem("false failure", f"{path} failed with every step completed")
            elif abandoned and not cancelled:
                self.tally.problem("false failure", f"{path} {execution['error']} without a cancel")
            else:
                self.tally.problem("failed", f"{path}: {execution.get('error')}")
        elif execution["status"] != "completed":
            self.tally.problem("not completed", f"{path} ended {execution['status']}")
        ids = [step["actionId"] for step in steps]
        if len(ids) != execution["progress"]["totalSteps"] or len(set(ids)) != len(ids):
            self.tally.problem("lost/duplicated step", f"{path}: {ids}")
        for step in steps:
            attempts = [entry["attempt"] for entry in step.get("history", [])] + [step["attempt"]]
            if len(set(attempts)) != len(attempts):
                self.tally.problem("lost/duplicated step", f"{path} {step['actionId']} attempts {attempts}")
        if execution["status"] == "completed" and not all_completed:
            self.tally.problem("lost/duplicated step", f"{path} completed with steps {steps}")
        if execution["status"] == "completed" and not cancelled and execution.get("duration") is not None:
            with self.tally.lock:
                self.tally.per_step_ms.append((number, execution["duration"] / len(steps)))

    def close(self) -> None:
        self.http.close()


# -- the soak --------------------------------------------------------------------------------------


@dataclass
class Report:
    executions: int
    clients: int
    seconds: float
    tally: Tally
    rss: list[tuple[float, float]]
    exit_seconds: float | None
    exit_code: int | None

    def zero_counts(self) -> dict[str, int]:
        return {
            "5xx": sum(self.tally.server_errors.values()),
            "unexpected status": sum(self.tally.unexpected.values()),
            "stuck": self.tally.problems["stuck"],
            "false failures": self.tally.problems["false failure"],
            "other failures": self.tally.problems["failed"] + self.tally.problems["not completed"],
            "lost/duplicated step results": self.tally.problems["lost/duplicated step"],
            "runtime exit code": self.exit_code or 0,
        }

    def per_step(self) -> tuple[float, float]:
        """Median per-step time (ms) of the first and the last tenth of the executions."""
        ordered = [ms for _, ms in sorted(self.tally.per_step_ms)]
        tenth = max(1, len(ordered) // 10)
        if not ordered:
            return 0.0, 0.0
        return statistics.median(ordered[:tenth]), statistics.median(ordered[-tenth:])

    def missed_targets(self, targets: bool) -> list[str]:
        missed = [f"{name} = {count}" for name, count in self.zero_counts().items() if count]
        if targets:
            rss_end = self.rss[-1][1] if self.rss else 0.0
            early, late = self.per_step()
            if rss_end > RSS_LIMIT_MB:
                missed.append(f"RSS {rss_end:.0f} MB > {RSS_LIMIT_MB:.0f} MB")
            if late > early * 1.5 + 50:
                missed.append(f"per-step time grew from {early:.0f} ms to {late:.0f} ms")
            if self.exit_seconds is None or self.exit_seconds > SIGTERM_LIMIT_SECONDS:
                missed.append(f"exit after SIGTERM took {self.exit_seconds} s")
        return missed

    def tables(self) -> str:
        early, late = self.per_step()
        summary: list[dict[str, Any]] = [
            {"figure": "executions", "value": self.executions},
            {"figure": "clients", "value": self.clients},
            {"figure": "wall time (s)", "value": f"{self.seconds:.0f}"},
            *({"figure": name, "value": count} for name, count in self.zero_counts().items()),
            {"figure": "outcomes", "value": dict(self.tally.outcomes)},
            {"figure": "per-step ms, first tenth (median)", "value": f"{early:.0f}"},
            {"figure": "per-step ms, last tenth (median)", "value": f"{late:.0f}"},
            {"figure": "exit after SIGTERM (s)", "value": _seconds(self.exit_seconds)},
        ]
        latencies = [
            {
                "request": kind,
                "count": len(values),
                "p50 ms": f"{statistics.median(values):.0f}",
                "p95 ms": f"{_percentile(values, 95):.0f}",
                "5xx": self.tally.server_errors[kind],
            }
            for kind, values in sorted(self.tally.latencies.items())
        ]
        step = max(1, len(self.rss) // 12)
        rss = [{"t (s)": f"{t:.0f}", "RSS MB": f"{mb:.0f}"} for t, mb in [*self.rss[::step], self.rss[-1]]]
        parts = [format_table(summary), format_table(latencies), format_table(rss) if self.rss else ""]
        if self.tally.unexpected:
            parts.append(f"unexpected statuses: {dict(self.tally.unexpected)}")
        parts.extend(self.tally.examples)
        return "\n\n".join(part for part in parts if part)


def _seconds(value: float | None) -> str:
    return "did not exit" if value is None else f"{value:.1f}"


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(len(ordered) * percent / 100))]


def workflow(steps: int, *, hold: bool) -> dict[str, Any]:
    actions = [{"id": f"s{index}", "type": "delay", "params": {"seconds": 0}} for index in range(steps)]
    if hold:  # the cancel plan interrupts this one
        actions[1] = {"id": "hold", "type": "delay", "params": {"seconds": HOLD_SECONDS}}
    return {"name": "soak", "actions": actions}


def soak(executions: int, clients: int, steps: int = 5) -> Report:
    with local_runtime() as runtime:
        started = time.monotonic()
        runtime.sample(started)
        workspace = f"soak_{uuid.uuid4().hex[:8]}"
        token = tokens.mint_token([workspace])
        tally = Tally()
        setup = Client(runtime.url, workspace, token, tally)
        for name, hold in (("steady", False), ("holding", True)):
            setup.call(
                "put workflow", "PUT", f"{setup.base}/{name}", 200, 201, json=workflow(steps, hold=hold)
            )
        setup.close()
        numbers = itertools.count()
        done = threading.Event()

        def client_loop() -> None:
            client = Client(runtime.url, workspace, token, tally)
            try:
                while (number := next(numbers)) < executions:
                    plan = PLANS[number % len(PLANS)]
                    name = "holding" if plan == "cancel_retry_step" else "steady"
                    try:
                        client.run(number, name, plan)
                    except httpx.HTTPError as error:
                        tally.problem("stuck", f"execution {number}: {type(error).__name__} {error}")
            finally:
                client.close()

        def sample_rss() -> None:
            while not done.wait(2.0):
                runtime.sample(started)

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=client_loop) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done.set()
        sampler.join()
        runtime.sample(started)
        seconds = time.monotonic() - started
        runtime.terminate()
        return Report(
            executions, clients, seconds, tally, runtime.rss, runtime.exit_seconds, runtime.exit_code
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--no-targets", dest="targets", action="store_false", help="check only the zero counts"
    )
    options = parser.parse_args(argv)
    report = soak(options.executions, options.clients, options.steps)
    print(report.tables())
    missed = report.missed_targets(options.targets)
    for target in missed:
        print(f"MISSED: {target}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
