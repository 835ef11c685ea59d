"""moto's DynamoDB transactions and stream, fit for a long local session (moto 5.2.5, pinned).

moto's `transact_write_items` deep-copies every table it touches, stream shard included, before
each transaction, and swaps the copy in when a condition fails. Its cost grows with the table and
its whole stream history, and a swap cuts off whoever holds the old table's shard (the stream
poller: progress stops after the first cancelled transaction). Stream shards and shard iterators
are also kept forever. `install()` replaces, narrowly:

- `DynamoDBBackend.transact_write_items`: the same checks and writes, but only the items the
  transaction touches are saved and put back on failure; the table and its shard stay the same
  objects. Its stream records appear on commit, one per changed item (as DynamoDB writes them),
  and none for a cancelled transaction.
- `DynamoHandler.transact_write_items`: `ClientRequestToken` as DynamoDB honours it (moto ignores
  it). A repeat within 10 minutes answers success without applying again; the same token with
  other items is an IdempotentParameterMismatchException.
- the streams backend's shard iterators expire after 15 minutes as in DynamoDB Streams
  (ExpiredIteratorException), and `StreamShard.get` reads from the oldest record still kept.
- `StreamRecord` holds its record serialized (one bytes object), not as moto's nested dicts of
  both images (about 16 KB each for this table's items): records wait in the shard until the
  poller reads them, thousands of them when `make dev` is loaded.

`trim_stream` drops the records a consumer has read. Locally the stream poller is the only
consumer, so it trims behind itself; DynamoDB keeps records 24 hours whatever was read (the
local difference: a second reader of `make dev`'s stream sees only what the poller has not read).
A test pins each behaviour (tests/integration/test_moto_*.py).
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    ConditionalCheckFailed,
    DynamodbException,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

from infrastructure.local import moto_threads
from infrastructure.local.aws import ACCOUNT_ID, REGION

TOKEN_WINDOW_SECONDS = 600.0  # DynamoDB's ClientRequestToken idempotency window
ITERATOR_LIFETIME_SECONDS = 900.0  # a DynamoDB Streams shard iterator expires after 15 minutes
_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})
clock: Callable[[], float] = time.monotonic  # tests move it


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            "The request uses the same client token as a previous, but non-identical request.",
        )


class ExpiredIterator(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("ExpiredIteratorException", "The shard iterator has expired.")


class _Expiring(OrderedDict[str, Any]):
    """Entries in insertion order that drop out `lifetime` seconds after they were set."""

    def __init__(self, lifetime: float) -> None:
        super().__init__()
        self.lifetime = lifetime
        self.set_at: dict[str, float] = {}

    def __setitem__(self, key: str, value: Any) -> None:
        self.prune()
        super().__setitem__(key, value)
        self.set_at[key] = clock()

    def prune(self) -> None:
        expired_before = clock() - self.lifetime
        while self and self.set_at[next(iter(self))] < expired_before:
            key, _ = self.popitem(last=False)
            del self.set_at[key]


# -- transactions ----------------------------------------------------------------------------------

Key = tuple[str, DynamoType, DynamoType | None]


class _Undo:
    """The items a transaction touched as they were before it, and each stream's length then."""

    def __init__(self, backend: DynamoDBBackend) -> None:
        self.backend = backend
        self.before: dict[Key, Item | None] = {}
        self.stream_lengths: dict[str, int] = {}

    def save(self, table_name: str, key: dict[str, Any]) -> None:
        table = self.backend.get_table(table_name)
        hash_key, range_key = self.backend.get_keys_value(table, key)
        current = table.get_item(hash_key, range_key)
        # Updates change the stored Item in place: keep a copy of this one item, not of the table.
        self.before[(table_name, hash_key, range_key)] = copy.deepcopy(current)
        if table.stream_shard is not None:
            self.stream_lengths.setdefault(table_name, len(table.stream_shard.items))

    def _drop_stream_records(self) -> None:
        """The records each write added as it went (moto's put/update/delete add their own)."""
        for table_name, length in self.stream_lengths.items():
            shard = self.backend.get_table(table_name).stream_shard
            if shard is not None:
                del shard.items[length:]

    def roll_back(self) -> None:
        self._drop_stream_records()
        for (table_name, hash_key, range_key), item in self.before.items():
            _put_back(self.backend.get_table(table_name), hash_key, range_key, item)

    def commit(self) -> None:
        """One stream record per item the transaction changed, as DynamoDB writes them on commit."""
        self._drop_stream_records()
        for (table_name, hash_key, range_key), old in self.before.items():
            table = self.backend.get_table(table_name)
            new = table.get_item(hash_key, range_key)
            changed = (old is None) != (new is None) or (
                old is not None and new is not None and old.to_json() != new.to_json()
            )
            if changed and table.stream_shard is not None:
                table.stream_shard.add(old, new)


def _put_back(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None) -> None:
    items: Any = table.items
    container = items[hash_key] if range_key is not None else items
    slot = range_key if range_key is not None else hash_key
    if item is None:
        container.pop(slot, None)
    else:
        container[slot] = item


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    """One operation; a false condition raises before anything is written."""
    table_name = op["TableName"]
    condition = op.get("ConditionExpression")
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    if condition is not None:
        from moto.dynamodb.comparisons import get_filter_expression

        if not get_filter_expression(condition, names, values).expr(backend.get_item(table_name, key)):
            raise ConditionalCheckFailed
    expressions: dict[str, Any] = {
        "condition_expression": condition,
        "expression_attribute_names": names,
        "expression_attribute_values": values,
    }
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **expressions)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **expressions)
    elif op_type == "Update":
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **expressions)


def _old_item(backend: DynamoDBBackend, op: dict[str, Any], key: dict[str, Any]) -> dict[str, Any] | None:
    """The item a failed condition saw, when the operation asked for it (ReturnValues...=ALL_OLD)."""
    if op.get("ReturnValuesOnConditionCheckFailure") != "ALL_OLD":
        return None
    current = backend.get_item(op["TableName"], key)
    return None if current is None else dict(current.to_json()["Attributes"])


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's transaction with an item-level undo instead of a deep copy of every table touched."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo(self)
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for transact_item in transact_items:
        if len(transact_item) > 1:
            undo.roll_back()
            raise TransactWriteSingleOpException
        op_type, op = next(iter(transact_item.items()))
        try:
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(self, op_type, op)
            identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if identity in seen:
                raise MultipleTransactionsException()
            seen.add(identity)
            undo.save(op["TableName"], key)
            _apply(self, op_type, op, key)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.roll_back()
            raise
        except ConditionalCheckFailed as failed:
            errors.append(("ConditionalCheckFailed", str(failed.message), _old_item(self, op, key)))
        except Exception as error:
            errors.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in errors):
        undo.roll_back()
        raise TransactionCanceledException(errors)
    undo.commit()


# -- ClientRequestToken ----------------------------------------------------------------------------

_original_handler_transact = DynamoHandler.transact_write_items
_TOKENS: _Expiring = _Expiring(TOKEN_WINDOW_SECONDS)


def handle_transact_write_items(self: DynamoHandler) -> Any:
    token = self.body.get("ClientRequestToken")
    if token is None:
        return _original_handler_transact(self)
    _TOKENS.prune()
    request = hashlib.sha256(json.dumps(self.body["TransactItems"], sort_keys=True).encode()).hexdigest()
    remembered = _TOKENS.get(token)
    if remembered is None:
        result = _original_handler_transact(self)
        _TOKENS[token] = request  # only a transaction that succeeded is answered from memory
        return result
    if remembered != request:
        raise IdempotentParameterMismatch()
    from moto.core.responses import ActionResult

    return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})


# -- the stream ------------------------------------------------------------------------------------

_original_streams_init = DynamoDBStreamsBackend.__init__
_original_get_records = DynamoDBStreamsBackend.get_records
_original_shard_get = StreamShard.get


def _streams_init(self: DynamoDBStreamsBackend, region_name: str, account_id: str) -> None:
    _original_streams_init(self, region_name, account_id)
    self.shard_iterators = _Expiring(ITERATOR_LIFETIME_SECONDS)


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    if isinstance(self.shard_iterators, _Expiring):
        self.shard_iterators.prune()
    if iterator_arn not in self.shard_iterators:
        raise ExpiredIterator()
    return dict(_original_get_records(self, iterator_arn, limit))


def _shard_get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    # An iterator older than a trim points before the first record kept: read from there.
    return list(_original_shard_get(self, max(start, self.starting_sequence_number), quantity))


_original_stream_record_init = StreamRecord.__init__


def _stream_record_init(self: StreamRecord, *args: Any) -> None:
    _original_stream_record_init(self, *args)
    # Pickled, not JSON: bytes (binary attributes) and the creation time come back as moto had them.
    self.compact = pickle.dumps(self.record, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[attr-defined]
    del self.record


def _stream_record_to_json(self: StreamRecord) -> dict[str, Any]:
    compact = getattr(self, "compact", None)
    if compact is None:  # recorded before the patch was installed
        return dict(self.record)
    record: dict[str, Any] = pickle.loads(compact)  # noqa: S301 (written by this process, above)
    return record


def trim_stream(
    table_name: str, through_sequence: str, account_id: str = ACCOUNT_ID, region: str = REGION
) -> int:
    """Drops the table's stream records up to and including `through_sequence`; returns how many."""
    with moto_threads.serialized():
        shard = dynamodb_backends[account_id][region].get_table(table_name).stream_shard
        if shard is None:
            return 0
        count = min(int(through_sequence) + 1 - shard.starting_sequence_number, len(shard.items))
        if count <= 0:
            return 0
        del shard.items[:count]
        # Sequence numbers are list positions from the start: keep the numbering of what is left.
        shard.starting_sequence_number += count
        return count


def stream_trimmer(table_name: str) -> Callable[[str, str], None]:
    """A stream poller's `on_checkpoint`: trims the table's stream behind what it has read."""

    def trim(shard_id: str, sequence: str) -> None:
        trim_stream(table_name, sequence)

    return trim


# -- install ---------------------------------------------------------------------------------------

_PATCHES: list[tuple[Any, str, Any]] = [
    (DynamoDBBackend, "transact_write_items", transact_write_items),
    (DynamoHandler, "transact_write_items", handle_transact_write_items),
    (DynamoDBStreamsBackend, "__init__", _streams_init),
    (DynamoDBStreamsBackend, "get_records", _get_records),
    (StreamShard, "get", _shard_get),
    (StreamRecord, "__init__", _stream_record_init),
    (StreamRecord, "to_json", _stream_record_to_json),
]


def install() -> Callable[[], None]:
    """Applies the patches (idempotent); returns a function that restores moto's originals.

    Streams backends made before the install keep their plain iterator dict (they still work).
    """
    originals = [(owner, name, owner.__dict__[name]) for owner, name, _ in _PATCHES]
    for owner, name, patched in _PATCHES:
        setattr(owner, name, patched)

    def restore() -> None:
        for owner, name, original in originals:
            setattr(owner, name, original)

    return restore
