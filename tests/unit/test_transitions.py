"""The domain's transitions: what each change of an execution leaves behind (pure, no AWS)."""

from __future__ import annotations

from execution_monitor import clock
from execution_monitor.domain import transitions
from execution_monitor.domain.execution import Run, retryable_step
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from tests.domain_builders import Driven, at, delay, http


def test_given_a_step_begun_then_the_execution_runs_it_and_moves_its_version() -> None:
    run = Driven([http("a"), http("b")])
    before = run.execution

    run.begin(0, 10)

    assert run.execution.status is ExecutionStatus.RUNNING and run.execution.version == before.version + 1
    assert (run.steps[0].status, run.steps[0].attempt, run.steps[0].run_id) == (
        StepStatus.RUNNING,
        1,
        "exec_1-1",
    )
    assert run.execution.running_step == 0


def test_given_an_attempt_that_will_be_retried_then_the_step_stays_running_with_the_attempt_in_history() -> (
    None
):
    run = Driven([http("a")])
    run.begin(0, 0)

    run.apply(transitions.retry_later(run.execution, run.steps[0], "HTTP 500", 1, at(200)))

    step = run.steps[0]
    assert step.status is StepStatus.RUNNING and step.error == "HTTP 500"
    assert [(past.attempt, past.status, past.duration_ms) for past in step.history] == [
        (1, StepStatus.FAILED, 200)
    ]
    assert run.execution.status is ExecutionStatus.RUNNING


def test_given_the_last_attempt_failed_then_the_execution_fails_with_the_steps_error() -> None:
    run = Driven([http("a"), http("b")])
    run.begin(0, 0)

    run.apply(transitions.fail_step(run.execution, run.steps[0], "HTTP 500", at(200)))

    assert run.execution.status is ExecutionStatus.FAILED and run.execution.error == "a: HTTP 500"
    assert (run.execution.duration_ms, run.execution.completed_at) == (200, clock.iso(at(200)))
    assert (run.execution.progress.failed_steps, run.execution.running_step) == (1, None)


def test_given_a_cancel_during_a_step_then_the_step_is_cancelled_and_only_it_may_be_retried() -> None:
    run = Driven([http("a"), http("b")])
    run.begin(0, 0)

    run.apply(transitions.cancel(run.execution, run.steps[0], at(300)))

    assert run.execution.status is ExecutionStatus.CANCELLED
    assert (run.steps[0].status, run.steps[0].duration_ms) == (StepStatus.CANCELLED, 300)
    assert [retryable_step(run.execution, run.steps, step) for step in run.steps] == [True, False]


def test_given_cancel_retry_step_cancel_before_the_run_began_retry_step_then_no_phantom_attempt() -> None:
    """Issue: cancel during a step, retry-step, cancel before the new run starts the step, retry-step
    again: the history listed attempt 1 twice."""
    run = Driven([delay("pause", 5), http("b")])
    run.begin(0, 0)
    run.apply(transitions.cancel(run.execution, run.steps[0], at(100)))
    second = Run("exec_1-2", 0, clock.iso(at(200)), "arn")
    run.apply(transitions.restart_from_step(run.execution, run.steps[0], second, at(200)))
    run.apply(transitions.cancel(run.execution, None, at(300)))  # the new run had not begun the step
    third = Run("exec_1-3", 0, clock.iso(at(400)), "arn")
    run.apply(transitions.restart_from_step(run.execution, run.steps[0], third, at(400)))
    run.apply(transitions.begin_step(run.execution, run.steps[0], "exec_1-3", at(450)))

    assert [(past.attempt, past.status) for past in run.steps[0].history] == [(1, StepStatus.CANCELLED)]
    assert run.steps[0].attempt == 2
    assert [r.run_id for r in run.execution.runs] == ["exec_1-1", "exec_1-2", "exec_1-3"]


def test_given_a_failed_step_retried_then_the_execution_runs_again_and_nothing_reads_failed() -> None:
    run = Driven([http("a"), http("b")])
    run.run_step(0, 0, 100)
    run.begin(1, 100)
    run.apply(transitions.fail_step(run.execution, run.steps[1], "boom", at(200)))
    before = run.execution

    retry = Run("exec_1-2", 1, clock.iso(at(1000)), "arn")
    run.apply(transitions.restart_from_step(run.execution, run.steps[1], retry, at(1000)))

    execution = run.execution
    assert execution.status is ExecutionStatus.RUNNING and execution.current_run_id == "exec_1-2"
    assert (execution.error, execution.completed_at, execution.duration_ms) == (None, None, None)
    assert (execution.progress.completed_steps, execution.progress.failed_steps) == (1, 0)
    assert execution.version == before.version + 1
    assert run.steps[1].status is StepStatus.PENDING and run.steps[1].history[0].error == "boom"


def test_given_the_engine_fails_under_a_running_step_then_that_step_counts_as_failed() -> None:
    run = Driven([http("a"), http("b")])
    run.begin(0, 0)

    run.apply(transitions.end_execution(run.execution, ExecutionStatus.FAILED, at(50), "run timed out"))

    assert (run.execution.progress.failed_steps, run.execution.error) == (1, "run timed out")


def test_given_a_finished_execution_then_its_last_transition_carries_everything_it_will_show() -> None:
    """Nothing writes a finished execution afterwards (no progress write follows the end): the
    terminal transition itself holds the final counts, no ETA and the duration."""
    run = Driven([http("a")])
    run.run_step(0, 0, 100)

    run.apply(transitions.end_execution(run.execution, ExecutionStatus.COMPLETED, at(150)))

    progress = run.execution.progress
    assert (progress.completed_steps, progress.percentage, progress.estimated_time_remaining_ms) == (
        1,
        100,
        None,
    )
    assert run.execution.duration_ms == 150


def test_given_params_that_reference_earlier_steps_then_the_step_depends_on_exactly_those() -> None:
    from execution_monitor.actions.definitions import HttpRequestAction

    later = HttpRequestAction.model_validate(
        {
            "id": "c",
            "type": "http_request",
            "params": {"url": "https://x.example/{{steps.a.output.id}}", "body": {"b": "{{steps.b.output}}"}},
        }
    )
    future = HttpRequestAction.model_validate(
        {"id": "d", "type": "http_request", "params": {"url": "https://x.example/{{steps.e.output}}"}}
    )
    run = Driven([http("a"), http("b"), later, future, http("e")])

    assert [step.depends_on for step in run.steps] == [(), (), (0, 1), (), ()]
