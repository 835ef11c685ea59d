"""The single table's shape as data: the CDK construct and the local runtime/tests both build from it."""

from __future__ import annotations

from typing import Any

from execution_monitor.store.dynamodb import keys

PARTITION_KEY = "pk"
SORT_KEY = "sk"
# (index name, partition key, sort key); both project ALL so a list page is one Query.
INDEXES: tuple[tuple[str, str, str], ...] = (
    (keys.BY_WORKFLOW_INDEX, "gsi1pk", "gsi1sk"),
    (keys.BY_STATUS_INDEX, "gsi2pk", "gsi2sk"),
)
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
TTL_ATTRIBUTE = "expiresAt"  # epoch seconds; only idempotency claims carry it


def create_table_request(table_name: str) -> dict[str, Any]:
    """boto3 create_table arguments for the local runtime and the moto tests."""
    attributes = {PARTITION_KEY, SORT_KEY} | {name for _, pk, sk in INDEXES for name in (pk, sk)}
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
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, pk, sk in INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    }
