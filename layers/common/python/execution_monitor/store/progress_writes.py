"""The progress updater's reads and writes, mixed into the DynamoDB store.

  step statistics     pk=WS#<ws>#WF#<wf>   sk=STATS#<actionId>   (one small item per workflow action)

One item per action rather than one per workflow: a workflow may have 1,000 actions, and a map of
1,000 windows would approach DynamoDB's 400 KB item limit and make every action contend on one
item's version. Each stats item is replaced whole under a condition on its `version`; a completed
step is folded in exactly once because the same transaction marks the step (`statsAttempt`), so
duplicates and replays — however old — are refused by DynamoDB instead of counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, Protocol

from execution_monitor.step_stats import StepStats
from execution_monitor.store import keys
from execution_monitor.store.codec import from_item, to_attr, to_item
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


def _contention(message: str) -> Exception:
    # dynamodb.py imports this module (the mixin), so its exception is imported when raised.
    from execution_monitor.store.dynamodb import StoreContention

    return StoreContention(message)


class StatsWrite(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the step was already folded in (or is no longer that completed attempt)
    CONFLICT = "conflict"  # the statistics changed since they were read: read again and retry


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
                raise _contention("could not read the step statistics")
        return found

    def record_step_duration(
        self: _Store, step: dict[str, Any], before: StepStats, after: StepStats, now: str
    ) -> StatsWrite:
        """Replaces the action's statistics with `after` and marks the step, atomically."""
        attempt = int(step["attempt"])
        stats_item = stats_record(step, after, before.version + 1, now)
        if before.version == 0:
            stats_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            stats_condition = {
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": to_attr(before.version)},
            }
        mark_step = {
            "TableName": self.table,
            "Key": to_item({"pk": step["pk"], "sk": step["sk"]}),
            "UpdateExpression": "SET #mark = :attempt",
            "ConditionExpression": (
                "#status = :completed AND #attempt = :attempt "
                "AND (attribute_not_exists(#mark) OR #mark < :attempt)"
            ),
            "ExpressionAttributeNames": {"#mark": STATS_MARK, "#status": "status", "#attempt": "attempt"},
            "ExpressionAttributeValues": {":completed": to_attr("completed"), ":attempt": to_attr(attempt)},
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {"Update": mark_step},
                    {"Put": {"TableName": self.table, "Item": to_item(stats_item), **stats_condition}},
                ]
            )
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return StatsWrite.DUPLICATE
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return StatsWrite.CONFLICT
            raise _contention(f"statistics transaction cancelled: {reasons}") from error
        return StatsWrite.APPLIED

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
