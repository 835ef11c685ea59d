"""The DynamoDB adapter of the store interfaces: one table object per kind of data, composed.

Each is built on first use, so a function imports (and pays a cold start for) only the parts of
the adapter it uses.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from execution_monitor.store.dynamodb.events import EventTable
    from execution_monitor.store.dynamodb.executions import ExecutionTable
    from execution_monitor.store.dynamodb.statistics import StatisticsTable
    from execution_monitor.store.dynamodb.workflows import WorkflowTable


class DynamoStore:
    """The store of one table, taking an injected low-level client."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    @cached_property
    def workflows(self) -> WorkflowTable:
        from execution_monitor.store.dynamodb.workflows import WorkflowTable

        return WorkflowTable(self.client, self.table)

    @cached_property
    def executions(self) -> ExecutionTable:
        from execution_monitor.store.dynamodb.executions import ExecutionTable

        return ExecutionTable(self.client, self.table)

    @cached_property
    def statistics(self) -> StatisticsTable:
        from execution_monitor.store.dynamodb.statistics import StatisticsTable

        return StatisticsTable(self.client, self.table)

    @cached_property
    def events(self) -> EventTable:
        from execution_monitor.store.dynamodb.events import EventTable

        return EventTable(self.client, self.table)
