"""Test-wide defaults: fake AWS credentials and fresh settings/clients for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "execution-monitor-tests",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(autouse=True)
def _fresh_settings_and_clients() -> Iterator[None]:
    from execution_monitor import store
    from execution_monitor.aws import reset_clients
    from execution_monitor.settings import get_settings

    def reset() -> None:
        get_settings.cache_clear()
        reset_clients()
        store.default_store.cache_clear()

    reset()
    yield
    reset()
