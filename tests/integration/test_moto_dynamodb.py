"""The local runtime's moto DynamoDB patch: item-level transaction rollback, one stream record per
changed item, ClientRequestToken idempotency, a stream trimmed behind its reader, expiring iterators."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table

from infrastructure.local import moto_dynamodb, moto_tracking
from infrastructure.local.aws import ACCOUNT_ID
from infrastructure.local.stream_poller import MappingSettings, StreamPoller, read_stream
from infrastructure.table import create_table_request
from tests.integration.conftest import TABLE

EXISTS = "attribute_exists(pk)"
FAST = MappingSettings(batch_size=100, max_batching_window_seconds=0, poll_interval_seconds=0)


@pytest.fixture
def patched(aws: None) -> Iterator[None]:
    restore = moto_dynamodb.install()
    yield
    restore()


@pytest.fixture
def client(patched: None) -> Any:
    return boto3.client("dynamodb")


def live_table() -> Table:
    return dynamodb_backends[ACCOUNT_ID]["us-east-1"].get_table(TABLE)


def live_shard() -> StreamShard:
    shard = live_table().stream_shard
    assert shard is not None
    return shard


def stream_arn(client: Any) -> str:
    return str(client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"])


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


def item(pk: str, value: str) -> dict[str, Any]:
    return {**key(pk), "value": {"S": value}}


def value_of(client: Any, pk: str) -> str | None:
    found = client.get_item(TableName=TABLE, Key=key(pk), ConsistentRead=True).get("Item")
    return None if found is None else str(found["value"]["S"])


def set_value(pk: str, value: str, **condition: Any) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(pk),
            "UpdateExpression": "SET #v = :v",
            "ExpressionAttributeNames": {"#v": "value"},
            "ExpressionAttributeValues": {":v": {"S": value}},
            **condition,
        }
    }


def put_new(pk: str, value: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": item(pk, value),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def collect(poller_records: list[dict[str, Any]]) -> StreamPoller:
    """A poller over the table's stream that keeps what it delivers and trims behind itself."""

    def invoke(event: dict[str, Any]) -> None:
        poller_records.extend(event["Records"])

    return StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn(boto3.client("dynamodb")),
        invoke,
        settings=FAST,
        on_checkpoint=moto_dynamodb.stream_trimmer(TABLE),
    )


def test_given_a_condition_fails_in_a_transaction_then_other_items_are_untouched_and_table_and_shard_stay(
    client: Any,
) -> None:
    client.put_item(TableName=TABLE, Item=item("a", "a1"))
    client.put_item(TableName=TABLE, Item=item("b", "b1"))
    table, shard = live_table(), live_shard()
    records: list[dict[str, Any]] = []
    poller = collect(records)
    poller.poll_until_idle()
    records.clear()

    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[set_value("a", "a2"), put_new("c", "c1"), put_new("b", "b2")],
        )

    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert (value_of(client, "a"), value_of(client, "b"), value_of(client, "c")) == ("a1", "b1", None)
    assert live_table() is table and live_shard() is shard
    poller.poll_until_idle()
    assert records == []  # a cancelled transaction writes nothing to the stream
    client.put_item(TableName=TABLE, Item=item("d", "d1"))
    poller.poll_until_idle()
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in records] == ["d"]


def test_given_a_transaction_commits_then_each_item_it_changed_appears_once_in_the_stream(
    client: Any,
) -> None:
    client.put_item(TableName=TABLE, Item=item("a", "a1"))
    client.put_item(TableName=TABLE, Item=item("z", "z1"))
    before = len(read_stream(boto3.client("dynamodbstreams"), stream_arn(client)))

    client.transact_write_items(
        TransactItems=[
            set_value("a", "a2"),
            set_value("new", "n1"),  # an update that creates its item: moto alone writes it twice
            put_new("c", "c1"),
            {"ConditionCheck": {"TableName": TABLE, "Key": key("z"), "ConditionExpression": EXISTS}},
        ]
    )

    records = read_stream(boto3.client("dynamodbstreams"), stream_arn(client))[before:]
    assert [(record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"]) for record in records] == [
        ("MODIFY", "a"),
        ("INSERT", "new"),
        ("INSERT", "c"),
    ]
    modify = records[0]["dynamodb"]
    assert (modify["OldImage"]["value"]["S"], modify["NewImage"]["value"]["S"]) == ("a1", "a2")
    assert records[1]["dynamodb"]["NewImage"]["value"]["S"] == "n1"


def test_given_the_poller_has_read_the_stream_then_the_stream_holds_no_consumed_records(client: Any) -> None:
    records: list[dict[str, Any]] = []
    poller = collect(records)
    for round_ in range(5):
        for index in range(100):
            client.transact_write_items(
                TransactItems=[put_new(f"r{round_}-{index}", "x"), set_value(f"s{round_}-{index}", "y")]
            )
        poller.poll_until_idle()
        assert len(live_shard().items) == 0

    sequences = [int(record["dynamodb"]["SequenceNumber"]) for record in records]
    assert len(records) == 1000
    assert sequences == sorted(set(sequences))  # none lost, none repeated, numbering kept
    fresh = read_stream(boto3.client("dynamodbstreams"), stream_arn(client))
    assert fresh == []  # a new reader starts after what was trimmed


def test_given_an_iterator_taken_before_a_trim_then_it_reads_on_from_the_oldest_record_kept(
    client: Any,
) -> None:
    streams = boto3.client("dynamodbstreams")
    arn = stream_arn(client)
    shard_id = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    old = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    for name in ("a", "b", "c"):
        client.put_item(TableName=TABLE, Item=item(name, "v"))
    first = read_stream(streams, arn)[0]["dynamodb"]["SequenceNumber"]

    assert moto_dynamodb.trim_stream(TABLE, first) == 1

    page = streams.get_records(ShardIterator=old["ShardIterator"])
    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in page["Records"]] == ["b", "c"]


def test_given_a_token_is_replayed_then_the_transaction_applies_once_and_answers_success(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=item("a", "a1"))
    guarded = set_value("a", "a2", ConditionExpression="#v = :old")
    guarded["Update"]["ExpressionAttributeValues"][":old"] = {"S": "a1"}
    transaction = [guarded, put_new("b", "b1")]
    streams_before = len(read_stream(boto3.client("dynamodbstreams"), stream_arn(client)))

    client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-1")
    client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-1")  # an SDK retry

    assert (value_of(client, "a"), value_of(client, "b")) == ("a2", "b1")
    records = read_stream(boto3.client("dynamodbstreams"), stream_arn(client))[streams_before:]
    assert len(records) == 2
    with pytest.raises(ClientError) as other_request:
        client.transact_write_items(TransactItems=[put_new("c", "c1")], ClientRequestToken="token-1")
    assert other_request.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as without_token:
        client.transact_write_items(TransactItems=transaction)
    assert without_token.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_given_a_token_is_replayed_after_ten_minutes_then_the_transaction_runs_again(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [time.monotonic()]  # entries are kept in time order: the fake clock starts at the real one
    monkeypatch.setattr(moto_dynamodb, "clock", lambda: now[0])
    transaction = [put_new("a", "a1"), put_new("b", "b1")]
    client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-2")
    now[0] += moto_dynamodb.TOKEN_WINDOW_SECONDS + 1

    with pytest.raises(ClientError) as again:
        client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-2")

    assert again.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_given_a_cancelled_transaction_then_its_token_does_not_answer_success_later(client: Any) -> None:
    client.put_item(TableName=TABLE, Item=item("b", "b0"))
    transaction = [put_new("a", "a1"), put_new("b", "b1")]
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-3")
    client.delete_item(TableName=TABLE, Key=key("b"))

    client.transact_write_items(TransactItems=transaction, ClientRequestToken="token-3")

    assert (value_of(client, "a"), value_of(client, "b")) == ("a1", "b1")


def test_given_a_shard_iterator_older_than_fifteen_minutes_then_it_has_expired_and_the_poller_goes_on(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [time.monotonic()]  # entries are kept in time order: the fake clock starts at the real one
    monkeypatch.setattr(moto_dynamodb, "clock", lambda: now[0])
    records: list[dict[str, Any]] = []
    poller = collect(records)
    client.put_item(TableName=TABLE, Item=item("a", "a1"))
    poller.poll_until_idle()
    now[0] += moto_dynamodb.ITERATOR_LIFETIME_SECONDS + 1
    client.put_item(TableName=TABLE, Item=item("b", "b1"))

    poller.poll_until_idle()

    assert [record["dynamodb"]["Keys"]["pk"]["S"] for record in records] == ["a", "b"]


def test_given_tracking_is_off_then_moto_keeps_no_reference_to_stream_records_or_iterators(
    client: Any,
) -> None:
    from moto.dynamodbstreams.models import ShardIterator

    restore = moto_tracking.install()
    try:
        tracked_before = len(StreamRecord.instances_tracked) + len(ShardIterator.instances_tracked)  # type: ignore[attr-defined]
        records: list[dict[str, Any]] = []
        poller = collect(records)
        for index in range(50):
            client.put_item(TableName=TABLE, Item=item(f"t{index}", "v"))
            poller.poll_until_idle()
        tracked_after = len(StreamRecord.instances_tracked) + len(ShardIterator.instances_tracked)  # type: ignore[attr-defined]
    finally:
        restore()

    assert len(records) == 50
    assert tracked_after == tracked_before


RICH = {
    "text": {"S": "ünïcode"},
    "number": {"N": "-1.5"},
    "blob": {"B": b"\x00\xff"},
    "blobs": {"BS": [b"\x01"]},
    "numbers": {"NS": ["1", "2"]},
    "map": {"M": {"list": {"L": [{"NULL": True}, {"BOOL": True}, {"M": {"deep": {"S": "x"}}}]}}},
}


def stream_images(client: Any) -> list[tuple[str, Any, Any, Any]]:
    """Each record's kind, keys and images as botocore parses them."""
    arn = stream_arn(client)
    streams = boto3.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [
        (
            record["eventName"],
            record["dynamodb"]["Keys"],
            record["dynamodb"].get("OldImage"),
            record["dynamodb"].get("NewImage"),
        )
        for record in records
    ]


def write_rich_items(client: Any) -> None:
    client.put_item(TableName=TABLE, Item={**key("r"), **RICH})
    client.update_item(
        TableName=TABLE,
        Key=key("r"),
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "text"},
        ExpressionAttributeValues={":t": {"S": "changed"}},
    )
    client.delete_item(TableName=TABLE, Key=key("r"))


def test_given_stream_records_kept_serialized_then_reads_give_what_moto_records_give(aws: None) -> None:
    # Given inserts, a change and a removal of an item of every attribute type, read by plain moto
    plain = boto3.client("dynamodb")
    write_rich_items(plain)
    expected = stream_images(plain)
    plain.delete_table(TableName=TABLE)
    plain.get_waiter("table_not_exists").wait(TableName=TABLE)
    plain.create_table(**create_table_request(TABLE))
    # When the same writes are recorded with the patch, which keeps each record serialized
    restore = moto_dynamodb.install()
    try:
        write_rich_items(plain)
        compact = live_shard().items[0]
        got = stream_images(plain)
    finally:
        restore()
    # Then the records read are the same, binary values included, and held as one bytes object
    assert [kind for kind, *_ in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert got == expected
    assert isinstance(compact.compact, bytes)  # type: ignore[attr-defined]
