"""Every log line of an API request names the execution it is about and API Gateway's request id,
and nothing of one request's keys leaks into the next."""

from __future__ import annotations

import io
import json

import pytest

from execution_monitor.api import correlate
from execution_monitor.observability import logger
from tests.helpers import api_event

EXECUTION = "/api/workspaces/ws1/workflows/wf1/executions/ex1"


@pytest.fixture
def output(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What the logger writes (its handler holds the stdout of import time, which capsys misses)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return buffer


def _logged(output: io.StringIO) -> dict[str, object]:
    (line,) = output.getvalue().splitlines()
    document: dict[str, object] = json.loads(line)
    return document


def test_given_a_request_about_an_execution_then_its_log_lines_carry_the_ids_and_the_request_id(
    output: io.StringIO,
) -> None:
    event = api_event("GET", EXECUTION)
    event["requestContext"]["requestId"] = "req-1"
    correlate(event)
    logger.warning("something happened")  # the tests log WARNING and up
    line = _logged(output)
    assert line["execution_id"] == "ex1"
    assert line["workflow_id"] == "wf1"
    assert line["workspace_id"] == "ws1"
    assert line["correlation_id"] == "req-1"


def test_given_a_later_request_without_an_execution_then_the_previous_id_is_not_logged(
    output: io.StringIO,
) -> None:
    correlate(api_event("GET", EXECUTION))
    correlate(api_event("GET", "/api/workspaces/ws1/workflows"))
    logger.warning("listing")
    line = _logged(output)
    assert "execution_id" not in line
    assert "workflow_id" not in line
    assert line["workspace_id"] == "ws1"
