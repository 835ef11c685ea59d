"""The single table's shape as data: the CDK construct and the local runtime/tests both build from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execution_monitor.store.dynamodb import keys

PARTITION_KEY = "pk"
SORT_KEY = "sk"
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; only idempotency claims carry it


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str
    projection: str  # ALL: a list page is one Query; KEYS_ONLY: only a pointer to the item


INDEXES: tuple[Index, ...] = (
    Index(keys.BY_WORKFLOW_INDEX, "gsi1pk", "gsi1sk", "ALL"),
    Index(keys.BY_STATUS_INDEX, "gsi2pk", "gsi2sk", "ALL"),
    Index(keys.BY_WORKSPACE_INDEX, "gsi3pk", "gsi3sk", "ALL"),
    Index(keys.BY_WORKSPACE_STATUS_INDEX, "gsi4pk", "gsi4sk", "ALL"),
    # Sparse: only executions the sweep must look at, at the time it should (stalls, stuck starts).
    Index(keys.SWEEP_INDEX, "gsi5pk", "gsi5sk", "KEYS_ONLY"),
)


def create_table_request(table_name: str) -> dict[str, Any]:
    """boto3 create_table arguments for the local runtime and the moto tests."""
    attributes = {PARTITION_KEY, SORT_KEY} | {
        name for index in INDEXES for name in (index.partition_key, index.sort_key)
    }
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    }
