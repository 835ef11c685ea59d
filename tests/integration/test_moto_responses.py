"""The local runtime's moto response patch: DynamoDB's item answers written as JSON directly are the
answers moto's shape walk gives, operation by operation, for every attribute type."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from infrastructure.local import moto_responses
from tests.integration.conftest import TABLE

EVERY_TYPE = {
    "text": {"S": 'ünïcode \u2028 "quoted"'},
    "number": {"N": "-12.50"},
    "blob": {"B": b"\x00\xffbytes"},
    "texts": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "map": {"M": {"nested": {"L": [{"NULL": True}, {"BOOL": False}, {"M": {}}]}}},
    "empty_list": {"L": []},
}


def key(pk: str, sk: str = "item") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def workload(client: Any) -> list[Any]:
    """Every item operation the patch writes directly, with the options that shape its answer."""
    total = {"ReturnConsumedCapacity": "TOTAL"}
    answers: list[Any] = [
        client.put_item(TableName=TABLE, Item={**key("a"), **EVERY_TYPE}, **total),
        client.put_item(TableName=TABLE, Item={**key("a"), **EVERY_TYPE}, ReturnValues="ALL_OLD"),
        client.update_item(
            TableName=TABLE,
            Key=key("a"),
            UpdateExpression="SET #n = #n + :one",
            ExpressionAttributeNames={"#n": "number"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        client.get_item(TableName=TABLE, Key=key("a"), ConsistentRead=True, **total),
        client.get_item(TableName=TABLE, Key=key("missing")),
        client.batch_write_item(
            RequestItems={
                TABLE: [{"PutRequest": {"Item": {**key("a", f"s{n}"), **EVERY_TYPE}}} for n in range(3)]
            }
        ),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "a"}},
            Limit=2,
            **total,
        ),
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "a"}},
            Select="COUNT",
        ),
        client.scan(
            TableName=TABLE,
            ProjectionExpression="pk, #b, #m",
            ExpressionAttributeNames={"#b": "blob", "#m": "map"},
        ),
        client.batch_get_item(RequestItems={TABLE: {"Keys": [key("a"), key("a", "s1"), key("none")]}}),
        client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": key("a")}}]),
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": TABLE, "Item": {**key("b"), **EVERY_TYPE}}}], **total
        ),
        client.delete_item(TableName=TABLE, Key=key("b"), ReturnValues="ALL_OLD"),
    ]
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def answers_with(*, install: bool) -> list[Any]:
    restore = moto_responses.install() if install else None
    try:
        return workload(boto3.client("dynamodb"))
    finally:
        if restore is not None:
            restore()


@pytest.fixture
def fresh_table(aws: None) -> Callable[[], None]:
    def recreate() -> None:
        from infrastructure.table import create_table_request

        client = boto3.client("dynamodb")
        client.delete_table(TableName=TABLE)
        client.get_waiter("table_not_exists").wait(TableName=TABLE)
        client.create_table(**create_table_request(TABLE))

    return recreate


def test_item_answers_written_directly_equal_moto_shape_walk_answers(fresh_table: Callable[[], None]) -> None:
    # Given the same item operations run once as moto answers them and once through the patch
    walked = answers_with(install=False)
    fresh_table()
    # When each answer is parsed by botocore
    written = answers_with(install=True)
    # Then every answer is the same, blobs and number sets included
    assert written == walked
    assert written[3]["Item"]["blob"] == {"B": b"\x00\xffbytes"}
    assert written[6]["LastEvaluatedKey"] and written[6]["ConsumedCapacity"]["TableName"] == TABLE


def test_the_patch_writes_item_answers_itself_and_leaves_other_operations_to_moto(aws: None) -> None:
    # Given the patch installed, and moto's shape walk made to fail if it is reached
    restore = moto_responses.install()
    client = boto3.client("dynamodb")
    walked: list[str] = []
    original = moto_responses._original_execute_result

    def spy(self: Any, context: Any) -> Any:
        walked.append(context.operation_model.name)
        return original(self, context)

    moto_responses._original_execute_result = spy
    try:
        # When an item operation and a control-plane operation are called
        client.put_item(TableName=TABLE, Item={**key("c"), "blob": {"B": base64.b64decode("AAE=")}})
        client.get_item(TableName=TABLE, Key=key("c"))
        client.describe_table(TableName=TABLE)
    finally:
        moto_responses._original_execute_result = original
        restore()
    # Then only the control-plane answer went through moto's shape walk
    assert walked == ["DescribeTable"]


def stream_records(client: Any) -> list[dict[str, Any]]:
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = client_streams().describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = client_streams().get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return list(client_streams().get_records(ShardIterator=iterator, Limit=1000)["Records"])


def client_streams() -> Any:
    return boto3.client("dynamodbstreams")


def test_stream_records_read_through_the_patch_equal_those_of_moto_shape_walk(aws: None) -> None:
    # Given a stream holding inserts, changes and removals of items of every attribute type
    client = boto3.client("dynamodb")
    workload(client)
    # When the same records are read once through moto's shape walk and once through the patch
    walked = stream_records(client)
    restore = moto_responses.install()
    try:
        written = stream_records(client)
    finally:
        restore()
    # Then botocore parses the same records, their creation times included
    assert len(written) >= 5
    assert written == walked
    assert {record["eventName"] for record in written} == {"INSERT", "MODIFY", "REMOVE"}
