"""Test-wide defaults: fake AWS credentials, the settings every function validates at cold start,
and fresh settings/clients for every test."""

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
        "POWERTOOLS_METRICS_NAMESPACE": "ExecutionMonitorTests",
        "POWERTOOLS_METRICS_DISABLED": "true",  # tests that read metrics turn them on
        # Handler modules validate these when imported; tests that need real values set them.
        "TABLE_NAME": "executions-test",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:engine",
        "JWT_JWKS_URL": "file:///nonexistent/jwks.json",
        "EVENT_BUS_NAME": "execution-monitor-tests",
        "WEBHOOK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks",
        "WEBHOOK_DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/webhooks-dlq",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keeps each xdist_group on one worker (`make test` runs `--dist loadgroup`): pytest 9 reads a
    node's id from `_id`, while pytest-xdist 3.8 still writes its group suffix to `_nodeid`, so the
    e2e and browser tests were spread over both workers, each starting its own local runtime."""
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted(
            {
                str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                for mark in item.iter_markers("xdist_group")
            }
        )
        if groups and item.nodeid.rfind("@") <= item.nodeid.rfind("]"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(autouse=True)
def _fresh_settings_and_clients() -> Iterator[None]:
    from execution_monitor import store
    from execution_monitor.aws import reset_clients
    from execution_monitor.settings import reset_settings

    def reset() -> None:
        reset_settings()
        reset_clients()
        store.default_store.cache_clear()

    reset()
    yield
    reset()
