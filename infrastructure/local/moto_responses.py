"""moto's DynamoDB item answers and stream reads written as JSON directly (moto 5.2.5, pinned).

moto 5.2 turns every answer into its wire form by walking botocore's output shape, value by value,
including every attribute of every item returned. Under `make dev`'s load that walk is the single
largest cost of the process (about 30 % of the time the GIL is held, measured with py-spy), and
it grows with the size of what is read; the stream poller's reads, old and new images of up to
400 records each, pay it most. For the item operations and GetRecords, what moto returns is
already the wire form (`Item`, `Items`, `Attributes`, counts, keys, consumed capacity, stream
records), so the walk changes nothing but the time: `install()` writes those answers with
`json.dumps`, blobs in base64 and times as epoch seconds as the walk would. Any other operation,
or an answer with a member its shape does not declare, goes the original way.
tests/integration/test_moto_responses.py checks both give the same answers, operation by operation.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import TimestampSerializer

# The data-plane operations written directly, per service.
DIRECT_OPERATIONS = {
    "dynamodb": frozenset(
        {
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "BatchGetItem",
            "BatchWriteItem",
            "TransactGetItems",
            "TransactWriteItems",
        }
    ),
    "dynamodbstreams": frozenset({"GetRecords"}),
}
CONTENT_TYPE = "application/x-amz-json-1.0"

_original_execute_result = ActionResult.execute_result


def _written_directly(result: object, context: ActionContext) -> bool:
    operation = context.operation_model
    if operation.name not in DIRECT_OPERATIONS.get(context.service_model.service_name, ()):
        return False
    members = operation.output_shape.members if operation.output_shape is not None else {}
    return isinstance(result, dict) and all(
        key in members and value is not None for key, value in result.items()
    )


def _wire_value(value: object) -> str | int | float:
    """Binary attribute values (moto keeps bytes) in base64, a stream record's time as epoch seconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return TimestampSerializer._timestamp_unixtimestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def execute_result(self: ActionResult, context: ActionContext) -> Any:
    if _written_directly(self.result, context):
        try:
            return 200, {"Content-Type": CONTENT_TYPE}, json.dumps(self.result, default=_wire_value)
        except TypeError:
            pass  # a value this encoding does not know: the shape walk knows it
    return _original_execute_result(self, context)


def install() -> Callable[[], None]:
    """Applies the patch (idempotent); returns a function that restores moto's original."""
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]

    def restore() -> None:
        ActionResult.execute_result = _original_execute_result  # type: ignore[method-assign]

    return restore
