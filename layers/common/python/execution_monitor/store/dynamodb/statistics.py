"""Per-action step statistics in the single table (one small item per workflow action).

One item per action rather than one per workflow: a workflow may have 1,000 actions, and a map of
1,000 windows would approach DynamoDB's 400 KB item limit and make every action contend on one
item's version. Each item is replaced whole under a condition on its `version` (never an ADD
counter). A completed attempt is folded in once: the statistics keep the keys of their recent
attempts (a replay is recognised there), and afterwards the step is marked (`statsAttempt`), so a
replay, however old, finds the mark and does not read the statistics at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from execution_monitor import clock
from execution_monitor.domain.execution import StepState
from execution_monitor.domain.statistics import StepStats
from execution_monitor.domain.status import StepStatus
from execution_monitor.store.dynamodb import items
from execution_monitor.store.dynamodb.executions import BATCH_ATTEMPTS, BATCH_GET_LIMIT
from execution_monitor.store.dynamodb.expressions import Equals, Missing, Put, Update, key_attrs
from execution_monitor.store.dynamodb.writer import Writer
from execution_monitor.store.interface import StoreContention


class StatisticsTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.writer = Writer(client, table)

    def get_step_stats(
        self, workspace_id: str, workflow_id: str, action_ids: Iterable[str]
    ) -> dict[str, StepStats]:
        """Statistics per action id (strongly consistent); actions never seen are left out."""
        wanted = sorted(set(action_ids))
        found: dict[str, StepStats] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request_keys = [
                key_attrs(items.stats_key(workspace_id, workflow_id, action_id))
                for action_id in wanted[start : start + BATCH_GET_LIMIT]
            ]
            pending: dict[str, Any] = {self.table: {"Keys": request_keys, "ConsistentRead": True}}
            for _ in range(BATCH_ATTEMPTS):
                page = self.client.batch_get_item(RequestItems=pending)
                for raw in page.get("Responses", {}).get(self.table, []):
                    record = items.from_item(raw)
                    found[record["actionId"]] = items.stats_from_item(record)
                pending = page.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise StoreContention("could not read the step statistics")
        return found

    def put_step_stats(
        self, workspace_id: str, workflow_id: str, action_id: str, before: StepStats, after: StepStats
    ) -> bool:
        """Replaces the action's statistics with `after` if they are still `before`'s version."""
        condition = Missing("pk") if before.version == 0 else Equals("version", before.version)
        stored = items.stats_item(workspace_id, workflow_id, action_id, after, clock.iso(clock.now()))
        put = Put({**stored, "version": before.version + 1}, condition)
        return self.writer.commit([put], guard=put.key)

    def mark_step_folded(self, step: StepState) -> bool:
        """Records on the step that its attempt is in the statistics (False: the step moved on)."""
        update = Update(
            items.step_key(step.workspace_id, step.execution_id, step.index),
            {items.STATS_MARK: step.attempt},
            Equals("status", StepStatus.COMPLETED.value) & Equals("attempt", step.attempt),
        )
        return self.writer.commit([update], guard=update.key)
