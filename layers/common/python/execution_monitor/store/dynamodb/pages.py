"""One page of an index, newest (or first) first, behind an opaque cursor: one Query per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execution_monitor.store.dynamodb.cursor import decode_cursor, encode_cursor
from execution_monitor.store.dynamodb.expressions import to_attr


@dataclass(frozen=True)
class IndexList:
    """One list an index serves: its key names, the partition listed, and what its items' own
    keys must start with (a cursor naming anything else is refused)."""

    index: str
    partition_key: str
    sort_key: str
    partition: str
    item_pk_prefix: str
    newest_first: bool = True


def query_page(
    client: Any, table: str, listing: IndexList, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The raw items of one page and the cursor of the next (None on the last page)."""
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": listing.index,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": listing.partition_key},
        "ExpressionAttributeValues": {":pk": to_attr(listing.partition)},
        "ScanIndexForward": not listing.newest_first,
        # One extra item tells whether another page exists, so the last page has no cursor.
        "Limit": limit + 1,
    }
    if cursor:
        request["ExclusiveStartKey"] = decode_cursor(
            cursor,
            index_pk_name=listing.partition_key,
            index_sk_name=listing.sort_key,
            index_pk=listing.partition,
            item_pk_prefix=listing.item_pk_prefix,
        )
    answer = client.query(**request)
    found = answer["Items"]
    # More exists when the extra item came, or when DynamoDB stopped at 1 MB before the limit.
    has_more = len(found) > limit or "LastEvaluatedKey" in answer
    found = found[:limit]
    if not (has_more and found):
        return found, None
    names = ("pk", "sk", listing.partition_key, listing.sort_key)
    return found, encode_cursor({name: found[-1][name] for name in names})
