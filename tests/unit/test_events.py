"""Events out, as pure logic and against in-memory stores: which changes are events, that each is
published exactly once whatever the stream delivery, and that deliveries are signed per Standard
Webhooks (checked with its reference implementation)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook as Verifier

from execution_monitor import clock
from execution_monitor.domain import transitions
from execution_monitor.domain.events import EventKind, EventRef, RecordedEvent, execution_events, step_events
from execution_monitor.domain.execution import ExecutionState, Run, StepState
from execution_monitor.domain.status import ExecutionStatus
from execution_monitor.domain.workflow import LastExecution, Webhook, Workflow
from execution_monitor.notifications import sign
from execution_monitor.store.dynamodb import items
from execution_monitor.store.dynamodb.workflows import new_webhook_secret
from execution_monitor.stream_consumer import StreamConsumer
from tests.domain_builders import Driven, at, http
from tests.unit.test_statistics_updater import MemoryStatistics

# -- which changes are events ------------------------------------------------------------------


def test_given_an_execution_ending_then_one_event_of_its_status_and_a_replay_names_the_same_one() -> None:
    run = Driven([http("a")])
    run.begin(0, 0)
    before = run.execution
    run.apply(transitions.fail_step(run.execution, run.steps[0], "boom", at(100)))

    (event,) = execution_events(before, run.execution)

    assert (event.kind, event.execution_id, event.occurred_at) == (
        EventKind.EXECUTION_FAILED,
        "exec_1",
        clock.iso(at(100)),
    )
    assert execution_events(before, run.execution) == [event]  # the same record again: the same id
    assert execution_events(run.execution, run.execution) == []  # no status change: no event
    assert EventKind.EXECUTION_FAILED.detail_type == "Execution Failed"


def test_given_a_retried_run_that_fails_again_then_its_end_is_another_event() -> None:
    run = Driven([http("a")])
    run.begin(0, 0)
    first_before = run.execution
    run.apply(transitions.fail_step(run.execution, run.steps[0], "boom", at(100)))
    (first,) = execution_events(first_before, run.execution)
    run.apply(
        transitions.restart_from_step(
            run.execution, run.steps[0], Run("exec_1-2", 0, clock.iso(at(200)), "arn"), at(200)
        )
    )
    run.apply(transitions.begin_step(run.execution, run.steps[0], "exec_1-2", at(210)))
    second_before = run.execution
    run.apply(transitions.fail_step(run.execution, run.steps[0], "boom", at(300)))

    (second,) = execution_events(second_before, run.execution)

    assert second.id != first.id and second.kind is EventKind.EXECUTION_FAILED


def test_given_a_step_failing_for_good_then_a_step_event_but_not_for_an_attempt_that_will_be_retried() -> (
    None
):
    run = Driven([http("a")])
    run.begin(0, 0)
    running = run.steps[0]
    retried = transitions.retry_later(run.execution, running, "HTTP 500", 1, at(100))
    failed = transitions.fail_step(run.execution, running, "HTTP 500", at(100))

    assert step_events(running, retried.step) == []  # type: ignore[arg-type]
    (event,) = step_events(running, failed.step)  # type: ignore[arg-type]
    assert (event.kind, event.action_id) == (EventKind.STEP_FAILED, "a")


def test_given_a_stall_flagged_then_one_event_and_none_while_it_stays_flagged() -> None:
    run = Driven([http("a")])
    run.begin(0, 0)
    before = run.execution
    run.apply(transitions.mark_stalled(run.execution, run.steps[0], at(60_000)))

    (event,) = execution_events(before, run.execution)
    assert (event.kind, event.action_id) == (EventKind.EXECUTION_STALLED, "a")
    assert execution_events(run.execution, replace(run.execution, version=run.execution.version + 1)) == []
    assert run.execution.stalled is not None and run.execution.stalled.running_for_ms == 60_000


# -- signatures --------------------------------------------------------------------------------


def test_given_a_signed_delivery_then_the_standard_webhooks_reference_implementation_verifies_it() -> None:
    secret = new_webhook_secret()
    body = json.dumps({"type": "execution.completed", "timestamp": "t", "data": {"n": 1}})
    timestamp = int(clock.now().timestamp())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "evt_1", timestamp, body),
    }

    assert Verifier(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(Exception, match="signature"):
        Verifier(new_webhook_secret()).verify(body, headers)


# -- exactly once, whatever the delivery --------------------------------------------------------


class MemoryWorld:
    """Every store the consumer uses, in memory, with the adapter's conditions."""

    def __init__(self, execution: ExecutionState, steps: list[StepState]) -> None:
        self.execution, self.steps = execution, steps
        self.events: dict[str, RecordedEvent] = {}
        self.published: list[str] = []
        self.last: LastExecution | None = None
        self.statistics = MemoryStatistics()

    # ExecutionReader
    def get_execution(self, workspace_id: str, execution_id: str) -> tuple[ExecutionState, list[StepState]]:
        return self.execution, self.steps

    # WorkflowStore (the parts the consumer uses)
    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow:
        hook = Webhook("https://hooks.example.com/x", frozenset(EventKind))
        return Workflow(workspace_id, workflow_id, "w", None, (), 1, "c", "u", (hook,))

    def record_last_execution(self, workspace_id: str, workflow_id: str, last: LastExecution) -> bool:
        if self.last is None or (self.last.started_at, self.last.id, self.last.version) < (
            last.started_at,
            last.id,
            last.version,
        ):
            self.last = last
            return True
        return False

    # EventStore
    def get_event(self, ref: EventRef) -> RecordedEvent | None:
        return self.events.get(ref.id)

    def record_event(self, ref: EventRef, payload: str, webhook_urls: list[str]) -> bool:
        if ref.id in self.events:
            return False
        from execution_monitor.domain.events import Delivery

        self.events[ref.id] = RecordedEvent(
            ref, payload, False, tuple(Delivery(url, "pending") for url in webhook_urls)
        )
        return True

    def mark_published(self, ref: EventRef) -> None:
        self.events[ref.id] = replace(self.events[ref.id], published=True)

    # EventPublisher
    def publish(self, event: RecordedEvent) -> None:
        self.published.append(event.ref.id)


def image(item: dict[str, Any]) -> dict[str, Any]:
    return {name: TypeSerializer().serialize(value) for name, value in item.items() if value is not None}


def records_of(run: Driven, script: list[transitions.Transition]) -> list[DynamoDBRecord]:
    """The stream records the transitions make: the header's change and the step's, in order."""
    records = []
    for transition in script:
        before, after = transition.execution_before, transition.execution
        records.append(
            DynamoDBRecord(
                {
                    "eventName": "MODIFY",
                    "dynamodb": {
                        "OldImage": image(items.header_item(before)),
                        "NewImage": image(items.header_item(after)),
                    },
                }
            )
        )
        if transition.step is not None and transition.step_before is not None:
            stamp = after.updated_at
            records.append(
                DynamoDBRecord(
                    {
                        "eventName": "MODIFY",
                        "dynamodb": {
                            "OldImage": image(items.step_item(transition.step_before, stamp)),
                            "NewImage": image(items.step_item(transition.step, stamp)),
                        },
                    }
                )
            )
    return records


def scripted_run(ending: str) -> tuple[Driven, list[transitions.Transition]]:
    run = Driven([http("a"), http("b")])
    script: list[transitions.Transition] = []

    def step(transition: transitions.Transition) -> None:
        script.append(transition)
        run.apply(transition)

    step(transitions.begin_step(run.execution, run.steps[0], "exec_1-1", at(0)))
    step(transitions.mark_stalled(run.execution, run.steps[0], at(50_000)))
    step(transitions.complete_step(run.execution, run.steps[0], {}, at(60_000)))
    step(transitions.begin_step(run.execution, run.steps[1], "exec_1-1", at(60_010)))
    if ending == "fail":
        step(transitions.fail_step(run.execution, run.steps[1], "boom", at(60_100)))
    elif ending == "cancel":
        step(transitions.cancel(run.execution, run.steps[1], at(60_100)))
    else:
        step(transitions.complete_step(run.execution, run.steps[1], {}, at(60_100)))
        step(transitions.end_execution(run.execution, ExecutionStatus.COMPLETED, at(60_120)))
    return run, script


EXPECTED = {
    "fail": {EventKind.EXECUTION_STALLED, EventKind.STEP_FAILED, EventKind.EXECUTION_FAILED},
    "cancel": {EventKind.EXECUTION_STALLED, EventKind.EXECUTION_CANCELLED},
    "complete": {EventKind.EXECUTION_STALLED, EventKind.EXECUTION_COMPLETED},
}


@settings(max_examples=100, deadline=None)
@given(ending=st.sampled_from(sorted(EXPECTED)), data=st.data())
def test_given_any_at_least_once_delivery_of_the_stream_then_each_event_is_published_exactly_once(
    ending: str, data: st.DataObject
) -> None:
    run, script = scripted_run(ending)
    records = records_of(run, script)
    delivery = data.draw(
        st.permutations(records + data.draw(st.lists(st.sampled_from(records), max_size=len(records))))
    )
    world = MemoryWorld(run.execution, run.steps)
    consumer = StreamConsumer(
        statistics=world.statistics,
        workflows=world,
        executions=world,
        events_store=world,
        publisher=world,
    )

    for record in delivery:
        consumer.handle(record)

    assert len(world.published) == len(set(world.published))
    assert {world.events[event_id].ref.kind for event_id in world.published} == EXPECTED[ending]
    assert all(event.published for event in world.events.values())
    assert world.last is not None and world.last.status is run.execution.status  # never steps back
    assert sum(stats.count for stats in world.statistics.stats.values()) == (2 if ending == "complete" else 1)


def test_given_a_failing_run_consumed_twice_then_its_metrics_count_each_event_once_by_action_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Counts come from events, which are recorded once: a replayed stream counts nothing again."""
    from execution_monitor.observability import flush

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    run, script = scripted_run("fail")
    world = MemoryWorld(run.execution, run.steps)
    records = records_of(run, script)
    for _ in range(2):
        consumer = StreamConsumer(
            statistics=world.statistics,
            workflows=world,
            executions=world,
            events_store=world,
            publisher=world,
        )
        for record in records:
            consumer.handle(record)
        flush()

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emitted = [
        (metric["Name"], document.get("ActionType"), document[metric["Name"]])
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        if metric["Name"] != "StreamLag"
    ]
    names = sorted((name, action_type) for name, action_type, _ in emitted)
    assert names == [
        ("ExecutionsFailed", None),
        ("StallsFlagged", None),
        ("StepDuration", "http_request"),
        ("StepFailures", "http_request"),
    ]
    assert all(document["service"] for document in documents)
