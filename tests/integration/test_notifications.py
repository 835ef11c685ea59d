"""Events out, stalls and retry plans on moto: the real state machine, the real stream consumer and
webhook deliverer, EventBridge captured through a rule, webhooks received on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from execution_monitor import clock
from execution_monitor.engine.runner import default_runner
from execution_monitor.engine.sweep import sweep
from execution_monitor.settings import reset_settings
from execution_monitor.store.dynamodb import DynamoStore
from get_retry_plan import handler as get_retry_plan
from infrastructure.local.queue_poller import QueuePoller
from infrastructure.local.stream_poller import StreamPoller, new_image_filter
from list_execution_events import handler as list_execution_events
from put_workflow import handler as put_workflow
from retry_execution import handler as retry_execution
from tests.helpers import LambdaContext, api_event, call
from tests.integration.conftest import TABLE
from tests.integration.loopback import Loopback, loopback_server
from tests.integration.test_engine import BASE, finished, post, start, step, wait_for

BUS = "execution-monitor-tests"


@pytest.fixture
def server() -> Iterator[Loopback]:
    with loopback_server() as state:
        yield state


@pytest.fixture
def notifications(engine: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The bus with a rule that copies every event to a queue we read, and the webhook queues."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    events.create_event_bus(Name=BUS)
    captured = sqs.create_queue(QueueName="captured-events")["QueueUrl"]
    captured_arn = sqs.get_queue_attributes(QueueUrl=captured, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["workflow-execution-monitor"]})
    )
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": captured_arn}])
    queues = {
        "EVENT_BUS_NAME": BUS,
        "WEBHOOK_QUEUE_URL": sqs.create_queue(QueueName="webhooks")["QueueUrl"],
        "WEBHOOK_DLQ_URL": sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"],
    }
    for name, value in queues.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    return {**queues, "captured": captured}


def consume_stream() -> None:
    from process_stream import handler as process_stream

    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    StreamPoller(
        boto3.client("dynamodbstreams"),
        arn,
        lambda event: process_stream.lambda_handler(event, LambdaContext()),
        record_filter=new_image_filter(),
    ).poll_until_idle()


def deliver_webhooks(queue_url: str) -> None:
    from deliver_webhook import handler as deliver_webhook

    poller = QueuePoller(
        boto3.client("sqs"),
        queue_url,
        lambda event: deliver_webhook.lambda_handler(event, LambdaContext()),
        wait_seconds=0,
    )
    while poller.poll_once():
        pass


def captured_events(queue_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = (
            boto3.client("sqs")
            .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        if not messages:
            return found
        found.extend(json.loads(message["Body"]) for message in messages)


def put_with_webhook(server: Loopback, actions: list[dict[str, Any]], events: list[str] | None = None) -> str:
    hook: dict[str, Any] = {"url": server.url + "/hook"}
    if events:
        hook["events"] = events
    status, _, body = call(
        put_workflow, api_event("PUT", BASE, body={"name": "w", "actions": actions, "webhooks": [hook]})
    )
    assert status == 200, body
    assert "webhookSecret" not in json.dumps(body["workflow"])
    return str(body["webhookSecret"])


def failing_call(server: Loopback) -> dict[str, Any]:
    return {"id": "call", "type": "http_request", "params": {"url": server.url + "/api"}}


def test_given_a_failing_run_then_eventbridge_and_the_webhook_get_each_event_once_signed_and_listed(
    store: DynamoStore, server: Loopback, notifications: dict[str, str]
) -> None:
    secret = put_with_webhook(server, [failing_call(server)])
    server.statuses = [500]  # the action's call fails; the webhook's POSTs then succeed
    failed = wait_for(store, start()["id"], finished)

    consume_stream()
    consume_stream()  # a replay of the whole stream publishes nothing more
    deliver_webhooks(notifications["WEBHOOK_QUEUE_URL"])

    assert failed.status == "failed"
    published = captured_events(notifications["captured"])
    assert sorted(event["detail-type"] for event in published) == ["Execution Failed", "Step Failed"]
    assert {event["source"] for event in published} == {"workflow-execution-monitor"}
    detail = next(event["detail"] for event in published if event["detail-type"] == "Execution Failed")
    assert detail["execution"]["id"] == failed.id and detail["execution"]["status"] == "failed"
    assert all("output" not in result for result in detail["execution"]["actionResults"])
    hooks = [(headers, body) for path, headers, body in server.received if path == "/hook"]
    assert len(hooks) == 2
    payloads = [Verifier(secret).verify(body, headers) for headers, body in hooks]
    assert sorted(payload["type"] for payload in payloads) == ["execution.failed", "step.failed"]
    status, _, listed = call(list_execution_events, api_event("GET", f"{BASE}/executions/{failed.id}/events"))
    assert status == 200
    assert sorted(event["type"] for event in listed["events"]) == ["execution.failed", "step.failed"]
    for event in listed["events"]:
        (delivery,) = event["deliveries"]
        assert delivery["state"] == "delivered" and [a["statusCode"] for a in delivery["attempts"]] == [200]


def test_given_a_receiver_that_fails_once_then_the_retry_keeps_the_webhook_id_and_records_both_attempts(
    store: DynamoStore, server: Loopback, notifications: dict[str, str]
) -> None:
    put_with_webhook(
        server, [{"id": "pause", "type": "delay", "params": {"seconds": 0}}], ["execution.completed"]
    )
    done = wait_for(store, start()["id"], finished)
    consume_stream()
    server.statuses = [500]
    from deliver_webhook import handler as deliver_webhook

    poller = QueuePoller(
        boto3.client("sqs"),
        notifications["WEBHOOK_QUEUE_URL"],
        lambda event: deliver_webhook.lambda_handler(event, LambdaContext()),
        wait_seconds=0,
    )
    assert poller.poll_once() == 1  # answered 500: the message is hidden for its backoff
    sqs = boto3.client("sqs")
    assert sqs.receive_message(QueueUrl=notifications["WEBHOOK_QUEUE_URL"]).get("Messages") is None
    # The backoff has passed: make the message visible now, as SQS would.
    (event,) = store.events.list_events("ws1", done.id)
    from execution_monitor.notifications import DeliveryMessage

    sqs.send_message(
        QueueUrl=notifications["WEBHOOK_QUEUE_URL"], MessageBody=DeliveryMessage.of(event.ref, 0).to_json()
    )
    deliver_webhooks(notifications["WEBHOOK_QUEUE_URL"])

    ids = [headers["webhook-id"] for path, headers, _ in server.received if path == "/hook"]
    assert len(ids) == 2 and ids[0] == ids[1] == event.ref.id
    (delivery,) = store.events.list_events("ws1", done.id)[0].deliveries
    assert delivery.state == "delivered"
    assert [attempt.status_code for attempt in delivery.attempts] == [500, 200]
    assert delivery.attempts[0].next_attempt_at is not None and delivery.attempts[1].next_attempt_at is None


def test_given_a_webhook_to_a_private_address_then_put_refuses_it(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_ACTION_ALLOWED_NETWORKS", "")
    reset_settings()
    body = {
        "name": "w",
        "actions": [{"id": "a", "type": "delay", "params": {"seconds": 0}}],
        "webhooks": [{"url": "http://169.254.169.254/latest"}],
    }

    status, _, answer = call(put_workflow, api_event("PUT", BASE, body=body))

    assert status == 422
    assert answer["error"]["details"][0]["loc"] == ["body", "webhooks", 0, "url"]


def test_given_a_workflow_with_webhooks_then_only_the_first_put_and_a_rotation_answer_the_secret(
    store: DynamoStore, server: Loopback, engine: str
) -> None:
    first = put_with_webhook(server, [{"id": "a", "type": "delay", "params": {"seconds": 0}}])
    body = {
        "name": "w",
        "actions": [{"id": "a", "type": "delay", "params": {"seconds": 0}}],
        "webhooks": [{"url": server.url}],
    }

    _, _, again = call(put_workflow, api_event("PUT", BASE, body=body))
    _, _, rotated = call(
        put_workflow, api_event("PUT", BASE, body=body, query={"rotateWebhookSecret": "true"})
    )

    assert first.startswith("whsec_")
    assert again["webhookSecret"] is None
    assert rotated["webhookSecret"].startswith("whsec_") and rotated["webhookSecret"] != first
    assert store.workflows.get_webhook_secret("ws1", "wf1") == rotated["webhookSecret"]


def test_given_a_step_that_hangs_far_past_its_history_then_the_sweep_flags_the_stall_and_its_end_clears_it(
    store: DynamoStore, server: Loopback, notifications: dict[str, str]
) -> None:
    put_with_webhook(server, [failing_call(server)], ["execution.stalled"])
    assert wait_for(store, start()["id"], finished).status == "completed"
    consume_stream()  # the first run's durations are the statistics now
    server.hold.clear()  # the next call hangs
    hanging = start()["id"]
    wait_for(store, hanging, lambda execution: step(execution, "call").status == "running")
    running = store.executions.get_header("ws1", hanging)
    assert running is not None and running.check_at is not None

    early = sweep(
        store.executions, default_runner(), clock.parse_iso(running.updated_at) + timedelta(seconds=1)
    )
    later = clock.parse_iso(running.check_at) + timedelta(seconds=1)
    outcomes = sweep(store.executions, default_runner(), later)

    assert early == {} and outcomes == {"stalled": 1}
    stalled = wait_for(store, hanging, lambda execution: execution.stalled is not None)
    assert stalled.stalled is not None and stalled.stalled.action_id == "call"
    assert stalled.stalled.running_for >= stalled.stalled.expected_duration
    consume_stream()
    (event,) = store.events.list_events("ws1", hanging)
    assert event.ref.kind.value == "execution.stalled"
    server.hold.set()
    assert wait_for(store, hanging, finished).stalled is None


def test_given_a_failed_execution_then_the_retry_plans_say_what_runs_again_and_what_is_kept(
    store: DynamoStore, server: Loopback, engine: str
) -> None:
    put_with_webhook(
        server,
        [
            {"id": "first", "type": "delay", "params": {"seconds": 0}},
            failing_call(server),
            {"id": "last", "type": "delay", "params": {"seconds": 0}},
        ],
    )
    server.statuses = [500]
    failed = wait_for(store, start()["id"], finished)
    plan_url = f"{BASE}/executions/{failed.id}/retry-plan"

    _, _, step_plan = call(get_retry_plan, api_event("GET", plan_url, query={"actionId": "call"}))
    _, _, whole = call(get_retry_plan, api_event("GET", plan_url))
    unknown = call(get_retry_plan, api_event("GET", plan_url, query={"actionId": "nope"}))[0]
    not_failed = call(get_retry_plan, api_event("GET", plan_url, query={"actionId": "first"}))[0]

    plan = step_plan["plan"]
    assert (plan["kind"], plan["definitionVersion"]) == ("step", failed.workflow_version)
    assert [(s["actionId"], s["status"], s["attempts"]) for s in plan["rerun"]] == [
        ("call", "failed", 1),
        ("last", "skipped", 0),
    ]
    assert [s["actionId"] for s in plan["kept"]] == ["first"] and plan["kept"][0]["completedAt"]
    assert plan["estimatedDuration"] is None  # the call has no statistics yet
    assert whole["plan"]["kind"] == "execution" and [s["actionId"] for s in whole["plan"]["rerun"]] == [
        "first",
        "call",
        "last",
    ]
    assert (unknown, not_failed) == (404, 409)
    status, retried = post(retry_execution, failed.id, "retry")
    assert status == 201
    assert call(get_retry_plan, api_event("GET", plan_url))[0] == 409  # retried already
    wait_for(store, retried["execution"]["id"], finished)
