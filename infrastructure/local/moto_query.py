"""moto's Query reads the partition it asks for, not the whole table (moto 5.2.5, pinned).

moto's `Table.query` starts from `Table.all_items()`: every item of the table, sorted by its keys,
then keeps the partition asked for (on an index: the items that carry the index's key) and sorts
what is left again. Every Query then costs O(n log n) in the size of the table. py-spy on a loaded
`make dev` at ~5,000 items (~800 executions) put 72 % of the time the GIL was held there, and
per-step time grew with the table. While a Query runs, `install()` has `all_items()` answer with
only that partition for a Query of the table, and with every item unsorted for a Query of an
index (moto sorts those by the index's keys and the table's afterwards). Either way the answer
is the same. tests/integration/test_moto_query.py compares answers with and without the patch.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

_original_query = Table.query
_original_all_items = Table.all_items
_QUERY_PARAMETERS = inspect.signature(_original_query)
_running = threading.local()  # the Query this thread is answering: (table, partition or None)


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    arguments = _QUERY_PARAMETERS.bind(self, *args, **kwargs).arguments
    partition = None if arguments.get("index_name") else arguments["hash_key"]
    _running.query = (self, partition)
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _running.query = None


def _all_items(self: Table) -> list[Item]:
    running = getattr(_running, "query", None)
    if running is None or running[0] is not self:
        return _original_all_items(self)
    partition = running[1]
    groups = list(self.items.values()) if partition is None else [self.items.get(partition, {})]
    if self.range_key_attr:
        return [item for group in groups for item in group.values()]
    return [group for group in groups if isinstance(group, Item)]


def install() -> Callable[[], None]:
    """Applies the patch (idempotent); returns a function that restores moto's originals."""
    Table.query = _query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]

    def restore() -> None:
        Table.query = _original_query  # type: ignore[method-assign]
        Table.all_items = _original_all_items  # type: ignore[method-assign]

    return restore
