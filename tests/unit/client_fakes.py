"""A scripted API behind httpx.MockTransport, for the client's unit tests (no sockets, no sleeps)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from execution_monitor_client import AsyncClient, Client

WS, WF, EX = "ws", "wf", "exec_1"
BASE = f"/api/workspaces/{WS}/workflows/{WF}/executions/{EX}"
STEP_IDS = ("first", "second")


def step(action_id: str, status: str = "pending", **fields: Any) -> dict[str, Any]:
    return {
        "actionId": action_id,
        "actionType": "delay",
        "name": None,
        "status": status,
        "attempt": 1 if status != "pending" else 0,
        "startedAt": None,
        "completedAt": None,
        "duration": 1000 if status in ("completed", "failed") else None,
        "error": "boom" if status == "failed" else None,
        "output": {} if status == "completed" else None,
        "history": [],
        **fields,
    }


def execution(
    version: int, status: str, steps: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    steps = steps if steps is not None else [step(action_id) for action_id in STEP_IDS]
    completed = sum(1 for each in steps if each["status"] == "completed")
    return {
        "id": EX,
        "workspaceId": WS,
        "workflowId": WF,
        "workflowVersion": 1,
        "status": status,
        "input": {},
        "startedAt": "2026-01-01T10:00:00Z",
        "completedAt": "2026-01-01T10:00:02Z" if status in ("completed", "failed", "cancelled") else None,
        "updatedAt": "2026-01-01T10:00:01Z",
        "duration": 2000 if status in ("completed", "failed", "cancelled") else None,
        "error": None,
        "retryOf": None,
        "retriedBy": None,
        "version": version,
        "canCancel": status in ("pending", "running"),
        "canRetry": status in ("failed", "cancelled"),
        "progress": {
            "completedSteps": completed,
            "failedSteps": sum(1 for each in steps if each["status"] == "failed"),
            "totalSteps": len(steps),
            "percentage": 100 * completed // len(steps),
            "estimatedTimeRemaining": None,
            "estimatedCompletionAt": None,
        },
        "runs": [],
        "actionResults": steps,
        **fields,
    }


def update_of(full: dict[str, Any], *changed: str) -> dict[str, Any]:
    """The SSE update for `full`: its fields without actionResults, plus the named steps."""
    fields = {name: value for name, value in full.items() if name != "actionResults"}
    steps = [each for each in full["actionResults"] if each["actionId"] in changed]
    return {**fields, "changedActionResults": steps}


def sse(*events: tuple[str, int, dict[str, Any]], retry_ms: int | None = 3000) -> bytes:
    text = f"retry: {retry_ms}\n\n" if retry_ms is not None else ""
    for name, event_id, data in events:
        text += f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
    return text.encode()


def stream_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> httpx.Response:
    envelope: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        envelope["details"] = details
    return httpx.Response(status, json={"error": envelope})


class FakeApi:
    """GET answers from `timeline` (one state per GET, then the last again), with ETag/304; the
    stream answers from `streams` in order (then 503); commands from `commands` by path suffix."""

    def __init__(self, *timeline: dict[str, Any]) -> None:
        self.timeline = list(timeline)
        self.current: dict[str, Any] | None = None
        self.streams: list[Callable[[httpx.Request], httpx.Response]] = []
        self.commands: dict[str, Callable[[httpx.Request], httpx.Response]] = {}
        self.get_errors: list[httpx.Response] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/stream"):
            return (
                self.streams.pop(0)(request) if self.streams else error_response(503, "unavailable", "down")
            )
        for suffix, answer in self.commands.items():
            if request.method == "POST" and path.endswith(suffix):
                return answer(request)
        if request.method == "GET" and path == BASE:
            if self.get_errors:
                return self.get_errors.pop(0)
            if self.timeline:
                self.current = self.timeline.pop(0)
            assert self.current is not None, "no execution scripted"
            etag = f'"{self.current["version"]}"'
            if request.headers.get("if-none-match") == etag:
                return httpx.Response(304, headers={"ETag": etag})
            return httpx.Response(200, headers={"ETag": etag}, json={"execution": self.current})
        return error_response(404, "not_found", f"no route {request.method} {path}")

    def of(self, path_suffix: str, method: str = "GET") -> list[httpx.Request]:
        return [
            each for each in self.requests if each.method == method and each.url.path.endswith(path_suffix)
        ]

    def client(self) -> Client:
        return Client("http://api.test", token="t0ken", transport=httpx.MockTransport(self))

    def async_client(self) -> AsyncClient:
        return AsyncClient("http://api.test", token="t0ken", transport=httpx.MockTransport(self))
