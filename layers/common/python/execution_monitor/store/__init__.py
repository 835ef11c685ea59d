"""Storage: the interfaces logic depends on (`interface`), and their DynamoDB adapter (`dynamodb`)."""

from __future__ import annotations

from functools import cache

from execution_monitor.aws import client
from execution_monitor.settings import TableSettings
from execution_monitor.store.dynamodb import DynamoStore


@cache
def default_store() -> DynamoStore:
    """The store built from settings and the cached client (created on first use, not import)."""
    return DynamoStore(client("dynamodb"), TableSettings.load().table_name)
