"""Folds each completed step's wall time into its action's statistics, from the table's stream.

A record is handled from its own image (a completed step carries the wall time the engine
computed), so nothing re-reads the execution: the cost per step is one statistics read per action
and batch, one conditional write, and one mark on the step. Duplicated, reordered or replayed
records change nothing: the statistics know the attempts they hold, and the mark is checked first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from execution_monitor import clock
from execution_monitor.domain.execution import StepState
from execution_monitor.domain.statistics import StepStats, definition_hash, sample_key
from execution_monitor.store.dynamodb.items import completed_step_from_image
from execution_monitor.store.interface import StatisticsStore, StoreContention

STATS_ATTEMPTS = 5
WorkflowRef = tuple[str, str]


def foldable(step: StepState) -> bool:
    """A completed attempt with a wall time that is not in the statistics yet."""
    return step.wall_ms is not None and step.stats_attempt < step.attempt


class StatisticsUpdater:
    """One per batch: caches each workflow's statistics read during the batch."""

    def __init__(self, store: StatisticsStore, now: Callable[[], datetime] = clock.now) -> None:
        self.store = store
        self.now = now
        self.folded = 0
        self._known: dict[WorkflowRef, dict[str, StepStats]] = {}
        self._loaded: dict[WorkflowRef, set[str]] = {}

    def handle(self, record: DynamoDBRecord) -> str:
        """Processes one record; raises when its step could not be folded (the record is retried)."""
        step = completed_step_from_image(record.dynamodb.new_image) if record.dynamodb else None
        if step is None or not foldable(step):
            return "skipped"
        return "folded" if self.fold(step) else "known"

    def _stats(self, workflow: WorkflowRef, action_id: str) -> StepStats:
        known = self._known.setdefault(workflow, {})
        loaded = self._loaded.setdefault(workflow, set())
        if action_id not in loaded:
            known.update(self.store.get_step_stats(*workflow, [action_id]))
            loaded.add(action_id)
        return known.get(action_id, StepStats())

    def fold(self, step: StepState) -> bool:
        """Folds the step's attempt in; True when it was not in the statistics yet."""
        workflow = (step.workspace_id, step.workflow_id)
        action_hash = definition_hash(step.action)
        key = sample_key(step.execution_id, step.index, step.attempt)
        assert step.wall_ms is not None
        assert step.completed_at is not None
        for _ in range(STATS_ATTEMPTS):
            before = self._stats(workflow, step.action_id)
            after = before.add(step.completed_at, step.wall_ms, action_hash, key)
            if after == before:
                added = False  # already in (only the mark was missing), or an outdated definition
                break
            if self.store.put_step_stats(*workflow, step.action_id, before, after):
                self._known[workflow][step.action_id] = replace(after, version=before.version + 1)
                self.folded += 1
                added = True
                break
            # Another writer updated this action's statistics: read them again and fold again.
            self._loaded[workflow].discard(step.action_id)
        else:
            raise StoreContention(f"statistics of {step.action_id} kept changing; the record will be retried")
        self.store.mark_step_folded(step)
        return added
