"""Executions in the single table: reads, and each transition as one conditional write."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from execution_monitor.domain.execution import ExecutionState, StepState
from execution_monitor.domain.status import ExecutionStatus, StepStatus
from execution_monitor.domain.transitions import Transition
from execution_monitor.domain.workflow import IdempotencyClaim
from execution_monitor.store.dynamodb import items, keys
from execution_monitor.store.dynamodb.expressions import (
    Below,
    Condition,
    Either,
    Equals,
    Missing,
    OneOf,
    Put,
    Update,
    Write,
    key_attrs,
    to_attr,
)
from execution_monitor.store.dynamodb.pages import IndexList, query_page
from execution_monitor.store.dynamodb.writer import Writer
from execution_monitor.store.interface import ExecutionPage, Loaded, Probe, StepContext, StoreContention

# TransactWriteItems takes at most 100 items: a create of up to 99 steps is one transaction.
TRANSACTION_LIMIT = 100
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
BATCH_ATTEMPTS = 8


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes to SET (changed) or REMOVE (None now, present before)."""
    return {
        name: value
        for name, value in after.items()
        if before.get(name) != value and not (value is None and before.get(name) is None)
    }


def _header_update(transition: Transition) -> Update:
    before, after = transition.execution_before, transition.execution
    return Update(
        items.header_key(after.workspace_id, after.id),
        _changes(items.header_attributes(before), items.header_attributes(after)),
        # Every header change moves the version: conditioning on it settles every race.
        Equals("version", before.version),
    )


def _step_update(transition: Transition, condition: Condition) -> Update:
    before, after = transition.step_before, transition.step
    assert before is not None
    assert after is not None
    stamp = transition.execution.updated_at
    return Update(
        items.step_key(after.workspace_id, after.execution_id, after.index),
        _changes(items.step_attributes(before, stamp), items.step_attributes(after, stamp)),
        condition,
    )


def _step_is(status: StepStatus | tuple[StepStatus, ...], attempt: int) -> Condition:
    statuses = (status,) if isinstance(status, StepStatus) else status
    state: Condition = (
        Equals("status", statuses[0].value)
        if len(statuses) == 1
        else OneOf("status", tuple(item.value for item in statuses))
    )
    return state & Equals("attempt", attempt)


class ExecutionTable:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.writer = Writer(client, table)

    # -- reads -----------------------------------------------------------------------------------

    def _query_partition(self, workspace_id: str, execution_id: str, first_sk: str) -> list[items.Item]:
        """Header and steps (or steps from `first_sk` on), strongly consistent; more than one
        request only past 1 MB. Other items of the partition sort before the header."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": to_attr(keys.execution_pk(workspace_id, execution_id)),
                ":first": to_attr(first_sk),
                ":last": to_attr(keys.LAST_STEP_SK),
            },
            "ConsistentRead": True,
        }
        found: list[items.Item] = []
        while True:
            page = self.client.query(**request)
            found.extend(items.from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _loaded(self, records: list[items.Item]) -> Loaded | None:
        header = next((record for record in records if record["sk"] == keys.EXECUTION_SK), None)
        if header is None:
            return None
        steps = [
            items.step_from_item(record) for record in records if record["sk"].startswith(keys.STEP_SK_PREFIX)
        ]
        return items.execution_from_item(header), steps

    def get_execution(self, workspace_id: str, execution_id: str) -> Loaded | None:
        return self._loaded(self._query_partition(workspace_id, execution_id, keys.EXECUTION_SK))

    def get_execution_from(self, workspace_id: str, execution_id: str, from_index: int) -> Loaded | None:
        if from_index <= 0:
            return self.get_execution(workspace_id, execution_id)
        execution = self.get_header(workspace_id, execution_id)
        if execution is None:
            return None
        records = self._query_partition(workspace_id, execution_id, keys.step_sk(from_index))
        return execution, [items.step_from_item(record) for record in records]

    def get_header(self, workspace_id: str, execution_id: str) -> ExecutionState | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key_attrs(items.header_key(workspace_id, execution_id)),
            ConsistentRead=True,
        )
        return items.execution_from_item(items.from_item(found["Item"])) if "Item" in found else None

    def probe(self, workspace_id: str, execution_id: str) -> Probe | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key_attrs(items.header_key(workspace_id, execution_id)),
            ConsistentRead=True,
            ProjectionExpression="#version, #status",
            ExpressionAttributeNames={"#version": "version", "#status": "status"},
        )
        if "Item" not in found:
            return None
        item = items.from_item(found["Item"])
        return Probe(int(item["version"]), ExecutionStatus(item["status"]))

    def _get_many(self, wanted: Sequence[Mapping[str, str]]) -> list[items.Item]:
        """Consistent BatchGetItem of the given keys (any number), unprocessed keys retried."""
        found: list[items.Item] = []
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            request_keys = [key_attrs(key) for key in wanted[start : start + BATCH_GET_LIMIT]]
            pending: dict[str, Any] = {self.table: {"Keys": request_keys, "ConsistentRead": True}}
            for _ in range(BATCH_ATTEMPTS):
                page = self.client.batch_get_item(RequestItems=pending)
                found.extend(items.from_item(item) for item in page.get("Responses", {}).get(self.table, []))
                pending = page.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise StoreContention("could not read every item asked for")
        return found

    def get_step(self, execution: ExecutionState, index: int) -> StepState | None:
        found = self.client.get_item(
            TableName=self.table,
            Key=key_attrs(items.step_key(execution.workspace_id, execution.id, index)),
            ConsistentRead=True,
        )
        return items.step_from_item(items.from_item(found["Item"])) if "Item" in found else None

    def get_step_context(self, workspace_id: str, execution_id: str, index: int) -> StepContext | None:
        """The header and the step in one request; the steps it references in one more, if any."""
        records = self._get_many(
            [items.header_key(workspace_id, execution_id), items.step_key(workspace_id, execution_id, index)]
        )
        header = next((record for record in records if record["sk"] == keys.EXECUTION_SK), None)
        step_record = next((record for record in records if record["sk"] == keys.step_sk(index)), None)
        if header is None or step_record is None:
            return None
        step = items.step_from_item(step_record)
        wanted = [items.step_key(workspace_id, execution_id, position) for position in step.depends_on]
        dependencies = [items.step_from_item(record) for record in self._get_many(wanted)] if wanted else []
        return StepContext(
            items.execution_from_item(header),
            step,
            {dependency.action_id: dependency for dependency in dependencies},
        )

    def list_executions(
        self,
        workspace_id: str,
        workflow_id: str,
        *,
        limit: int,
        status: ExecutionStatus | None,
        cursor: str | None,
    ) -> ExecutionPage:
        if status:
            listing = IndexList(
                keys.BY_STATUS_INDEX,
                "gsi2pk",
                "gsi2sk",
                keys.by_status_pk(workspace_id, workflow_id, status),
                keys.execution_pk(workspace_id, ""),
            )
        else:
            listing = IndexList(
                keys.BY_WORKFLOW_INDEX,
                "gsi1pk",
                "gsi1sk",
                keys.by_workflow_pk(workspace_id, workflow_id),
                keys.execution_pk(workspace_id, ""),
            )
        return self._page(listing, limit, cursor)

    def list_workspace_executions(
        self, workspace_id: str, *, limit: int, status: ExecutionStatus | None, cursor: str | None
    ) -> ExecutionPage:
        if status:
            listing = IndexList(
                keys.BY_WORKSPACE_STATUS_INDEX,
                "gsi4pk",
                "gsi4sk",
                keys.workspace_status_pk(workspace_id, status),
                keys.execution_pk(workspace_id, ""),
            )
        else:
            listing = IndexList(
                keys.BY_WORKSPACE_INDEX,
                "gsi3pk",
                "gsi3sk",
                keys.workspace_executions_pk(workspace_id),
                keys.execution_pk(workspace_id, ""),
            )
        return self._page(listing, limit, cursor)

    def _page(self, listing: IndexList, limit: int, cursor: str | None) -> ExecutionPage:
        found, next_cursor = query_page(self.client, self.table, listing, limit=limit, cursor=cursor)
        return ExecutionPage(
            executions=[items.execution_from_item(items.from_item(item)) for item in found],
            next_cursor=next_cursor,
        )

    def due_for_check(self, now: str) -> list[tuple[str, str]]:
        """(workspace, execution) of every execution the sweep should look at by `now`."""
        due: list[tuple[str, str]] = []
        for partition in keys.all_sweep_pks():
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": keys.SWEEP_INDEX,
                "KeyConditionExpression": "gsi5pk = :pk AND gsi5sk <= :now",
                "ExpressionAttributeValues": {":pk": to_attr(partition), ":now": to_attr(f"{now}#~")},
            }
            while True:
                page = self.client.query(**request)
                for raw in page["Items"]:
                    _, workspace_id, execution_id = raw["gsi5sk"]["S"].split("#", 2)
                    due.append((workspace_id, execution_id))
                if "LastEvaluatedKey" not in page:
                    break
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return due

    # -- writes ----------------------------------------------------------------------------------

    def _commit(self, transition: Transition, *step_writes: Write) -> bool:
        header = _header_update(transition)
        return self.writer.commit([header, *step_writes], guard=header.key)

    def create_execution(self, execution: ExecutionState, steps: list[StepState]) -> None:
        """One transaction when it fits; otherwise the steps first (invisible without their header),
        then the header that makes the execution exist, and the steps removed again if that fails."""
        header = Put(items.header_item(execution), Missing("pk"))
        step_puts = [Put(items.step_item(step, execution.updated_at)) for step in steps]
        if len(steps) < TRANSACTION_LIMIT:
            if not self.writer.commit([header, *step_puts], guard=header.key):
                raise StoreContention(f"execution {execution.id} exists already")
            return
        self._batch([{"PutRequest": {"Item": put.request(self.table)["Item"]}} for put in step_puts])
        try:
            created = self.writer.commit([header], guard=header.key)
        except Exception:
            self._delete_steps(step_puts)
            raise
        if not created:
            self._delete_steps(step_puts)
            raise StoreContention(f"execution {execution.id} exists already")

    def _delete_steps(self, step_puts: list[Put]) -> None:
        self._batch([{"DeleteRequest": {"Key": key_attrs(put.key)}} for put in step_puts])

    def _batch(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = requests[start : start + BATCH_WRITE_LIMIT]
            for _ in range(BATCH_ATTEMPTS):
                unprocessed = self.client.batch_write_item(RequestItems={self.table: pending}).get(
                    "UnprocessedItems", {}
                )
                pending = unprocessed.get(self.table, [])
                if not pending:
                    break
            if pending:
                raise StoreContention("could not write every step of the execution")

    def claim_step(self, transition: Transition) -> bool:
        assert transition.step_before is not None
        attempt = transition.step_before.attempt
        condition = _step_is((StepStatus.PENDING, StepStatus.RUNNING), attempt)
        return self._commit(transition, _step_update(transition, condition))

    def finish_step(self, transition: Transition) -> bool:
        assert transition.step_before is not None
        condition = _step_is(StepStatus.RUNNING, transition.step_before.attempt)
        return self._commit(transition, _step_update(transition, condition))

    def end_execution(self, transition: Transition) -> bool:
        return self._commit(transition)

    def cancel(self, transition: Transition) -> bool:
        if transition.step_before is None:
            return self._commit(transition)
        condition = _step_is(StepStatus.RUNNING, transition.step_before.attempt)
        return self._commit(transition, _step_update(transition, condition))

    def start_run(self, transition: Transition) -> bool:
        assert transition.step_before is not None
        condition = Equals("attempt", transition.step_before.attempt)
        return self._commit(transition, _step_update(transition, condition))

    def link_retry(self, transition: Transition) -> bool:
        return self._commit(transition)

    def mark_stalled(self, transition: Transition) -> bool:
        return self._commit(transition)

    def postpone_check(self, transition: Transition) -> bool:
        return self._commit(transition)

    def unlink_retry(self, transition: Transition) -> bool:
        return self._commit(transition)

    # -- Idempotency-Key claims ------------------------------------------------------------------

    def claim_idempotency_key(self, claim: IdempotencyClaim, now_epoch: int) -> IdempotencyClaim | None:
        put = Put(items.claim_item(claim), Either((Missing("pk"), Below("expiresAt", now_epoch))))
        for _ in range(BATCH_ATTEMPTS):
            if self.writer.commit([put], guard=put.key):
                return None
            found = self.client.get_item(
                TableName=self.table, Key=key_attrs(items.claim_key(claim)), ConsistentRead=True
            )
            if "Item" in found:  # else it was released meanwhile: claim it again
                return items.claim_from_item(items.from_item(found["Item"]), claim)
        raise StoreContention("the Idempotency-Key claim kept changing")

    def release_idempotency_key(self, claim: IdempotencyClaim) -> None:
        """Frees a claim whose execution could not be created, so a repeat can try again."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=key_attrs(items.claim_key(claim)),
                ConditionExpression="executionId = :id",
                ExpressionAttributeValues={":id": to_attr(claim.execution_id)},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # another request's claim by now: not ours to free
