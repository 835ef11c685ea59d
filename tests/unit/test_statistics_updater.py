"""The statistics updater against an in-memory store: the stream as Lambda delivers it (at least
once, in any order, in any batches) always leaves the same statistics, each attempt counted once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from execution_monitor import clock
from execution_monitor.domain.execution import StepState
from execution_monitor.domain.statistics import StepStats
from execution_monitor.domain.status import StepStatus
from execution_monitor.statistics_updater import StatisticsUpdater
from execution_monitor.store.dynamodb import items
from tests.domain_builders import T0, at, http

ACTIONS = [http(f"a{index}") for index in range(3)]


class MemoryStatistics:
    """StatisticsStore in memory, with the DynamoDB adapter's conditions."""

    def __init__(self) -> None:
        self.stats: dict[str, StepStats] = {}
        self.marks: dict[tuple[str, int], int] = {}
        self.writes = 0

    def get_step_stats(self, workspace_id: str, workflow_id: str, action_ids: Any) -> dict[str, StepStats]:
        return {action_id: self.stats[action_id] for action_id in action_ids if action_id in self.stats}

    def put_step_stats(
        self, workspace_id: str, workflow_id: str, action_id: str, before: StepStats, after: StepStats
    ) -> bool:
        if self.stats.get(action_id, StepStats()).version != before.version:
            return False
        self.stats[action_id] = replace(after, version=before.version + 1)
        self.writes += 1
        return True

    def mark_step_folded(self, step: StepState) -> bool:
        self.marks[(step.execution_id, step.index)] = step.attempt
        return True


def completed(execution: int, index: int, wall: int) -> StepState:
    return StepState(
        workspace_id="ws1",
        workflow_id="wf1",
        execution_id=f"exec_{execution}",
        index=index,
        action=ACTIONS[index],
        status=StepStatus.COMPLETED,
        attempt=1,
        started_at=clock.iso(at(execution * 10_000)),
        completed_at=clock.iso(at(execution * 10_000 + wall)),
        duration_ms=wall,
        wall_ms=wall,
    )


def record(step: StepState, sequence: int) -> DynamoDBRecord:
    image = {
        name: TypeSerializer().serialize(value)
        for name, value in items.step_item(step, clock.iso(T0)).items()
        if value is not None
    }
    return DynamoDBRecord(
        {"eventName": "MODIFY", "dynamodb": {"NewImage": image, "SequenceNumber": str(sequence)}}
    )


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[DynamoDBRecord], list[list[DynamoDBRecord]]]:
    """The records of a plan, and a delivery of them: each at least once, any order, any batches."""
    count = draw(st.integers(1, 12))
    walls = draw(st.lists(st.integers(0, 5000), min_size=count, max_size=count))
    records = [record(completed(n, n % len(ACTIONS), wall), n) for n, wall in enumerate(walls)]
    repeated = records + draw(st.lists(st.sampled_from(records), max_size=2 * count))
    shuffled = draw(st.permutations(repeated))
    cuts = sorted(draw(st.lists(st.integers(0, len(shuffled)), max_size=4)))
    batches = [shuffled[start:end] for start, end in zip([0, *cuts], [*cuts, len(shuffled)], strict=True)]
    return records, [batch for batch in batches if batch]


def fold(batches: list[list[DynamoDBRecord]]) -> MemoryStatistics:
    store = MemoryStatistics()
    for batch in batches:
        updater = StatisticsUpdater(store)  # one per invocation, as the handler makes it
        for item in batch:
            updater.handle(item)
    return store


@settings(max_examples=150, deadline=None)
@given(delivery=deliveries())
def test_given_any_at_least_once_delivery_of_the_stream_then_the_statistics_are_the_same(
    delivery: tuple[list[DynamoDBRecord], list[list[DynamoDBRecord]]],
) -> None:
    records, batches = delivery

    expected = fold([records])
    actual = fold(batches)

    assert {key: replace(stats, version=0) for key, stats in actual.stats.items()} == {
        key: replace(stats, version=0) for key, stats in expected.stats.items()
    }
    assert sum(stats.count for stats in actual.stats.values()) == len(records)
    assert actual.marks == expected.marks


def test_given_a_step_that_is_not_completed_or_already_folded_then_it_is_skipped() -> None:
    store = MemoryStatistics()
    updater = StatisticsUpdater(store)
    running = replace(completed(1, 0, 100), status=StepStatus.RUNNING, completed_at=None, wall_ms=None)
    folded = replace(completed(2, 0, 100), stats_attempt=1)

    assert [updater.handle(record(step, n)) for n, step in enumerate([running, folded])] == ["skipped"] * 2
    assert store.writes == 0
