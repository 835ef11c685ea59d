"""The DynamoDB adapter of the store interfaces: one table object per kind of data, composed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from execution_monitor.store.dynamodb.events import EventTable
from execution_monitor.store.dynamodb.executions import ExecutionTable
from execution_monitor.store.dynamodb.statistics import StatisticsTable
from execution_monitor.store.dynamodb.workflows import WorkflowTable


@dataclass(frozen=True)
class DynamoStore:
    """The store of one table, taking an injected low-level client."""

    workflows: WorkflowTable
    executions: ExecutionTable
    statistics: StatisticsTable
    events: EventTable

    @classmethod
    def of(cls, client: Any, table: str) -> DynamoStore:
        return cls(
            WorkflowTable(client, table),
            ExecutionTable(client, table),
            StatisticsTable(client, table),
            EventTable(client, table),
        )
