"""Makes moto's DynamoDB safe to share between threads, as the local runtime and tests need.

moto's DynamoDB is not thread-safe: a Query iterating a partition while another thread writes it
raises "dictionary changed size during iteration", and a conditional write's check and write are
not atomic across threads (AWS guarantees both). The engine's threads, the stream poller and
concurrent API calls all share it, so DynamoDB and DynamoDB Streams requests take one lock, as if
queued at a single-threaded service. Only those: moto's Step Functions invokes Lambda in-process,
and a lock held across a whole step would starve every other thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_LOCK = threading.RLock()
_HANDLERS = (DynamoHandler, DynamoDBStreamsHandler)


def _serialized(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call_action_alone(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    call_action_alone.serialized = True  # type: ignore[attr-defined]
    return call_action_alone


@contextmanager
def serialized() -> Iterator[None]:
    """Holds the lock for in-process work on moto's DynamoDB state outside a request."""
    with _LOCK:
        yield


def serialize_dynamodb() -> Callable[[], None]:
    """Installs the lock (idempotent); returns a function that removes it."""
    originals = {handler: handler.call_action for handler in _HANDLERS}
    for handler, call_action in originals.items():
        # A marker of our own: moto's handlers are already functools-wrapped (they have __wrapped__).
        if not getattr(call_action, "serialized", False):
            handler.call_action = _serialized(call_action)  # type: ignore[method-assign]

    def restore() -> None:
        for handler, call_action in originals.items():
            handler.call_action = call_action  # type: ignore[method-assign]

    return restore
