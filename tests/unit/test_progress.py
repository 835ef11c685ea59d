"""Progress, ETA and step statistics as pure logic, on a fake clock (docs/eta.md).

Progress moves with each transition in O(1): these tests drive executions through the domain's
transitions at chosen instants and check what every transition leaves in the execution's progress.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execution_monitor import clock
from execution_monitor.actions.definitions import (
    ActionDefinition,
    HttpRequestAction,
)
from execution_monitor.domain import progress, transitions
from execution_monitor.domain.execution import ExecutionState, Progress, Run, StepState, counted_progress
from execution_monitor.domain.statistics import WINDOW, StepStats, definition_hash, quantile, trimmed_mean
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.store.dynamodb import items
from tests.domain_builders import T0, Driven, at, delay, http, learned

# -- counts and percentage ------------------------------------------------------------------------


@given(total=st.integers(1, 1000), data=st.data())
def test_given_any_counts_when_percentage_then_floor_and_100_only_when_all_completed(
    total: int, data: st.DataObject
) -> None:
    completed = data.draw(st.integers(0, total))
    value = Progress.of_counts(completed, 0, total).percentage
    assert value == (100 * completed) // total
    assert (value == 100) == (completed == total)


def test_given_steps_completing_then_each_transition_counts_exactly() -> None:
    run = Driven([http("a"), http("b"), http("c")])
    assert run.begin(0, 0).completed_steps == 0
    assert (run.complete(0, 100).completed_steps, run.execution.progress.percentage) == (1, 33)
    run.run_step(1, 100, 200)
    assert run.run_step(2, 200, 300).percentage == 100


def test_given_a_failed_execution_when_counted_then_pending_are_skipped_and_running_is_failed() -> None:
    run = Driven([http("a"), http("b"), http("c")])
    run.run_step(0, 0, 100)
    run.begin(1, 100)
    failed = transitions.end_execution(run.execution, ExecutionStatus.FAILED, at(200), "the engine failed")
    run.apply(failed)

    shown = counted_progress(run.execution, run.steps)

    assert (shown.completed_steps, shown.failed_steps) == (1, 1)
    assert run.execution.progress == replace(
        shown, estimated_time_remaining_ms=None, estimated_completion_at=None
    )


# -- the estimate -------------------------------------------------------------------------------


def test_given_workflow_statistics_when_created_then_the_eta_is_the_sum_of_typical_wall_times() -> None:
    actions = [http("a"), http("b"), http("c")]
    run = Driven(
        actions,
        {"a": learned(actions[0], 1000), "b": learned(actions[1], 2000), "c": learned(actions[2], 500)},
    )
    assert run.execution.progress.estimated_time_remaining_ms == 3500
    assert run.execution.progress.estimated_completion_at == clock.iso(at(3500))


def test_given_a_running_step_then_remaining_is_the_rest_of_it_plus_the_typicals_after_it() -> None:
    actions = [http("a"), http("b")]
    run = Driven(actions, {"a": learned(actions[0], 1000), "b": learned(actions[1], 2000)})
    # The step began 300 ms after it became due (scheduling): that time is part of its wall time.
    assert run.begin(0, 300).estimated_time_remaining_ms == 700 + 2000


def test_given_an_overdue_running_step_when_estimating_then_it_contributes_nothing_not_a_negative() -> None:
    actions = [http("a"), http("b")]
    run = Driven(actions, {"a": learned(actions[0], 1000), "b": learned(actions[1], 2000)})
    run.begin(0, 0)
    assert progress.estimate(run.execution, run.steps[0], at(5000)).estimated_time_remaining_ms == 2000


def test_given_a_delay_step_then_its_configured_seconds_are_its_duration_and_never_less() -> None:
    quick, slow = delay("quick", 2), delay("slow", 2)
    assert Driven([quick]).execution.progress.estimated_time_remaining_ms == 2000
    stats = {"quick": learned(quick, 1500), "slow": learned(slow, 2600)}
    assert Driven([quick, slow], stats).execution.progress.estimated_time_remaining_ms == 2000 + 2600


def test_given_no_statistics_then_the_eta_is_unknown_until_the_execution_has_its_own_mean() -> None:
    run = Driven([http("a"), delay("pause", 1), http("b"), http("c")])
    assert run.execution.progress.estimated_time_remaining_ms is None
    after_first = run.run_step(0, 0, 400)
    assert after_first.estimated_time_remaining_ms == 1000 + 400 + 400  # the delay's second, then the mean
    run.run_step(1, 400, 1400)  # a delay says nothing about the other steps' durations
    assert run.run_step(2, 1400, 2000).estimated_time_remaining_ms == 500  # mean of 400 and 600


def test_given_statistics_of_a_changed_action_definition_then_they_are_not_used() -> None:
    old = http("a")
    changed = HttpRequestAction.model_validate(
        {"id": "a", "type": "http_request", "params": {"url": "https://example.com/v2"}}
    )
    assert progress.expected_ms(changed, learned(old, 1000)) is None
    assert progress.expected_ms(old, learned(old, 1000)) == 1000


@pytest.mark.parametrize("end", ["complete", "fail", "cancel"])
def test_given_a_terminal_execution_then_there_is_no_eta(end: str) -> None:
    actions = [http("a"), http("b")]
    run = Driven(actions, {"a": learned(actions[0], 1000), "b": learned(actions[1], 1000)})
    run.begin(0, 0)
    if end == "complete":
        run.complete(0, 900)
        run.run_step(1, 900, 1800)
        final = run.apply(transitions.end_execution(run.execution, ExecutionStatus.COMPLETED, at(1800)))
    elif end == "fail":
        final = run.apply(transitions.fail_step(run.execution, run.steps[0], "boom", at(500)))
    else:
        final = run.apply(transitions.cancel(run.execution, run.steps[0], at(500)))
    assert (final.estimated_time_remaining_ms, final.estimated_completion_at) == (None, None)


@given(elapsed=st.integers(0, 10_000), later=st.integers(0, 10_000))
def test_given_a_running_step_when_time_passes_then_remaining_never_grows_and_completion_time_holds(
    elapsed: int, later: int
) -> None:
    actions = [http("a"), http("b")]
    run = Driven(actions, {"a": learned(actions[0], 5000), "b": learned(actions[1], 3000)})
    run.begin(0, 0)
    first = progress.estimate(run.execution, run.steps[0], at(elapsed))
    second = progress.estimate(run.execution, run.steps[0], at(elapsed + later))
    assert second.estimated_time_remaining_ms is not None and first.estimated_time_remaining_ms is not None
    assert second.estimated_time_remaining_ms <= first.estimated_time_remaining_ms
    if elapsed + later <= 5000:  # on schedule: the instant it completes does not move
        assert second.estimated_completion_at == first.estimated_completion_at


def test_given_a_gap_before_a_step_when_its_wall_time_is_taken_then_the_engines_overhead_is_included() -> (
    None
):
    run = Driven([http("a"), http("b")])
    run.run_step(0, 0, 1000)
    run.begin(1, 1250)  # 250 ms of scheduling before it started
    run.complete(1, 2000)
    assert (run.steps[0].wall_ms, run.steps[1].wall_ms, run.steps[1].duration_ms) == (1000, 1000, 750)


def test_given_a_retry_step_run_when_its_first_step_is_timed_then_the_new_run_start_is_the_anchor() -> None:
    run = Driven([http("a"), http("b")])
    run.run_step(0, 0, 100)
    run.begin(1, 100)
    run.apply(transitions.fail_step(run.execution, run.steps[1], "boom", at(300)))
    retry = Run("exec_1-2", 1, clock.iso(at(60_000)), "arn")
    run.apply(transitions.restart_from_step(run.execution, run.steps[1], retry, at(60_000)))
    run.apply(transitions.begin_step(run.execution, run.steps[1], "exec_1-2", at(60_050)))
    run.apply(transitions.complete_step(run.execution, run.steps[1], {}, at(60_400)))
    assert run.steps[1].wall_ms == 400


@settings(max_examples=50, deadline=None)
@given(
    walls=st.lists(st.integers(100, 5000), min_size=2, max_size=8),
    jitter=st.lists(st.floats(-0.1, 0.1), min_size=8, max_size=8),
)
def test_given_a_second_run_within_ten_percent_of_the_first_then_every_eta_is_within_ten_percent(
    walls: list[int], jitter: list[float]
) -> None:
    """Accuracy on a fake clock: the first run's wall times become the statistics; the second run's
    steps each take within 10% of them; every ETA it shows is then off by at most 10% of the
    expected wall time of the steps not completed yet (plus the clock's millisecond rounding)."""
    actions: list[ActionDefinition] = [http(f"s{index}") for index in range(len(walls))]
    stats = {action.id: learned(action, wall) for action, wall in zip(actions, walls, strict=True)}
    run = Driven(actions, stats)
    real = [wall * (1 + jitter[index]) for index, wall in enumerate(walls)]
    samples = [(0.0, run.execution.progress, sum(walls))]
    now = 0.0
    for index, wall in enumerate(real):
        open_walls = sum(walls[index:])
        samples.append((now + wall * 0.2, run.begin(index, now + wall * 0.2), open_walls))
        now += wall
        samples.append((now, run.complete(index, now), open_walls - walls[index]))
    for moment, shown, open_walls in samples[:-1]:
        assert shown.estimated_time_remaining_ms is not None
        assert abs(shown.estimated_time_remaining_ms - (now - moment)) <= 0.1 * open_walls + 2


# -- statistics ---------------------------------------------------------------------------------


def stats_of(*durations: int) -> StepStats:
    return learned(http("a1"), *durations)


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
    action_hash = definition_hash(http("a1"))

    def fold(order: list[tuple[int, int]]) -> StepStats:
        stats = StepStats()
        for completed, duration in order:
            stats = stats.add(clock.iso(at(completed)), duration, action_hash, f"exec_{completed}#1#1")
        return stats

    assert fold(samples) == fold(shuffled)
    assert len(fold(samples).recent) == min(WINDOW, len(samples))


def test_given_a_newer_attempt_of_a_changed_definition_when_folded_then_statistics_start_over() -> None:
    old = stats_of(1000, 1000)
    changed = old.add(clock.iso(at(10)), 50, "another-definition", "e9#1#1")
    assert (changed.count, changed.typical_ms, changed.definition_hash) == (1, 50, "another-definition")
    assert old.add(clock.iso(at(-10)), 50, "another-definition", "e8#1#1") == old  # an older one is ignored


def test_given_an_attempt_already_in_the_statistics_when_folded_again_then_nothing_changes() -> None:
    once = stats_of(100, 200)
    assert once.add(clock.iso(at(5)), 999, definition_hash(http("a1")), "e1#0#1") == once
    assert once.has_sample("e0#0#1") and not once.has_sample("e7#1#1")


def test_given_statistics_when_stored_and_read_back_then_they_are_equal() -> None:
    stats = replace(stats_of(120, 80, 95), version=4)
    item = items.stats_item("ws1", "wf1", "a1", stats, clock.iso(T0))
    assert items.stats_from_item(item) == stats


def test_given_a_step_with_history_when_stored_and_read_back_then_it_is_the_same_state() -> None:
    run = Driven([http("a"), delay("b", 1)])
    run.begin(0, 0)
    run.apply(transitions.retry_later(run.execution, run.steps[0], "HTTP 500", 1, at(100)))
    run.begin(0, 1100)
    run.complete(0, 1200)
    step: StepState = run.steps[0]
    assert items.step_from_item(items.step_item(step, clock.iso(T0))) == step
    execution: ExecutionState = run.execution
    assert items.execution_from_item(items.header_item(execution)) == execution
    assert step.status is StepStatus.COMPLETED and [past.attempt for past in step.history] == [1]
