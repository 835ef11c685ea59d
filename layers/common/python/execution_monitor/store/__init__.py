"""Storage: interfaces, key layout and the DynamoDB adapter."""

from __future__ import annotations

from functools import lru_cache

from execution_monitor.aws import client
from execution_monitor.settings import get_settings
from execution_monitor.store.dynamodb import DynamoStore


@lru_cache(maxsize=1)
def default_store() -> DynamoStore:
    """The store built from settings and the cached client (created on first use, not import)."""
    return DynamoStore(client("dynamodb"), get_settings().require_table())
