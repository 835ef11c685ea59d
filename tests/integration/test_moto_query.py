"""The local runtime's moto Query patch: a Query of one partition, or of an index, answers exactly as
moto does (items, order, pages), without sorting the whole table first."""

from __future__ import annotations

from typing import Any

import boto3
from moto.dynamodb.models.table import Table

from infrastructure.local import moto_query
from tests.integration.conftest import TABLE


def fill(client: Any) -> None:
    """Three partitions of items, some of them in the sweep index (gsi5), written out of order."""
    for number in (7, 2, 9, 0, 5, 1, 8, 3, 6, 4):
        for partition in ("b", "a", "c"):
            item = {"pk": {"S": partition}, "sk": {"S": f"item#{number}"}, "n": {"N": str(number)}}
            if number % 2 == 0:
                item |= {"gsi5pk": {"S": f"SWEEP#{number % 4}"}, "gsi5sk": {"S": f"{number}#{partition}"}}
            client.put_item(TableName=TABLE, Item=item)


def pages(client: Any, **request: Any) -> list[list[dict[str, Any]]]:
    """Every page of a Query, as the SDK returns them."""
    answers: list[list[dict[str, Any]]] = []
    while True:
        page = client.query(TableName=TABLE, **request)
        answers.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            return answers
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}, "Limit": 3},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "c"}, ":s": {"S": "item#"}},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    {
        "IndexName": "gsi5",
        "KeyConditionExpression": "gsi5pk = :p AND gsi5sk <= :t",
        "ExpressionAttributeValues": {":p": {"S": "SWEEP#0"}, ":t": {"S": "8#~"}},
        "Limit": 2,
    },
    {
        "IndexName": "gsi5",
        "KeyConditionExpression": "gsi5pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "SWEEP#2"}},
        "ScanIndexForward": False,
    },
]


def test_queries_of_a_partition_or_an_index_answer_as_moto_does_without_a_whole_table_sort(aws: None) -> None:
    # Given a table of several partitions, some items in an index
    client = boto3.client("dynamodb")
    fill(client)
    expected = [pages(client, **dict(query)) for query in QUERIES]
    # When the same queries run with the patch, counting whole-table reads
    whole_table_reads = 0
    original = moto_query._original_all_items

    def counted(table: Table) -> Any:
        nonlocal whole_table_reads
        whole_table_reads += 1
        return original(table)

    moto_query._original_all_items = counted  # type: ignore[assignment]
    restore = moto_query.install()
    try:
        got = [pages(client, **dict(query)) for query in QUERIES]
    finally:
        moto_query._original_all_items = original
        restore()
    # Then every page is the same, and no query sorted the whole table
    assert got == expected
    assert [len(page) for page in got[0]] == [3, 3, 3, 1]
    assert whole_table_reads == 0
