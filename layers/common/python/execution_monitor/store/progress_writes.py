"""The progress updater's reads and writes, mixed into the DynamoDB store.

  step statistics     pk=WS#<ws>#WF#<wf>   sk=STATS#<actionId>   (one small item per workflow action)

One item per action rather than one per workflow: a workflow may have 1,000 actions, and a map of
1,000 windows would approach DynamoDB's 400 KB item limit and make every action contend on one
item's version. Each stats item is replaced whole under a condition on its `version` (never an
ADD counter). A completed attempt is folded in once: the statistics keep the keys of their recent
attempts (a replay is recognised there), and after the write the step is marked (`statsAttempt`),
so a replay, however old, finds the mark and does not read the statistics at all. Two single-item
writes rather than one transaction: the outcome is the same, and on moto a transaction copies the
whole table (stream included), which made every fold cost O(table).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from execution_monitor.step_stats import StepStats
from execution_monitor.store import keys
from execution_monitor.store.codec import from_item, to_attr, to_item
from execution_monitor.store.interface import StoreContention
from execution_monitor.store.records import header_keys
from execution_monitor.store.updates import Update

STATS_SK_PREFIX = "STATS#"
ITEM_STEP_STATS = "step_stats"
# Set on a completed step once its duration is in the workflow's statistics (the attempt number).
STATS_MARK = "statsAttempt"
BATCH_GET_LIMIT = 100
BATCH_GET_ATTEMPTS = 8


def stats_keys(workspace_id: str, workflow_id: str, action_id: str) -> dict[str, str]:
    return {"pk": keys.workflow_pk(workspace_id, workflow_id), "sk": f"{STATS_SK_PREFIX}{action_id}"}


def stats_record(step: dict[str, Any], stats: StepStats, version: int, now: str) -> dict[str, Any]:
    """The stored statistics item of the step's action."""
    return {
        **stats_keys(step["workspaceId"], step["workflowId"], step["actionId"]),
        "type": ITEM_STEP_STATS,
        "workspaceId": step["workspaceId"],
        "workflowId": step["workflowId"],
        "actionId": step["actionId"],
        **stats.to_attributes(),
        "updatedAt": now,
        "version": version,
    }


class _Store(Protocol):
    client: Any
    table: str

    def apply(self, *updates: Update) -> bool: ...


class ProgressWrites:
    """Mixed into DynamoStore (which provides `client`, `table` and `apply`)."""

    def get_step_stats(
        self: _Store, workspace_id: str, workflow_id: str, action_ids: Iterable[str]
    ) -> dict[str, StepStats]:
        """Statistics per action id (strongly consistent); actions never seen are left out."""
        wanted = sorted(set(action_ids))
        found: dict[str, StepStats] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request_keys = [
                to_item(stats_keys(workspace_id, workflow_id, action_id))
                for action_id in wanted[start : start + BATCH_GET_LIMIT]
            ]
            pending: dict[str, Any] = {self.table: {"Keys": request_keys, "ConsistentRead": True}}
            for _ in range(BATCH_GET_ATTEMPTS):
                page = self.client.batch_get_item(RequestItems=pending)
                for item in page.get("Responses", {}).get(self.table, []):
                    record = from_item(item)
                    found[record["actionId"]] = StepStats.from_record(record)
                pending = page.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise StoreContention("could not read the step statistics")
        return found

    def put_step_stats(
        self: _Store, step: dict[str, Any], before: StepStats, after: StepStats, now: str
    ) -> bool:
        """Replaces the action's statistics with `after` if they are still `before`'s version."""
        if before.version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": to_attr(before.version)},
            }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(stats_record(step, after, before.version + 1, now)),
                **condition,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_step_folded(self: _Store, step: dict[str, Any]) -> bool:
        """Records on the step that its attempt is in the statistics (False: the step moved on)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": step["pk"], "sk": step["sk"]}),
                UpdateExpression="SET #mark = :attempt",
                ConditionExpression="#status = :completed AND #attempt = :attempt",
                ExpressionAttributeNames={"#mark": STATS_MARK, "#status": "status", "#attempt": "attempt"},
                ExpressionAttributeValues={
                    ":completed": to_attr("completed"),
                    ":attempt": to_attr(step["attempt"]),
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def write_progress(self: _Store, header: dict[str, Any], fields: dict[str, Any], now: str) -> bool:
        """Writes the aggregate if the header is still the version it was computed from."""
        return self.apply(
            Update(
                header_keys(header["workspaceId"], header["id"]),
                sets={**fields, "updatedAt": now},
                condition="#version = :version",
                condition_values={":version": header["version"]},
                bump_version=True,
            )
        )
