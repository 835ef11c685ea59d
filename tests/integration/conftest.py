"""moto-backed fixtures: a real table (from the same spec the local runtime uses)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from execution_monitor.store.dynamodb import DynamoStore
from infrastructure.local import lambda_isolation
from infrastructure.local.moto_threads import serialize_dynamodb
from infrastructure.table import create_table_request

TABLE = "executions-test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    # The engine's threads, pollers and concurrent calls share moto, which is not thread-safe.
    restore = serialize_dynamodb()
    isolation = lambda_isolation.install()  # tests call handlers from several threads at once
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        boto3.client("dynamodb").create_table(**create_table_request(TABLE))
        yield
    isolation()
    restore()


@pytest.fixture
def dynamodb(aws: None) -> Any:
    from execution_monitor.aws import client

    return client("dynamodb")


@pytest.fixture
def store(dynamodb: Any) -> DynamoStore:
    return DynamoStore(dynamodb, TABLE)


class RequestCounter:
    """Counts DynamoDB API calls through a botocore event hook on the shared client."""

    def __init__(self, client: Any) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def reset(self) -> None:
        self.calls.clear()


@pytest.fixture
def dynamodb_requests(dynamodb: Any) -> RequestCounter:
    return RequestCounter(dynamodb)


@pytest.fixture
def engine(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real state machine on moto with run_action in-process; stops leftover runs afterwards."""
    from infrastructure.local.engine import provision_engine

    arn = provision_engine(boto3.Session())
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("HTTP_ACTION_ALLOWED_NETWORKS", "127.0.0.0/8")
    yield arn
    sfn = boto3.client("stepfunctions")
    for run in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=run["executionArn"])
