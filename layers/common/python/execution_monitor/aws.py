"""Cached boto3 client factories. Nothing is created at import time; tests reset with cache_clear()."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# A larger pool than botocore's 10: locally every SSE connection shares one process and client.
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
    max_pool_connections=50,
)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


def reset_clients() -> None:
    client.cache_clear()
