"""The DynamoDB adapter of the store interfaces. It takes an injected low-level client."""

from __future__ import annotations

from typing import Any

from execution_monitor import clock
from execution_monitor.models import Execution, ExecutionPage, Workflow, WorkflowDefinition
from execution_monitor.store import keys
from execution_monitor.store.codec import (
    decode_cursor,
    dumps,
    encode_cursor,
    execution_from_record,
    from_item,
    to_attr,
    to_item,
    workflow_from_record,
)
from execution_monitor.store.interface import StoreContention
from execution_monitor.store.progress_writes import ProgressWrites
from execution_monitor.store.records import header_keys
from execution_monitor.store.transitions import ExecutionTransitions
from execution_monitor.store.updates import Update

BATCH_WRITE_LIMIT = 25
BATCH_WRITE_ATTEMPTS = 8


class DynamoStore(ExecutionTransitions, ProgressWrites):
    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name

    # -- workflows -------------------------------------------------------------------------------

    def put_workflow(self, workspace_id: str, workflow_id: str, definition: WorkflowDefinition) -> Workflow:
        stamp = clock.iso(clock.now())
        document = {
            "name": definition.name,
            "description": definition.description,
            "actions": [action.to_json_dict() for action in definition.actions],
        }
        # One atomic update: the version increments server-side, so concurrent PUTs never share one.
        updated = self.client.update_item(
            TableName=self.table,
            Key={"pk": to_attr(keys.workflow_pk(workspace_id, workflow_id)), "sk": to_attr(keys.WORKFLOW_SK)},
            UpdateExpression=(
                "SET #type = :type, workspaceId = :ws, workflowId = :wf, #definition = :definition, "
                "updatedAt = :now, createdAt = if_not_exists(createdAt, :now), "
                "#version = if_not_exists(#version, :zero) + :one"
            ),
            ExpressionAttributeNames={"#type": "type", "#definition": "definition", "#version": "version"},
            ExpressionAttributeValues={
                ":type": to_attr(keys.ITEM_WORKFLOW),
                ":ws": to_attr(workspace_id),
                ":wf": to_attr(workflow_id),
                ":definition": to_attr(dumps(document)),
                ":now": to_attr(stamp),
                ":zero": to_attr(0),
                ":one": to_attr(1),
            },
            ReturnValues="ALL_NEW",
        )
        return workflow_from_record(from_item(updated["Attributes"]))

    def get_workflow(self, workspace_id: str, workflow_id: str) -> Workflow | None:
        found = self.client.get_item(
            TableName=self.table,
            Key={"pk": to_attr(keys.workflow_pk(workspace_id, workflow_id)), "sk": to_attr(keys.WORKFLOW_SK)},
        )
        return workflow_from_record(from_item(found["Item"])) if "Item" in found else None

    # -- executions ------------------------------------------------------------------------------

    def query_execution_items(
        self, workspace_id: str, execution_id: str, from_step: int | None = None
    ) -> list[dict[str, Any]]:
        """The header and every step, strongly consistent, in one Query (more only past 1 MB);
        with `from_step`, only the steps from that index on."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": to_attr(keys.execution_pk(workspace_id, execution_id))},
            "ConsistentRead": True,
        }
        if from_step is not None:
            request["KeyConditionExpression"] += " AND sk BETWEEN :first AND :last"
            request["ExpressionAttributeValues"].update(
                {":first": to_attr(keys.step_sk(from_step)), ":last": to_attr(keys.LAST_STEP_SK)}
            )
        records: list[dict[str, Any]] = []
        while True:
            page = self.client.query(**request)
            records.extend(from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return records
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_execution(self, workspace_id: str, execution_id: str) -> Execution | None:
        records = self.query_execution_items(workspace_id, execution_id)
        header = next((record for record in records if record["sk"] == keys.EXECUTION_SK), None)
        if header is None:
            return None
        steps = [record for record in records if record["sk"].startswith(keys.STEP_SK_PREFIX)]
        return execution_from_record(header, steps)

    def list_executions(
        self, workspace_id: str, workflow_id: str, *, limit: int, status: str | None, cursor: str | None
    ) -> ExecutionPage:
        if status:
            index, index_pk_name = keys.BY_STATUS_INDEX, "gsi2pk"
            index_pk = keys.by_status_pk(workspace_id, workflow_id, status)
        else:
            index, index_pk_name = keys.BY_WORKFLOW_INDEX, "gsi1pk"
            index_pk = keys.by_workflow_pk(workspace_id, workflow_id)
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{index_pk_name} = :pk",
            "ExpressionAttributeValues": {":pk": to_attr(index_pk)},
            "ScanIndexForward": False,
            # One extra item tells whether another page exists, so the last page has no cursor.
            "Limit": limit + 1,
        }
        if cursor:
            request["ExclusiveStartKey"] = decode_cursor(
                cursor,
                index_pk_name=index_pk_name,
                index_pk=index_pk,
                item_pk_prefix=keys.execution_pk(workspace_id, ""),
            )
        items = self.client.query(**request)["Items"]
        has_more = len(items) > limit
        items = items[:limit]
        index_sk_name = index_pk_name.replace("pk", "sk")
        last_key = (
            {name: items[-1][name] for name in ("pk", "sk", index_pk_name, index_sk_name)}
            if has_more
            else None
        )
        return ExecutionPage(
            executions=[execution_from_record(from_item(item)) for item in items],
            next_cursor=encode_cursor(last_key) if last_key else None,
        )

    # -- execution writes: every one is conditional, so races settle in DynamoDB -----------------

    def read_execution_version(self, workspace_id: str, execution_id: str) -> tuple[int, str] | None:
        """The header's version and status only: the cheapest consistent "did it change?"."""
        found = self.client.get_item(
            TableName=self.table,
            Key=to_item(header_keys(workspace_id, execution_id)),
            ConsistentRead=True,
            ProjectionExpression="#version, #status",
            ExpressionAttributeNames={"#version": "version", "#status": "status"},
        )
        if "Item" not in found:
            return None
        item = from_item(found["Item"])
        return int(item["version"]), str(item["status"])

    def read_execution_records(
        self, workspace_id: str, execution_id: str, from_step: int = 0
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The header and its steps; with `from_step` > 0, the header (GetItem) and only the steps
        from that index on (a range Query), for a reader that already has the earlier ones."""
        if from_step > 0:
            found = self.client.get_item(
                TableName=self.table,
                Key=to_item(header_keys(workspace_id, execution_id)),
                ConsistentRead=True,
            )
            if "Item" not in found:
                return None
            return from_item(found["Item"]), self.query_execution_items(workspace_id, execution_id, from_step)
        records = self.query_execution_items(workspace_id, execution_id)
        header = next((record for record in records if record["sk"] == keys.EXECUTION_SK), None)
        if header is None:
            return None
        return header, [record for record in records if record["sk"].startswith(keys.STEP_SK_PREFIX)]

    def create_execution(self, header: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        """Steps first (invisible without a header), then the header that makes the execution exist."""
        for start in range(0, len(steps), BATCH_WRITE_LIMIT):
            pending = [
                {"PutRequest": {"Item": to_item(step)}} for step in steps[start : start + BATCH_WRITE_LIMIT]
            ]
            for _ in range(BATCH_WRITE_ATTEMPTS):
                unprocessed = self.client.batch_write_item(RequestItems={self.table: pending}).get(
                    "UnprocessedItems", {}
                )
                pending = unprocessed.get(self.table, [])
                if not pending:
                    break
            if pending:
                raise StoreContention("could not write every step of the execution")
        self.client.put_item(
            TableName=self.table, Item=to_item(header), ConditionExpression="attribute_not_exists(pk)"
        )

    def claim_idempotency_key(self, record: dict[str, Any], now_epoch: int) -> dict[str, Any] | None:
        """Claims the key for record['executionId']; returns the live claim already holding it, if any."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=to_item(record),
                ConditionExpression="attribute_not_exists(pk) OR expiresAt < :now",
                ExpressionAttributeValues={":now": to_attr(now_epoch)},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            held = self.client.get_item(
                TableName=self.table,
                Key=to_item({"pk": record["pk"], "sk": record["sk"]}),
                ConsistentRead=True,
            )
            return from_item(held["Item"]) if "Item" in held else None
        return None

    def release_idempotency_key(self, record: dict[str, Any]) -> None:
        """Frees a claim whose execution could not be created, so a repeat can try again."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=to_item({"pk": record["pk"], "sk": record["sk"]}),
                ConditionExpression="executionId = :id",
                ExpressionAttributeValues={":id": to_attr(record["executionId"])},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # another request's claim by now: not ours to free

    def apply(self, *updates: Update) -> bool:
        """Applies the updates atomically; False when a condition did not hold (someone else won)."""
        try:
            if len(updates) == 1:
                self.client.update_item(**updates[0].request(self.table))
            else:
                self.client.transact_write_items(
                    TransactItems=[{"Update": update.request(self.table)} for update in updates]
                )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        except self.client.exceptions.TransactionCanceledException as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                return False
            raise StoreContention(f"transaction cancelled: {reasons}") from error
        return True
