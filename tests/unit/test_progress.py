"""Progress, ETA and step statistics as pure logic, and the updater against an in-memory table.

The property tests model the stream as Lambda delivers it: at least once, in any order, any
number of times, never before the change happened. Whatever the delivery, the stored state ends
the same, and statistics count every completed attempt exactly once.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution_monitor import clock
from execution_monitor.progress import (
    aggregate,
    changed_fields,
    compute_progress,
    due_since,
    estimate_remaining_ms,
    same_progress,
    wall_ms,
)
from execution_monitor.progress_updater import (
    MalformedRecord,
    Outcome,
    ProgressUpdater,
    execution_ref,
    is_echo,
)
from execution_monitor.step_stats import WINDOW, StepStats, definition_hash, quantile, trimmed_mean
from execution_monitor.store import keys
from execution_monitor.store.codec import dumps, empty_progress, from_item, to_item
from execution_monitor.store.progress_writes import STATS_MARK, stats_keys, stats_record
from execution_monitor.store.records import step_counts

WS, WF = "ws1", "wf1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(ms: int) -> str:
    return clock.iso(T0 + timedelta(milliseconds=ms))


def action(action_id: str, kind: str, seconds: float = 1) -> dict[str, Any]:
    if kind == "delay":
        return {"id": action_id, "type": "delay", "params": {"seconds": seconds}}
    return {"id": action_id, "type": "http_request", "params": {"url": f"https://example.com/{action_id}"}}


def step(index: int, kind: str = "http", status: str = "pending", **fields: Any) -> dict[str, Any]:
    definition = action(f"a{index}", kind, fields.pop("seconds", 1))
    return {
        "pk": keys.execution_pk(WS, "exec_1"),
        "sk": keys.step_sk(index),
        "type": "step",
        "workspaceId": WS,
        "workflowId": WF,
        "executionId": "exec_1",
        "index": index,
        "actionId": definition["id"],
        "actionType": definition["type"],
        "action": dumps(definition),
        "status": status,
        "attempt": 0 if status == "pending" else 1,
        **fields,
    }


def header(status: str = "running", total: int = 3, **fields: Any) -> dict[str, Any]:
    return {
        "pk": keys.execution_pk(WS, "exec_1"),
        "sk": keys.EXECUTION_SK,
        "type": "execution",
        "id": "exec_1",
        "workspaceId": WS,
        "workflowId": WF,
        "status": status,
        "startedAt": at(0),
        "updatedAt": at(0),
        "version": 1,
        "totalSteps": total,
        **fields,
    }


def stats_of(*durations: int, kind: str = "http", action_id: str = "a1") -> StepStats:
    stats = StepStats()
    for position, duration in enumerate(durations):
        stats = stats.add(
            at(position), duration, definition_hash(action(action_id, kind)), f"e{position}#1#1"
        )
    return stats


# -- percentage and counts --------------------------------------------------------------------


@given(total=st.integers(1, 1000), data=st.data())
def test_given_any_counts_when_percentage_then_floor_and_100_only_when_all_completed(
    total: int, data: st.DataObject
) -> None:
    completed = data.draw(st.integers(0, total))
    steps = [{"status": "completed"}] * completed + [{"status": "pending"}] * (total - completed)
    value = step_counts("running", steps, total)["percentage"]
    assert value == (100 * completed) // total
    assert (value == 100) == (completed == total)


def test_given_a_failed_execution_when_counted_then_pending_are_skipped_and_running_is_failed() -> None:
    steps = [
        step(0, status="completed", durationMs=100),
        step(1, status="running", startedAt=at(100)),
        step(2),
    ]
    progress = compute_progress(header("failed"), steps, {}, T0)
    assert progress == {
        "completedSteps": 1,
        "failedSteps": 1,
        "totalSteps": 3,
        "percentage": 33,
        "estimatedTimeRemaining": None,
        "estimatedCompletionAt": None,
    }


# -- ETA ----------------------------------------------------------------------------------------


def test_given_workflow_statistics_when_estimating_then_pending_typicals_plus_rest_of_running_step() -> None:
    steps = [
        step(0, status="completed", durationMs=5000, completedAt=at(5000)),
        step(1, status="running", startedAt=at(5000)),
        step(2),
    ]
    stats = {"a1": stats_of(2000, action_id="a1"), "a2": stats_of(3000, action_id="a2")}
    now = T0 + timedelta(milliseconds=5500)
    assert estimate_remaining_ms(header(), steps, stats, now) == (2000 - 500) + 3000
    progress = compute_progress(header(), steps, stats, now)
    assert progress["estimatedCompletionAt"] == at(5500 + 4500)


def test_given_a_delay_step_when_estimating_then_its_configured_seconds_are_its_duration() -> None:
    steps = [step(0, "delay", status="running", startedAt=at(0), seconds=2), step(1, "delay", seconds=1.5)]
    assert estimate_remaining_ms(header(total=2), steps, {}, T0 + timedelta(milliseconds=400)) == 1600 + 1500


def test_given_no_statistics_when_estimating_then_the_executions_own_mean_duration_is_used() -> None:
    steps = [
        step(0, status="completed", durationMs=1000),
        step(1, "delay", status="completed", durationMs=60_000, seconds=60),
        step(2, status="completed", durationMs=3000),
        step(3),
        step(4),
    ]
    assert estimate_remaining_ms(header(total=5), steps, {}, T0) == 2 * 2000


def test_given_a_step_with_no_estimate_at_all_when_estimating_then_the_eta_is_unknown() -> None:
    steps = [step(0, "delay", status="running", startedAt=at(0)), step(1)]
    assert estimate_remaining_ms(header(total=2), steps, {}, T0) is None


def test_given_statistics_of_a_changed_action_definition_when_estimating_then_they_are_not_used() -> None:
    old_definition = definition_hash({"type": "http_request", "params": {"url": "old"}})
    stale = StepStats().add(at(0), 9000, old_definition, "e0#1#1")
    steps = [step(0, status="completed", durationMs=1000), step(1)]
    assert estimate_remaining_ms(header(total=2), steps, {"a1": stale}, T0) == 1000


def test_given_an_overdue_running_step_when_estimating_then_it_contributes_nothing_not_a_negative() -> None:
    steps = [step(0, status="running", startedAt=at(0)), step(1)]
    stats = {"a0": stats_of(1000, action_id="a0"), "a1": stats_of(700, action_id="a1")}
    assert estimate_remaining_ms(header(total=2), steps, stats, T0 + timedelta(seconds=30)) == 700


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_given_a_terminal_execution_when_estimating_then_there_is_no_eta(status: str) -> None:
    steps = [step(0, status="completed", durationMs=10), step(1)]
    assert estimate_remaining_ms(header(status, total=2), steps, {}, T0) is None


@given(elapsed=st.integers(0, 10_000), later=st.integers(0, 10_000))
def test_given_a_running_step_when_time_passes_then_remaining_never_grows_and_completion_time_holds(
    elapsed: int, later: int
) -> None:
    steps = [step(0, status="running", startedAt=at(0)), step(1)]
    stats = {"a0": stats_of(4000, action_id="a0"), "a1": stats_of(1000, action_id="a1")}
    first_now = T0 + timedelta(milliseconds=elapsed)
    second_now = first_now + timedelta(milliseconds=later)
    first = compute_progress(header(total=2), steps, stats, first_now)
    second = compute_progress(header(total=2), steps, stats, second_now)
    assert second["estimatedTimeRemaining"] <= first["estimatedTimeRemaining"]
    if elapsed + later <= 4000:  # on schedule: the predicted completion instant does not move
        assert second["estimatedCompletionAt"] == first["estimatedCompletionAt"]


def test_given_a_gap_before_a_step_when_its_wall_time_is_taken_then_the_engines_overhead_is_included() -> (
    None
):
    steps = [
        step(0, status="completed", startedAt=at(100), completedAt=at(1000), durationMs=900),
        step(1, status="completed", startedAt=at(1150), completedAt=at(2000), durationMs=850),
    ]
    assert [wall_ms(header(total=2), steps, each) for each in steps] == [1000, 1000]


def test_given_a_retry_step_run_when_anchoring_its_first_step_then_the_run_start_is_used() -> None:
    runs = [
        {"runId": "r1", "startIndex": 0, "startedAt": at(0)},
        {"runId": "r2", "startIndex": 1, "startedAt": at(60_000)},
    ]
    steps = [
        step(0, status="completed", completedAt=at(500), runId="r1"),
        step(1, status="running", startedAt=at(60_050), runId="r2"),
    ]
    retried = header(total=2, runs=runs, currentRunId="r2")
    assert due_since(retried, steps, steps[1]) == at(60_000)
    stats = {"a1": stats_of(1000, action_id="a1")}
    assert estimate_remaining_ms(retried, steps, stats, T0 + timedelta(milliseconds=60_400)) == 600


def test_given_a_delay_with_learned_overhead_when_estimating_then_never_below_its_configured_seconds() -> (
    None
):
    slow = stats_of(1150, kind="delay", action_id="a0")
    fast = stats_of(700, kind="delay", action_id="a0")
    pending = [step(0, "delay")]
    assert estimate_remaining_ms(header("pending", total=1), pending, {"a0": slow}, T0) == 1150
    assert estimate_remaining_ms(header("pending", total=1), pending, {"a0": fast}, T0) == 1000


# -- when to write ------------------------------------------------------------------------------


def test_given_an_eta_that_only_moved_with_the_clock_when_compared_then_it_is_the_same_progress() -> None:
    steps = [step(0, status="running", startedAt=at(0)), step(1)]
    stats = {"a0": stats_of(4000, action_id="a0"), "a1": stats_of(1000, action_id="a1")}
    stored = compute_progress(header(total=2), steps, stats, T0 + timedelta(milliseconds=100))
    recomputed = compute_progress(header(total=2), steps, stats, T0 + timedelta(milliseconds=3000))
    assert same_progress(stored, recomputed)
    overdue = compute_progress(header(total=2), steps, stats, T0 + timedelta(seconds=10))
    assert not same_progress(stored, overdue)


def test_given_no_stored_progress_and_nothing_known_when_compared_then_nothing_needs_writing() -> None:
    steps = [step(0), step(1)]
    fields = aggregate(header("pending", total=2), steps, {}, T0)
    assert changed_fields(header("pending", total=2), fields) == {}


def test_given_a_terminal_execution_when_aggregating_then_duration_comes_from_its_start_and_end() -> None:
    done = header("completed", total=1, completedAt=at(1500))
    fields = aggregate(done, [step(0, status="completed", durationMs=1400)], {}, T0)
    assert fields["durationMs"] == 1500
    assert changed_fields({**done, "durationMs": 1500, "progress": fields["progress"]}, fields) == {}


# -- statistics ---------------------------------------------------------------------------------


def test_given_durations_when_folded_then_count_mean_quantiles_and_trimmed_typical() -> None:
    stats = stats_of(100, 200, 300, 400, 10_000)
    assert (stats.count, stats.mean_ms, stats.min_ms, stats.max_ms) == (5, 2200, 100, 10_000)
    assert (stats.p50_ms, stats.p90_ms) == (300, 10_000)
    assert stats.typical_ms == 300  # the stalled 10 s call and the fastest one are trimmed
    assert trimmed_mean([100, 300]) == 200
    assert quantile([], 0.5) is None


@given(
    samples=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
        min_size=1,
        max_size=80,
        unique_by=lambda s: s[0],
    ),
    data=st.data(),
)
def test_given_any_fold_order_when_folding_then_statistics_are_identical(
    samples: list[tuple[int, int]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(samples))
    action_hash = definition_hash(action("a1", "http"))

    def fold(order: list[tuple[int, int]]) -> StepStats:
        stats = StepStats()
        for completed, duration in order:
            stats = stats.add(at(completed), duration, action_hash, f"exec_{completed}#1#1")
        return stats

    assert fold(samples) == fold(shuffled)
    assert len(fold(samples).recent) == min(WINDOW, len(samples))


def test_given_a_newer_attempt_of_a_changed_definition_when_folded_then_statistics_start_over() -> None:
    old = stats_of(1000, 1000)
    changed = old.add(at(10), 50, "another-definition", "e9#1#1")
    assert (changed.count, changed.typical_ms, changed.definition_hash) == (1, 50, "another-definition")
    assert old.add(at(-10), 50, "another-definition", "e8#1#1") == old  # an older one is ignored


def test_given_an_attempt_already_in_the_statistics_when_folded_again_then_nothing_changes() -> None:
    once = stats_of(100, 200)
    assert once.add(at(5), 999, definition_hash(action("a1", "http")), "e1#1#1") == once
    assert once.has_sample("e0#1#1") and not once.has_sample("e7#1#1")


def test_given_statistics_when_stored_and_read_back_then_they_are_equal() -> None:
    stats = stats_of(120, 80, 95)
    record = from_item(to_item({**stats.to_attributes(), "version": 4}))
    assert StepStats.from_record(record) == StepStats(**{**stats.__dict__, "version": 4})


# -- stream records -----------------------------------------------------------------------------


def stream_record(
    event: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, sequence: int = 1
) -> dict[str, Any]:
    item = new if new is not None else old
    assert item is not None
    dynamodb: dict[str, Any] = {
        "Keys": to_item({"pk": item["pk"], "sk": item["sk"]}),
        "SequenceNumber": str(sequence),
        "SizeBytes": 1,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        dynamodb["NewImage"] = to_item(new)
    if old is not None:
        dynamodb["OldImage"] = to_item(old)
    return {"eventID": str(sequence), "eventName": event, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}


def test_given_header_and_step_records_when_identified_then_both_name_the_execution() -> None:
    assert execution_ref(stream_record("INSERT", header())) == (WS, "exec_1")
    assert execution_ref(stream_record("REMOVE", None, step(0))) == (WS, "exec_1")
    workflow = {"pk": keys.workflow_pk(WS, WF), "sk": keys.WORKFLOW_SK}
    assert execution_ref(stream_record("MODIFY", workflow, workflow)) is None
    with pytest.raises(MalformedRecord):
        execution_ref({"eventID": "x", "eventName": "MODIFY", "dynamodb": {}})


def test_given_our_own_write_when_it_comes_back_then_it_is_an_echo_but_a_status_change_is_not() -> None:
    before = header(version=3)
    ours = {**before, "version": 4, "updatedAt": at(5), "progress": {"completedSteps": 1}}
    assert is_echo(stream_record("MODIFY", ours, before))
    assert not is_echo(stream_record("MODIFY", {**ours, "status": "completed"}, before))
    assert not is_echo(stream_record("INSERT", ours))
    marked = {**step(0, status="completed", durationMs=5), STATS_MARK: 1}
    assert is_echo(stream_record("MODIFY", marked, step(0, status="completed", durationMs=5)))


# -- the updater against an in-memory table: delivery order does not matter ---------------------


class MemoryTable:
    """Items plus a stream of NEW_AND_OLD_IMAGES records, like a DynamoDB table with a stream."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.stream: list[dict[str, Any]] = []

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        found = self.items.get((key["pk"], key["sk"]))
        return copy.deepcopy(found)

    def put(self, item: dict[str, Any]) -> None:
        stored = from_item(to_item(item))  # as DynamoDB keeps it: no None attributes
        old = self.items.get((item["pk"], item["sk"]))
        self.items[(item["pk"], item["sk"])] = stored
        event = "INSERT" if old is None else "MODIFY"
        self.stream.append(stream_record(event, stored, old, sequence=len(self.stream) + 1))

    def update(self, key: dict[str, str], **fields: Any) -> None:
        current = self.get(key)
        assert current is not None
        self.put({**current, **fields})


class MemoryStore:
    """The updater's store contract with DynamoDB's conditional semantics, in memory."""

    def __init__(self, table: MemoryTable) -> None:
        self.table = table
        self.progress_writes = 0

    def read_execution_records(
        self, workspace_id: str, execution_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        pk = keys.execution_pk(workspace_id, execution_id)
        found = self.table.get({"pk": pk, "sk": keys.EXECUTION_SK})
        if found is None:
            return None
        steps = [
            copy.deepcopy(item)
            for (item_pk, sk), item in sorted(self.table.items.items())
            if item_pk == pk and sk.startswith(keys.STEP_SK_PREFIX)
        ]
        return found, steps

    def get_step_stats(self, workspace_id: str, workflow_id: str, action_ids: Any) -> dict[str, StepStats]:
        found = {}
        for action_id in action_ids:
            item = self.table.get(stats_keys(workspace_id, workflow_id, action_id))
            if item is not None:
                found[action_id] = StepStats.from_record(item)
        return found

    def put_step_stats(self, step: dict[str, Any], before: StepStats, after: StepStats, now: str) -> bool:
        stored = self.table.get(stats_keys(step["workspaceId"], step["workflowId"], step["actionId"]))
        if (stored["version"] if stored else 0) != before.version:
            return False
        self.table.put(stats_record(step, after, before.version + 1, now))
        return True

    def mark_step_folded(self, step: dict[str, Any]) -> bool:
        current = self.table.get(step)
        if not (current and current["status"] == "completed" and current["attempt"] == step["attempt"]):
            return False
        self.table.update(step, **{STATS_MARK: step["attempt"]})
        return True

    def write_progress(self, header: dict[str, Any], fields: dict[str, Any], now: str) -> bool:
        current = self.table.get(header)
        if current is None or current["version"] != header["version"]:
            return False
        self.table.update(header, **fields, updatedAt=now, version=current["version"] + 1)
        self.progress_writes += 1
        return True


@dataclass
class SimulatedExecution:
    """Writes what run_action and the API write, in the same shapes, through the memory table."""

    table: MemoryTable
    execution_id: str
    kinds: list[str]
    durations: list[int]
    ending: str  # completed | failed | cancelled | running (still going when the test ends)
    clock_ms: list[int] = field(default_factory=lambda: [0])

    def key(self, sk: str) -> dict[str, str]:
        return {"pk": keys.execution_pk(WS, self.execution_id), "sk": sk}

    def tick(self, ms: int = 10) -> str:
        self.clock_ms[0] += ms
        return at(self.clock_ms[0])

    def bump(self, **fields: Any) -> None:
        current = self.table.get(self.key(keys.EXECUTION_SK))
        assert current is not None
        self.table.update(self.key(keys.EXECUTION_SK), **fields, version=current["version"] + 1)

    def operations(self) -> list[Any]:
        ops: list[Any] = [self.create]
        last = len(self.kinds) - 1
        for index in range(len(self.kinds)):
            ops.append(lambda index=index: self.begin(index))
            if self.ending in ("failed", "cancelled", "running") and index == last:
                break
            ops.append(lambda index=index: self.finish(index))
        ops.append(
            {"completed": self.complete, "failed": self.fail, "cancelled": self.cancel}.get(self.ending)
        )
        return [op for op in ops if op is not None]

    def create(self) -> None:
        now = self.tick()
        for index, kind in enumerate(self.kinds):
            definition = action(f"a{index}", kind, seconds=1)
            self.table.put(
                {
                    **self.key(keys.step_sk(index)),
                    "type": "step",
                    "workspaceId": WS,
                    "workflowId": WF,
                    "executionId": self.execution_id,
                    "index": index,
                    "actionId": definition["id"],
                    "actionType": definition["type"],
                    "action": dumps(definition),
                    "status": "pending",
                    "attempt": 0,
                    "updatedAt": now,
                }
            )
        self.table.put(
            {
                **self.key(keys.EXECUTION_SK),
                "type": "execution",
                "id": self.execution_id,
                "workspaceId": WS,
                "workflowId": WF,
                "status": "pending",
                "startedAt": now,
                "updatedAt": now,
                "version": 1,
                "totalSteps": len(self.kinds),
            }
        )

    def begin(self, index: int) -> None:
        now = self.tick()
        self.bump(status="running", updatedAt=now)
        self.table.update(
            self.key(keys.step_sk(index)), status="running", attempt=1, startedAt=now, updatedAt=now
        )

    def finish(self, index: int) -> None:
        started = self.table.get(self.key(keys.step_sk(index)))
        assert started is not None
        now = self.tick(self.durations[index])
        self.bump(updatedAt=now)
        self.table.update(
            self.key(keys.step_sk(index)),
            status="completed",
            completedAt=now,
            durationMs=clock.millis_between(started["startedAt"], now),
            updatedAt=now,
        )

    def end(self, status: str) -> None:
        now = self.tick()
        current = self.table.get(self.key(keys.EXECUTION_SK))
        assert current is not None
        duration = clock.millis_between(current["startedAt"], now)
        self.bump(status=status, completedAt=now, durationMs=duration, updatedAt=now)

    def complete(self) -> None:
        self.end("completed")

    def fail(self) -> None:
        index = len(self.kinds) - 1
        now = self.tick(self.durations[index])
        self.table.update(self.key(keys.step_sk(index)), status="failed", completedAt=now, updatedAt=now)
        self.end("failed")

    def cancel(self) -> None:
        index = len(self.kinds) - 1
        now = self.tick(5)
        self.table.update(self.key(keys.step_sk(index)), status="cancelled", completedAt=now, updatedAt=now)
        self.end("cancelled")


def build_run(
    plans: list[tuple[list[str], list[int], str]], interleaving: list[int]
) -> tuple[MemoryTable, list[Any]]:
    """The table and the operations of every execution, interleaved (each execution in its order)."""
    table = MemoryTable()
    shared_clock = [0]
    queues = [
        SimulatedExecution(table, f"exec_{number}", kinds, durations, ending, shared_clock).operations()
        for number, (kinds, durations, ending) in enumerate(plans)
    ]
    ordered = []
    for choice in interleaving:
        open_queues = [queue for queue in queues if queue]
        if not open_queues:
            break
        ordered.append(open_queues[choice % len(open_queues)].pop(0))
    ordered.extend(op for queue in queues for op in queue)
    return table, ordered


def stored_state(table: MemoryTable) -> dict[Any, Any]:
    """What a reader sees: each header's progress and duration, each action's statistics."""
    state: dict[Any, Any] = {}
    for (pk, sk), item in table.items.items():
        if sk == keys.EXECUTION_SK:
            # An absent progress reads as the empty one (codec.execution_from_record).
            state[pk] = (item.get("progress") or empty_progress(item["totalSteps"]), item.get("durationMs"))
        elif sk.startswith("STATS#"):
            state[sk] = {name: value for name, value in item.items() if name not in ("updatedAt",)}
    return state


def assert_same_state(actual: dict[Any, Any], expected: dict[Any, Any]) -> None:
    """Equal, except that ETAs agree within the updater's tolerance (what it treats as unchanged)."""
    assert actual.keys() == expected.keys()
    for name, value in expected.items():
        if name.startswith("STATS#"):
            assert actual[name] == value
        else:
            (progress, duration), (expected_progress, expected_duration) = actual[name], value
            assert duration == expected_duration
            assert same_progress(progress, expected_progress), (progress, expected_progress)


def deliver(store: MemoryStore, records: list[dict[str, Any]], now: datetime) -> list[Outcome]:
    updater = ProgressUpdater(store, now=lambda: now)
    return [updater.handle_raw(record) for record in records]


@st.composite
def plans_strategy(draw: st.DrawFn) -> list[tuple[list[str], list[int], str]]:
    """Executions of one workflow (same actions), each with its own step durations and ending."""
    kinds = draw(st.lists(st.sampled_from(["http", "delay"]), min_size=1, max_size=4))
    runs = draw(
        st.lists(
            st.tuples(
                st.lists(st.integers(0, 5000), min_size=4, max_size=4),
                st.sampled_from(["completed", "failed", "cancelled", "running"]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return [(kinds, durations, ending) for durations, ending in runs]


@settings(max_examples=150, deadline=None)
@given(
    plans=plans_strategy(),
    interleaving=st.lists(st.integers(0, 2), max_size=40),
    now_ms=st.integers(0, 60_000),
    data=st.data(),
)
def test_given_any_at_least_once_delivery_of_the_stream_when_processed_then_stored_state_is_the_same(
    plans: list[tuple[list[str], list[int], str]], interleaving: list[int], now_ms: int, data: st.DataObject
) -> None:
    now = T0 + timedelta(milliseconds=now_ms)

    # In order, each change's records delivered once, right after the change.
    ideal_table, ideal_ops = build_run(plans, interleaving)
    ideal = MemoryStore(ideal_table)
    for operation in ideal_ops:
        emitted = len(ideal_table.stream)
        operation()
        deliver(ideal, ideal_table.stream[emitted:], now)

    # Duplicated, reordered, replayed and late: any records emitted so far, in batches, any order.
    table, ops = build_run(plans, interleaving)
    store = MemoryStore(table)
    delivered: set[int] = set()
    for operation in ops:
        operation()
        picks = data.draw(st.lists(st.integers(0, len(table.stream) - 1), max_size=6))
        deliver(store, [table.stream[pick] for pick in picks], now)
        delivered.update(picks)
    # At least once: every record not delivered yet arrives eventually, in any order.
    late = data.draw(st.permutations([i for i in range(len(table.stream)) if i not in delivered]))
    deliver(store, [table.stream[index] for index in late], now)

    # An execution's ETA also uses statistics other executions teach; it picks them up at its next
    # record. One more pass over the stream gives every execution that record, in both worlds.
    deliver(ideal, list(ideal_table.stream), now)
    deliver(store, list(table.stream), now)
    assert_same_state(stored_state(table), stored_state(ideal_table))

    # And replaying the whole stream again, in any order, changes nothing at all.
    writes_before, items_before = store.progress_writes, copy.deepcopy(table.items)
    deliver(store, data.draw(st.permutations(table.stream)), now)
    assert store.progress_writes == writes_before
    assert table.items == items_before

    # Each completed attempt (delays too: their overhead is learned) is counted exactly once.
    completed: dict[str, int] = {}
    for (_, sk), item in table.items.items():
        if sk.startswith(keys.STEP_SK_PREFIX) and item["status"] == "completed":
            completed[item["actionId"]] = completed.get(item["actionId"], 0) + 1
    counted = {
        item["actionId"]: item["count"] for (_, sk), item in table.items.items() if sk.startswith("STATS#")
    }
    assert counted == completed


def test_given_an_execution_with_corrupt_data_when_processed_then_its_record_fails_alone() -> None:
    table, ops = build_run([(["http"], [100, 0, 0, 0], "completed")], [])
    for operation in ops:
        operation()
    table.put(
        {"pk": keys.execution_pk(WS, "exec_bad"), "sk": keys.EXECUTION_SK, "type": "execution", "id": "x"}
    )
    updater = ProgressUpdater(MemoryStore(table), now=lambda: T0)
    outcomes = []
    for record in list(table.stream):  # a snapshot: the updater's own writes append echoes
        try:
            outcomes.append(updater.handle_raw(record).value)
        except RuntimeError:
            outcomes.append("error")
    assert outcomes[-1] == "error"
    assert set(outcomes[:-1]) <= {"written", "skipped"}
    assert updater.writes == 1
    assert table.items[(keys.execution_pk(WS, "exec_0"), keys.EXECUTION_SK)]["progress"]["percentage"] == 100


def test_given_a_crash_between_the_statistics_write_and_the_step_mark_when_replayed_then_counted_once() -> (
    None
):
    table, ops = build_run([(["http", "http"], [300, 500, 0, 0], "completed")], [])
    for operation in ops:
        operation()
    store = MemoryStore(table)
    store.mark_step_folded = lambda step: False  # type: ignore[method-assign]  # the "crash"
    deliver(store, list(table.stream), T0)
    del store.mark_step_folded  # back to the real method
    deliver(store, list(table.stream), T0)
    deliver(store, list(table.stream), T0)

    stats = {sk: item for (_, sk), item in table.items.items() if sk.startswith("STATS#")}
    assert {sk: (item["count"], item["version"]) for sk, item in stats.items()} == {
        "STATS#a0": (1, 1),
        "STATS#a1": (1, 1),
    }
    steps = [item for (_, sk), item in table.items.items() if sk.startswith(keys.STEP_SK_PREFIX)]
    assert all(item[STATS_MARK] == 1 for item in steps)
