"""Live execution updates as Server-Sent Events, independent of any web framework.

One connection watches one execution. The protocol (DESIGN.md "SSE"):

    retry: <ms>                                     first, always
    id: <version> / event: snapshot                 data {"execution": {...}} (GET's body), unless
                                                    Last-Event-ID equals the current version
    id: <version> / event: update                   data = the execution's fields without
                                                    actionResults + "changedActionResults" (only
                                                    the steps that changed since the last event)
    : keep-alive                                    after `heartbeat_seconds` without output
    id: <version> / event: end                      data {"status", "version"}, on a terminal
                                                    status; then the server closes

Before the Lambda deadline the stream just closes: the client reconnects with Last-Event-ID and,
when the version moved meanwhile, gets a fresh snapshot, so nothing is missed.

Change detection is one small read per poll: a strongly consistent GetItem of the header
projected to version and status. Only when the version moved does it read the steps, and then
only from the "frontier" on: steps below the first one not completed are final (a completed step
never changes: retry-step re-runs only a failed or interrupted step and those after it). Polls are
fast right after a change and back off geometrically while nothing changes. When the step now
due has an expected duration (its workflow's statistics, or a delay's seconds), the next
completion is predicted: polls are fast in a window around it and slow until then, so a
completion reaches the client within one fast interval without polling fast all the time.

Per connection the state is small: the version sent last, the frontier, and an 8-byte
fingerprint per step at or past the frontier (of its wire form, so derived changes such as
pending -> skipped on a terminal execution count as changes).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from pydantic import Field, model_validator

from execution_monitor import clock as wall_clock
from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.domain.progress import due_step_expected_end
from execution_monitor.domain.status import StepStatus
from execution_monitor.models import ExecutionEnvelope
from execution_monitor.observability import logger
from execution_monitor.settings import Settings
from execution_monitor.store.interface import LiveReader, Loaded
from execution_monitor.views import execution_view

MAX_HEARTBEAT_SECONDS = 15.0  # the contract: a comment at least this often
KEEP_ALIVE = ": keep-alive\n\n"

T = TypeVar("T")


class LiveSettings(Settings):
    """Tunables of the stream, from the environment (STREAM_*); tests pass values directly."""

    retry_ms: int = Field(default=3000, ge=0, alias="STREAM_RETRY_MS")
    heartbeat_seconds: float = Field(
        default=MAX_HEARTBEAT_SECONDS, gt=0, le=MAX_HEARTBEAT_SECONDS, alias="STREAM_HEARTBEAT_SECONDS"
    )
    poll_min_seconds: float = Field(default=0.25, gt=0, alias="STREAM_POLL_MIN_SECONDS")
    poll_max_seconds: float = Field(default=2.0, gt=0, alias="STREAM_POLL_MAX_SECONDS")
    # Stay at the fast interval this long after a change (steps tend to follow each other).
    fast_window_seconds: float = Field(default=2.0, ge=0, alias="STREAM_FAST_WINDOW_SECONDS")
    backoff: float = Field(default=1.5, ge=1, alias="STREAM_POLL_BACKOFF")
    # After a change, when the next completion is predicted: fast only this long (the next step's
    # start follows a completion within milliseconds), then slow until the predicted window.
    follow_up_seconds: float = Field(default=0.75, ge=0, alias="STREAM_FOLLOW_UP_SECONDS")
    # The predicted window opens this fraction of the step's expected duration early (at least one
    # fast interval, at most the slow one) and stays open `fast_window_seconds` past the prediction.
    early_fraction: float = Field(default=0.15, ge=0, le=1, alias="STREAM_EARLY_FRACTION")
    # Close this long before the Lambda deadline, so the close is clean (not a timeout).
    deadline_margin_seconds: float = Field(default=10.0, ge=0, alias="STREAM_DEADLINE_MARGIN_SECONDS")
    # When no deadline is known (no x-amzn-lambda-context): API Gateway's ceiling for a stream.
    max_stream_seconds: float = Field(default=900.0, gt=0, alias="STREAM_MAX_SECONDS")

    @model_validator(mode="after")
    def _fast_is_not_slower_than_slow(self) -> LiveSettings:
        if self.poll_max_seconds < self.poll_min_seconds:
            raise ValueError("STREAM_POLL_MAX_SECONDS must not be below STREAM_POLL_MIN_SECONDS")
        return self


def live_settings() -> LiveSettings:
    return LiveSettings.load()


# -- wire format ---------------------------------------------------------------------------------


def sse_event(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    # json.dumps escapes newlines inside strings, so the payload is always one `data:` line.
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines += [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    return "\n".join(lines) + "\n\n"


def sse_retry(milliseconds: int) -> str:
    return f"retry: {milliseconds}\n\n"


# -- what one connection has sent ----------------------------------------------------------------


def _fingerprint(step: dict[str, Any]) -> bytes:
    return hashlib.blake2b(json.dumps(step, sort_keys=True).encode(), digest_size=8).digest()


@dataclass
class Connection:
    """What the client of one connection has been sent; turns fresh reads into events."""

    version: int = 0
    frontier: int = 0  # index of the first step that was not completed at the last read
    ended: bool = False
    sent: dict[str, bytes] = field(default_factory=dict)  # actionId -> fingerprint, steps >= frontier

    def open(
        self, execution: ExecutionState, steps: list[StepState], *, resume: bool, retry_ms: int
    ) -> list[str]:
        """The opening events: retry, then a snapshot unless resuming at this version, then maybe end."""
        view = execution_view(execution, steps)
        # The client gets every step now (snapshot) or has them already (resume): remember them all.
        self._remember(execution, steps, [result.to_json_dict() for result in view.action_results or []])
        events = [sse_retry(retry_ms)]
        if not resume:
            events.append(
                sse_event("snapshot", ExecutionEnvelope(execution=view).to_json_dict(), self.version)
            )
        return events + self._end_if_terminal(execution)

    def advance(self, execution: ExecutionState, steps: list[StepState]) -> list[str]:
        """Events for a read made after the version moved: one update (and end when terminal)."""
        if execution.version == self.version:
            return []
        # The read started at the frontier: every step before it is completed.
        before = steps[0].index if steps else self.frontier
        view = execution_view(execution, steps, completed_before=before)
        changed = self._remember(
            execution, steps, [result.to_json_dict() for result in view.action_results or []]
        )
        fields = view.to_json_dict()
        fields.pop("actionResults", None)
        events = [sse_event("update", {**fields, "changedActionResults": changed}, self.version)]
        return events + self._end_if_terminal(execution)

    def _remember(
        self, execution: ExecutionState, steps: list[StepState], wire_steps: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Records what the client now has; returns the wire steps that differ from what it had."""
        self.version = execution.version
        changed = []
        for step, wire in zip(steps, wire_steps, strict=True):
            mark = _fingerprint(wire)
            if self.sent.get(step.action_id) != mark:
                changed.append(wire)
                self.sent[step.action_id] = mark
        # Steps below the first one not completed are final: stop reading and remembering them.
        frontier = next((step.index for step in steps if step.status is not StepStatus.COMPLETED), None)
        if frontier is None:
            frontier = steps[-1].index + 1 if steps else self.frontier
        for step in steps:
            if step.index < frontier:
                self.sent.pop(step.action_id, None)
        self.frontier = max(self.frontier, frontier)
        return changed

    def _end_if_terminal(self, execution: ExecutionState) -> list[str]:
        if not execution.status.is_terminal:
            return []
        self.ended = True
        return [sse_event("end", {"status": execution.status.value, "version": self.version}, self.version)]


# -- timing --------------------------------------------------------------------------------------


def stream_budget_seconds(
    lambda_context: str | None, settings: LiveSettings, *, now_epoch_seconds: float | None = None
) -> float:
    """How long this stream may run: until the deadline in the Lambda Web Adapter's
    `x-amzn-lambda-context` header (JSON, epoch ms in `deadline_ms` or `deadline`) less the margin,
    and never longer than `max_stream_seconds`."""
    budget = settings.max_stream_seconds
    if not lambda_context:
        return budget
    try:
        context = json.loads(lambda_context)
        deadline_ms = context.get("deadline_ms", context.get("deadline"))
        deadline_seconds = float(deadline_ms) / 1000
    except (ValueError, TypeError, AttributeError):
        logger.warning("ignoring an unreadable x-amzn-lambda-context header")
        return budget
    now = time.time() if now_epoch_seconds is None else now_epoch_seconds
    return max(0.0, min(budget, deadline_seconds - now - settings.deadline_margin_seconds))


def parse_last_event_id(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


@dataclass
class Clock:
    """Monotonic time, wall time and sleeping, injectable so tests can run the loop on fake time."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    wall: Callable[[], datetime] = wall_clock.now


@dataclass(frozen=True)
class Prediction:
    """When the step now due should complete, on the monotonic clock, and the fast-poll window."""

    opens: float
    closes: float
    started: bool  # the due step runs: nothing but its completion (or a cancel) is expected before

    @classmethod
    def of(
        cls, execution: ExecutionState, steps: list[StepState], timer: Clock, settings: LiveSettings
    ) -> Prediction | None:
        due = next((step for step in steps if step.index == execution.due_index), None)
        expected_end = due_step_expected_end(execution, due)
        if expected_end is None or due is None or due.expected_ms is None:
            return None
        at = timer.now() + (expected_end - timer.wall()).total_seconds()
        early = min(
            settings.poll_max_seconds,
            max(settings.poll_min_seconds, settings.early_fraction * due.expected_ms / 1000),
        )
        return cls(
            opens=at - early,
            closes=at + settings.fast_window_seconds,
            started=execution.running_step == due.index,
        )

    def next_poll(self, now: float, slow: float, settings: LiveSettings) -> float:
        """The next poll time: `slow` but never past the window's opening; fast inside it."""
        if now < self.opens:
            return min(slow, self.opens)
        if now <= self.closes:
            return now + settings.poll_min_seconds
        return slow


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    # boto3 is blocking; a read must not stall the event loop (other streams share it locally).
    return await anyio.to_thread.run_sync(function, *args, abandon_on_cancel=True)


async def execution_events(
    source: LiveReader,
    workspace_id: str,
    execution_id: str,
    opened: Loaded,
    *,
    last_event_id: int | None,
    budget_seconds: float,
    settings: LiveSettings,
    clock: Clock | None = None,
    call: Callable[..., Awaitable[Any]] = _in_thread,
) -> AsyncGenerator[str, None]:
    """The whole stream for one connection, from the records read when it was accepted.

    Ends after `end`, when the budget is spent, or when the execution disappears; the caller stops
    iterating (and closes the generator) when the client goes away.
    """
    clock = clock or Clock()
    started = clock.now()
    stop_at = started + budget_seconds
    execution, steps = opened
    state = Connection()
    resume = last_event_id is not None and last_event_id == execution.version
    if resume and not execution.status.is_terminal:
        # Steps are read after the header, so they may already hold a newer write; the client's copy
        # of this version does not. Resume only when nothing moved since, else send a snapshot.
        probe = await call(source.probe, workspace_id, execution_id)
        resume = probe is not None and probe.version == execution.version
    for event in state.open(execution, steps, resume=resume, retry_ms=settings.retry_ms):
        yield event
    if state.ended:
        return
    last_output = last_change = clock.now()
    prediction = Prediction.of(execution, steps, clock, settings)
    interval = settings.poll_max_seconds if prediction and prediction.started else settings.poll_min_seconds
    next_poll = last_output + interval
    while True:
        now = clock.now()
        if now >= stop_at:
            logger.debug("stream budget spent", extra={"execution_id": execution_id})
            return
        await clock.sleep(max(0.0, min(next_poll, last_output + settings.heartbeat_seconds, stop_at) - now))
        now = clock.now()
        if now >= stop_at:
            return
        if now >= next_poll:
            probe = await call(source.probe, workspace_id, execution_id)
            if probe is None:
                return
            if probe.version != state.version:
                records = await call(source.get_execution_from, workspace_id, execution_id, state.frontier)
                if records is None:
                    return
                execution, steps = records
                for event in state.advance(execution, steps):
                    yield event
                    last_output = clock.now()
                if state.ended:
                    return
                last_change = clock.now()
                prediction = Prediction.of(execution, steps, clock, settings)
                # A running step with a predicted end: slow polls until its window (a cancel or an
                # early failure still shows within one slow interval). Otherwise fast: more follows.
                started = prediction is not None and prediction.started
                interval = settings.poll_max_seconds if started else settings.poll_min_seconds
            elif prediction is not None and prediction.opens <= clock.now() <= prediction.closes:
                # Fast in the window; should the step overrun it, polls back off from there.
                interval = settings.poll_min_seconds
            else:
                fast_for = settings.fast_window_seconds if prediction is None else settings.follow_up_seconds
                if clock.now() - last_change >= fast_for:
                    interval = min(settings.poll_max_seconds, interval * settings.backoff)
            slow = clock.now() + interval
            next_poll = slow if prediction is None else prediction.next_poll(clock.now(), slow, settings)
        if clock.now() - last_output >= settings.heartbeat_seconds:
            yield KEEP_ALIVE
            last_output = clock.now()
