"""The SSE protocol of execution_monitor.live on fake time and an in-memory source (no AWS, no HTTP)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from pydantic import ValidationError

from execution_monitor.actions.definitions import DelayAction, DelayParams
from execution_monitor.domain.execution import ExecutionState, Progress, Run, Schedule, StepState
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.live import (
    KEEP_ALIVE,
    Clock,
    Connection,
    LiveSettings,
    execution_events,
    parse_last_event_id,
    sse_event,
    stream_budget_seconds,
)
from execution_monitor.store.interface import Probe

WS, EXEC = "ws1", "exec_1"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fake time 0 on the wall clock
SETTINGS = LiveSettings(
    retry_ms=1500,
    heartbeat_seconds=15,
    poll_min_seconds=0.25,
    poll_max_seconds=2.0,
    fast_window_seconds=2.0,
    backoff=2.0,
    deadline_margin_seconds=10,
    max_stream_seconds=900,
)


def header(status: str = "running", version: int = 3, **changes: Any) -> ExecutionState:
    run = Run("exec_1-1", 0, "2026-01-01T00:00:00.000Z", "arn")
    execution = ExecutionState(
        workspace_id=WS,
        workflow_id="wf1",
        id=EXEC,
        workflow_version=1,
        status=ExecutionStatus(status),
        started_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:01.000Z",
        version=version,
        total_steps=3,
        current_run_id=run.run_id,
        runs=(run,),
        progress=Progress.of_counts(0, 0, changes.get("total_steps", 3)),
        schedule=Schedule(),
    )
    return replace(execution, **changes)


def step(index: int, status: str = "pending", **changes: Any) -> StepState:
    action = DelayAction(id=f"a{index}", type="delay", params=DelayParams(seconds=1))
    return replace(StepState(WS, "wf1", EXEC, index, action, status=StepStatus(status)), **changes)


class FakeSource:
    """Holds the execution's state and counts the reads made."""

    def __init__(self, execution: ExecutionState, steps: list[StepState]) -> None:
        self.execution = execution
        self.steps = steps
        self.probes = 0
        self.reads: list[int] = []

    def probe(self, workspace_id: str, execution_id: str) -> Probe | None:
        self.probes += 1
        return Probe(self.execution.version, self.execution.status)

    def get_execution_from(
        self, workspace_id: str, execution_id: str, from_index: int
    ) -> tuple[ExecutionState, list[StepState]]:
        self.reads.append(from_index)
        return self.execution, [s for s in self.steps if s.index >= from_index]

    def write(self, index: int | None = None, **changes: Any) -> None:
        """A transition: the step (if any) or the header changes, and the version moves."""
        if "status" in changes:
            kind = StepStatus if index is not None else ExecutionStatus
            changes["status"] = kind(changes["status"])
        if index is not None:
            self.steps[index] = replace(self.steps[index], **changes)
            changes = {}
        self.execution = replace(self.execution, version=self.execution.version + 1, **changes)


class FakeTime(Clock):
    """Sleeping advances the time at once; `at` schedules writes at given times."""

    def __init__(self) -> None:
        self.time = 0.0
        self.scheduled: list[tuple[float, Callable[[], None]]] = []
        super().__init__(
            now=lambda: self.time, sleep=self._sleep, wall=lambda: EPOCH + timedelta(seconds=self.time)
        )

    def at(self, moment: float, action: Callable[[], None]) -> None:
        self.scheduled.append((moment, action))
        self.scheduled.sort(key=lambda item: item[0])

    async def _sleep(self, seconds: float) -> None:
        target = self.time + seconds
        while self.scheduled and self.scheduled[0][0] <= target:
            moment, action = self.scheduled.pop(0)
            self.time = max(self.time, moment)
            action()
        self.time = target
        await anyio.lowlevel.checkpoint()


async def _direct(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


def parse(raw: str) -> dict[str, Any]:
    """One SSE block as {'event', 'id', 'data', 'comment', 'retry'}."""
    block: dict[str, Any] = {}
    for line in raw.rstrip("\n").split("\n"):
        name, _, value = line.partition(": ") if not line.startswith(":") else ("comment", "", line[2:])
        block[name] = json.loads(value) if name == "data" else value
    return block


def run(
    source: FakeSource,
    clock: FakeTime,
    *,
    last_event_id: int | None = None,
    budget: float = 60.0,
    settings: LiveSettings = SETTINGS,
) -> list[tuple[float, dict[str, Any]]]:
    """Every block the stream yields, with the (fake) time it was yielded at."""
    out: list[tuple[float, dict[str, Any]]] = []
    opened = source.get_execution_from(WS, EXEC, 0)
    source.reads.clear()
    source.probes = 0

    async def main() -> None:
        events = execution_events(
            source,
            WS,
            EXEC,
            opened,
            last_event_id=last_event_id,
            budget_seconds=budget,
            settings=settings,
            clock=clock,
            call=_direct,
        )
        async for raw in events:
            out.append((clock.time, parse(raw)))

    anyio.run(main)
    return out


def events_named(blocks: list[tuple[float, dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    return [block for _, block in blocks if block.get("event") == name]


# -- opening -------------------------------------------------------------------------------------


def test_given_a_new_client_when_it_connects_then_retry_then_a_snapshot_in_gets_shape() -> None:
    source = FakeSource(header(), [step(0, "running"), step(1), step(2)])

    blocks = run(source, FakeTime(), budget=0)

    assert blocks[0][1] == {"retry": "1500"}
    snapshot = blocks[1][1]
    assert snapshot["event"] == "snapshot"
    assert snapshot["id"] == "3"
    assert snapshot["data"]["execution"]["version"] == 3
    assert [r["status"] for r in snapshot["data"]["execution"]["actionResults"]] == [
        "running",
        "pending",
        "pending",
    ]
    assert len(blocks) == 2


def test_given_last_event_id_equal_to_the_version_when_it_reconnects_then_no_snapshot() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])

    blocks = run(source, FakeTime(), last_event_id=3, budget=0)

    assert [block for _, block in blocks] == [{"retry": "1500"}]
    assert source.probes == 1  # confirms nothing moved between the header and the steps read


@pytest.mark.parametrize("last_event_id", [2, 4, None])
def test_given_a_stale_or_no_last_event_id_when_it_reconnects_then_a_snapshot(
    last_event_id: int | None,
) -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])

    blocks = run(source, FakeTime(), last_event_id=last_event_id, budget=0)

    assert [block.get("event") for _, block in blocks] == [None, "snapshot"]


def test_given_a_write_between_the_open_reads_when_resuming_then_a_snapshot_not_a_gap() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    opened = source.get_execution_from(WS, EXEC, 0)
    source.write(0, status="completed")  # lands after the header was read: the client lacks it
    out: list[str] = []

    async def main() -> None:
        async for raw in execution_events(
            source,
            WS,
            EXEC,
            opened,
            last_event_id=3,
            budget_seconds=0,
            settings=SETTINGS,
            clock=FakeTime(),
            call=_direct,
        ):
            out.append(raw)

    anyio.run(main)

    assert parse(out[1])["event"] == "snapshot"


def test_given_a_terminal_execution_when_a_client_connects_then_snapshot_end_and_close() -> None:
    source = FakeSource(header("completed", version=9), [step(i, "completed") for i in range(3)])

    blocks = run(source, FakeTime())

    assert [block.get("event") for _, block in blocks] == [None, "snapshot", "end"]
    assert blocks[-1][1]["data"] == {"status": "completed", "version": 9}
    assert blocks[-1][1]["id"] == "9"
    assert source.probes == 0


def test_given_a_terminal_execution_and_its_version_when_resuming_then_just_end() -> None:
    source = FakeSource(header("failed", version=9), [step(0, "failed"), step(1), step(2)])

    blocks = run(source, FakeTime(), last_event_id=9)

    assert [block.get("event") for _, block in blocks] == [None, "end"]


# -- updates -------------------------------------------------------------------------------------


def test_given_steps_progress_then_each_update_carries_only_the_changed_steps_and_the_fields() -> None:
    source = FakeSource(header("pending", version=1), [step(0), step(1), step(2)])
    clock = FakeTime()
    clock.at(1.0, lambda: source.write(0, status="running", attempt=1))
    clock.at(2.0, lambda: source.write(0, status="completed", duration_ms=1000))
    clock.at(3.0, lambda: source.write(1, status="running", attempt=1))

    blocks = run(source, clock, budget=5)

    updates = events_named(blocks, "update")
    assert [u["id"] for u in updates] == ["2", "3", "4"]
    assert [[(r["actionId"], r["status"]) for r in u["data"]["changedActionResults"]] for u in updates] == [
        [("a0", "running")],
        [("a0", "completed")],
        [("a1", "running")],
    ]
    assert "actionResults" not in updates[0]["data"]
    assert updates[0]["data"]["id"] == EXEC
    assert updates[0]["data"]["version"] == 2
    assert "progress" in updates[0]["data"]


def test_given_a_header_only_change_then_an_update_with_no_changed_steps() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()
    progress = Progress(0, 0, 3, 0, estimated_time_remaining_ms=4200)
    clock.at(1.0, lambda: source.write(progress=progress))

    blocks = run(source, clock, budget=2)

    (update,) = events_named(blocks, "update")
    assert update["data"]["changedActionResults"] == []
    assert update["data"]["progress"]["estimatedTimeRemaining"] == 4200


def test_given_the_execution_fails_then_update_with_derived_statuses_then_end_and_the_stream_stops() -> None:
    source = FakeSource(header(version=3), [step(0, "completed"), step(1, "running"), step(2)])
    clock = FakeTime()
    clock.at(1.0, lambda: source.write(status="failed", error="a1: boom"))

    blocks = run(source, clock, budget=60)

    assert [block.get("event") for _, block in blocks] == [None, "snapshot", "update", "end"]
    update = blocks[2][1]["data"]
    # Nothing was written to the steps, but their displayed status changed with the execution's.
    assert [(r["actionId"], r["status"]) for r in update["changedActionResults"]] == [
        ("a1", "failed"),
        ("a2", "skipped"),
    ]
    assert blocks[-1][0] < 2  # ended right away, not at the budget


def test_given_several_writes_between_two_polls_then_one_update_with_the_latest_version() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()

    def burst() -> None:
        source.write(0, status="completed")
        source.write(1, status="running")

    clock.at(1.01, burst)

    blocks = run(source, clock, budget=2)

    (update,) = events_named(blocks, "update")
    assert update["id"] == "5"
    assert {r["actionId"] for r in update["data"]["changedActionResults"]} == {"a0", "a1"}


# -- cost: what is read, and how often -----------------------------------------------------------


def test_given_no_change_then_only_probes_and_the_interval_backs_off_to_the_maximum() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])

    run(source, FakeTime(), budget=60)

    assert source.reads == []
    # 2 s at 0.25 s (8 probes), then 0.5, 1.0, 2.0 and 2 s until 60 s: about 36 in a minute.
    assert 30 <= source.probes <= 40


def test_given_a_change_then_polls_are_fast_again() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()
    clock.at(30.0, lambda: source.write(0, status="completed"))
    read = source.get_execution_from
    second_write: list[float] = []

    def read_then_write_again(*args: Any) -> Any:
        if clock.time >= 30 and not second_write:  # half a second after the change is seen, the next
            second_write.append(clock.time + 0.5)
            clock.at(second_write[0], lambda: source.write(1, status="running"))
        return read(*args)

    source.get_execution_from = read_then_write_again  # type: ignore[method-assign,assignment]

    blocks = run(source, clock, budget=40)

    first, second = [moment for moment, block in blocks if block.get("event") == "update"]
    assert 30.0 < first <= 32.0  # found within one slow interval
    assert second - second_write[0] <= SETTINGS.poll_min_seconds + 1e-9  # the next within a fast one


def predictable(expected_seconds: float) -> FakeSource:
    """Step 0 running since fake time 0, expected to take `expected_seconds`."""
    started = header(version=3, running_step=0, schedule=Schedule(due_since="2026-01-01T00:00:00.000Z"))
    first = step(0, "running", expected_ms=round(expected_seconds * 1000))
    return FakeSource(started, [first, step(1), step(2)])


def probe_times(source: FakeSource, clock: FakeTime) -> list[float]:
    times: list[float] = []
    probe = source.probe

    def timed(*args: Any) -> Probe | None:
        times.append(clock.time)
        return probe(*args)

    source.probe = timed  # type: ignore[method-assign,assignment]
    return times


def test_given_a_step_expected_to_take_10_s_then_its_completion_is_seen_within_a_fast_poll_of_it() -> None:
    source, clock = predictable(10.0), FakeTime()
    clock.at(10.1, lambda: source.write(0, status="completed"))
    probes = probe_times(source, clock)

    blocks = run(source, clock, budget=10.5)

    (seen,) = [moment for moment, block in blocks if block.get("event") == "update"]
    assert seen - 10.1 <= SETTINGS.poll_min_seconds + 1e-9
    # Every 2 s until the window opens 1.5 s early (15 % of 10 s), fast from there.
    assert len([moment for moment in probes if moment < 8.5]) <= 5
    assert min(moment for moment in probes if moment >= 8.5) <= 8.5 + 1e-9


def test_given_a_step_that_overruns_its_prediction_then_polling_falls_back_to_the_slow_cadence() -> None:
    source, clock = predictable(2.0), FakeTime()
    clock.at(30.0, lambda: source.write(0, status="completed"))
    probes = probe_times(source, clock)

    blocks = run(source, clock, budget=33)

    late = [moment for moment in probes if 10 <= moment < 30]
    assert len(late) <= 11  # about every 2 s once the window closed unanswered
    (seen,) = [moment for moment, block in blocks if block.get("event") == "update"]
    assert seen - 30.0 <= SETTINGS.poll_max_seconds + 1e-9


def test_given_an_unknown_duration_then_there_is_no_prediction_and_polls_back_off_as_before() -> None:
    source, clock = predictable(1.0), FakeTime()
    source.steps[0] = replace(source.steps[0], expected_ms=None)
    probes = probe_times(source, clock)

    run(source, clock, budget=60)

    assert 30 <= len(probes) <= 40


def test_given_completed_steps_then_later_reads_start_at_the_frontier_and_forget_them() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()
    clock.at(1.0, lambda: source.write(0, status="completed"))
    clock.at(2.0, lambda: source.write(1, status="running"))
    clock.at(3.0, lambda: source.write(1, status="completed"))

    run(source, clock, budget=4)

    assert source.reads == [0, 1, 1]


def test_the_connection_remembers_only_steps_at_or_past_the_frontier() -> None:
    connection = Connection()
    steps = [step(i, "completed") for i in range(997)] + [step(997, "running"), step(998), step(999)]

    connection.open(header(total_steps=1000), steps, resume=False, retry_ms=0)

    assert connection.frontier == 997
    assert set(connection.sent) == {"a997", "a998", "a999"}


# -- heartbeats and the deadline ------------------------------------------------------------------


def test_given_nothing_changes_then_a_keep_alive_at_least_every_heartbeat_interval() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])

    blocks = run(source, FakeTime(), budget=61)

    beats = [moment for moment, block in blocks if block.get("comment") == "keep-alive"]
    assert beats == [15.0, 30.0, 45.0, 60.0]


def test_given_steady_updates_then_no_keep_alive_is_needed() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()
    for second in range(1, 30):
        clock.at(second * 1.0, lambda: source.write())

    blocks = run(source, clock, budget=30)

    assert not [block for _, block in blocks if "comment" in block]


def test_given_a_budget_then_the_stream_closes_at_it_without_an_end_event() -> None:
    source = FakeSource(header(version=3), [step(0, "running"), step(1), step(2)])
    clock = FakeTime()

    blocks = run(source, clock, budget=7.5)

    assert clock.time == pytest.approx(7.5)
    assert not events_named(blocks, "end")


def test_given_the_execution_disappears_then_the_stream_closes() -> None:
    source = FakeSource(header(version=3), [step(0, "running")])
    source.probe = lambda workspace_id, execution_id: None  # type: ignore[method-assign]
    clock = FakeTime()

    run(source, clock, budget=60)

    assert clock.time < 1


# -- parsing and formatting -----------------------------------------------------------------------


def test_the_budget_is_the_lambda_deadline_less_the_margin() -> None:
    context = json.dumps({"deadline_ms": 1_000_000_000_000 + 120_000, "request_id": "r"})

    assert stream_budget_seconds(context, SETTINGS, now_epoch_seconds=1_000_000_000) == pytest.approx(110)


def test_the_budget_reads_the_adapters_deadline_field_too_and_is_capped() -> None:
    context = json.dumps({"deadline": 1_000_000_000_000 + 3_600_000})

    assert stream_budget_seconds(context, SETTINGS, now_epoch_seconds=1_000_000_000) == 900


@pytest.mark.parametrize("context", [None, "", "not json", "[]", '{"deadline_ms": "soon"}', '{"x": 1}'])
def test_without_a_readable_deadline_the_budget_is_the_maximum(context: str | None) -> None:
    assert stream_budget_seconds(context, SETTINGS) == 900


def test_a_deadline_inside_the_margin_leaves_no_budget() -> None:
    context = json.dumps({"deadline_ms": 1_000_000_000_000 + 5_000})

    assert stream_budget_seconds(context, SETTINGS, now_epoch_seconds=1_000_000_000) == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), (" 12 ", 12), ("", None), (None, None), ("-1", None), ("abc", None), ("9" * 30, None)],
)
def test_last_event_id_parsing(value: str | None, expected: int | None) -> None:
    assert parse_last_event_id(value) == expected


def test_an_event_is_one_data_line_even_when_values_hold_newlines() -> None:
    raw = sse_event("update", {"error": "line one\nline two"}, 4)

    assert raw == 'id: 4\nevent: update\ndata: {"error":"line one\\nline two"}\n\n'


def test_the_keep_alive_is_an_sse_comment() -> None:
    assert KEEP_ALIVE == ": keep-alive\n\n"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_HEARTBEAT_SECONDS", "5")
    monkeypatch.setenv("STREAM_POLL_MIN_SECONDS", "0.1")

    settings = LiveSettings.from_environment()

    assert (settings.heartbeat_seconds, settings.poll_min_seconds, settings.poll_max_seconds) == (5, 0.1, 2.0)


@pytest.mark.parametrize(
    "values", [{"heartbeat_seconds": 16}, {"poll_min_seconds": 3, "poll_max_seconds": 2}, {"backoff": 0.5}]
)
def test_settings_that_would_break_the_contract_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        LiveSettings.model_validate(values)
