"""The one write path of the store: conditional writes, atomic when several, safe to retry.

Every commit carries a fresh write id. Transactions send it as their ClientRequestToken, so an SDK
retry of one that already succeeded is answered as a success by DynamoDB. Single-item writes have
no such token, so the id is also stamped on the item the commit guards (`lastWriteId`): when a
condition fails, the store reads that item back, and finding its own id there means the commit
already happened (the SDK retried it after a timeout) rather than that another writer won.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from execution_monitor.store.dynamodb.expressions import Put, Update, Write, to_attr
from execution_monitor.store.interface import StoreContention

WRITE_ID = "lastWriteId"
# Failures that say "try again later", not "your condition is false".
_TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
    }
)


def _stamped(write: Write, write_id: str) -> Write:
    if isinstance(write, Update):
        return replace(write, changes={**write.changes, WRITE_ID: write_id})
    return replace(write, item={**write.item, WRITE_ID: write_id})


class Writer:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def commit(self, writes: Sequence[Write], *, guard: Mapping[str, str]) -> bool:
        """Applies `writes` atomically; False when a condition did not hold (another writer won).

        `guard` is the key of the item (one of the writes) that records this commit's write id.
        """
        write_id = uuid.uuid4().hex
        stamped = [_stamped(write, write_id) if dict(write.key) == dict(guard) else write for write in writes]
        try:
            self._send(stamped, write_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" not in reasons:
                    raise StoreContention(f"transaction cancelled: {reasons}") from error
            elif code != "ConditionalCheckFailedException":
                if code in _TRANSIENT:
                    raise StoreContention(f"DynamoDB answered {code}") from error
                raise
            return self._already_applied(guard, write_id)
        except (ReadTimeoutError, ConnectionError) as error:
            raise StoreContention(f"DynamoDB did not answer: {error}") from error
        return True

    def _send(self, writes: Sequence[Write], write_id: str) -> None:
        # An update with nothing to change and nothing to check is no write at all.
        writes = [
            write
            for write in writes
            if not (isinstance(write, Update) and not write.changes and write.condition is None)
        ]
        if len(writes) == 1:
            write = writes[0]
            if isinstance(write, Put):
                self.client.put_item(**write.request(self.table))
            else:
                self.client.update_item(**write.request(self.table))
            return
        self.client.transact_write_items(
            TransactItems=[{write.transact_kind: write.request(self.table)} for write in writes],
            ClientRequestToken=write_id,
        )

    def _already_applied(self, guard: Mapping[str, str], write_id: str) -> bool:
        found = self.client.get_item(
            TableName=self.table,
            Key={name: to_attr(value) for name, value in guard.items()},
            ConsistentRead=True,
            ProjectionExpression="#id",
            ExpressionAttributeNames={"#id": WRITE_ID},
        )
        return found.get("Item", {}).get(WRITE_ID, {}).get("S") == write_id
