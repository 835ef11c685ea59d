"""Opt-in SSE soak: N concurrent clients on one running execution for a bounded time.

    python -m tests.bench.sse_soak --url http://127.0.0.1:8080 --token "$(make -s token WORKSPACE=demo)" \
        --workspace demo [--clients 200] [--seconds 60] [--workflow WF --execution EXEC]

Without --execution it PUTs a workflow whose only step waits longer than the soak, starts it, and
cancels it at the end, so the stream stays idle: what flows is the heartbeat. Half of the clients
authenticate with the Authorization header, half with ?access_token= (as EventSource must).
Reports per-client heartbeats, the longest silence, errors and early closes; exits 1 on any error,
any client without a heartbeat, or a silence longer than the heartbeat contract (15 s) allows.
Not part of the test suite: it needs a running system (`make dev`) and takes `--seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

HEARTBEAT_CONTRACT_SECONDS = 15.0
SILENCE_SLACK_SECONDS = 3.0  # scheduling and poll jitter on a loaded machine


@dataclass
class ClientResult:
    status: int | None = None
    heartbeats: int = 0
    events: dict[str, int] = field(default_factory=dict)
    longest_silence: float = 0.0
    error: str | None = None
    closed_early: bool = False


async def _client(
    http: httpx.AsyncClient, url: str, token: str, use_query: bool, stop_at: float, result: ClientResult
) -> None:
    params = {"access_token": token} if use_query else None
    headers = {"Accept": "text/event-stream", **({} if use_query else {"Authorization": f"Bearer {token}"})}
    try:
        async with http.stream("GET", url, params=params, headers=headers) as response:
            result.status = response.status_code
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}: {(await response.aread())[:200]!r}"
                return
            last = time.monotonic()
            lines = response.aiter_lines()
            while True:
                remaining = stop_at - time.monotonic()
                if remaining <= 0:
                    return
                try:
                    line = await asyncio.wait_for(anext(lines), timeout=remaining)
                except TimeoutError:
                    return  # the soak is over; this client was fine until now
                except StopAsyncIteration:
                    result.closed_early = True
                    return
                now = time.monotonic()
                if line:
                    result.longest_silence = max(result.longest_silence, now - last)
                    last = now
                if line == ": keep-alive":
                    result.heartbeats += 1
                elif line.startswith("event: "):
                    name = line.removeprefix("event: ")
                    result.events[name] = result.events.get(name, 0) + 1
    except httpx.HTTPError as error:
        result.error = f"{type(error).__name__}: {error}"


async def _prepare(
    http: httpx.AsyncClient, auth: dict[str, str], workspace: str, seconds: float
) -> tuple[str, str]:
    workflow = f"wf_soak_{uuid.uuid4().hex[:8]}"
    base = f"/api/workspaces/{workspace}/workflows/{workflow}"
    definition = {
        "name": "SSE soak: one long wait",
        "actions": [{"id": "wait", "type": "delay", "params": {"seconds": int(seconds) + 120}}],
    }
    (await http.put(base, json=definition, headers=auth)).raise_for_status()
    started = await http.post(f"{base}/executions", json={"input": {}}, headers=auth)
    started.raise_for_status()
    return workflow, str(started.json()["execution"]["id"])


async def soak(
    url: str,
    token: str,
    workspace: str,
    *,
    clients: int = 200,
    seconds: float = 60.0,
    workflow: str | None = None,
    execution: str | None = None,
) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=10)
    timeout = httpx.Timeout(30.0, read=HEARTBEAT_CONTRACT_SECONDS + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
        created = execution is None
        if execution is None:
            workflow, execution = await _prepare(http, auth, workspace, seconds)
        path = f"/api/workspaces/{workspace}/workflows/{workflow}/executions/{execution}/stream"
        results = [ClientResult() for _ in range(clients)]
        started = time.monotonic()
        stop_at = started + seconds
        tasks = [
            asyncio.create_task(_client(http, path, token, index % 2 == 1, stop_at, results[index]))
            for index in range(clients)
        ]
        # Bounded whatever happens: a client that hangs is cancelled and counted as an error.
        _, pending = await asyncio.wait(tasks, timeout=seconds + 30)
        for task in pending:
            task.cancel()
        for index, task in enumerate(tasks):
            if task in pending:
                results[index].error = "did not finish in time"
        elapsed = time.monotonic() - started
        if created:
            await http.post(
                f"/api/workspaces/{workspace}/workflows/{workflow}/executions/{execution}/cancel",
                headers=auth,
            )
    return summarize(results, elapsed, seconds)


def summarize(results: list[ClientResult], elapsed: float, seconds: float) -> dict[str, Any]:
    heartbeats = [result.heartbeats for result in results]
    silences = [result.longest_silence for result in results]
    errors = [result.error for result in results if result.error]
    return {
        "bench": "SSE soak",
        "clients": len(results),
        "seconds": round(elapsed, 1),
        "connected": sum(1 for result in results if result.status == 200),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "closed_early": sum(1 for result in results if result.closed_early),
        "snapshots": sum(result.events.get("snapshot", 0) for result in results),
        "heartbeats_min": min(heartbeats, default=0),
        "heartbeats_median": statistics.median(heartbeats) if heartbeats else 0,
        "heartbeats_total": sum(heartbeats),
        "longest_silence_s": round(max(silences, default=0.0), 2),
        "ok": not errors
        and all(result.status == 200 for result in results)
        and (seconds < HEARTBEAT_CONTRACT_SECONDS or min(heartbeats, default=0) > 0)
        and max(silences, default=0.0) <= HEARTBEAT_CONTRACT_SECONDS + SILENCE_SLACK_SECONDS,
    }


def soak_rows(url: str, token: str, workspace: str, **options: Any) -> list[dict[str, Any]]:
    return [asyncio.run(soak(url, token, workspace, **options))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token", required=True)
    parser.add_argument("--workspace", default="demo")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workflow")
    parser.add_argument("--execution")
    args = parser.parse_args(argv)
    if (args.workflow is None) != (args.execution is None):
        parser.error("--workflow and --execution go together")
    (row,) = soak_rows(
        args.url,
        args.token,
        args.workspace,
        clients=args.clients,
        seconds=args.seconds,
        workflow=args.workflow,
        execution=args.execution,
    )
    for name, value in row.items():
        print(f"{name:>20}  {value}")
    return 0 if row["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
