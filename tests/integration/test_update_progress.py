"""update_progress on moto: real stream records from the table, the real handler, the local poller."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from execution_monitor import clock
from execution_monitor.engine import lifecycle
from execution_monitor.engine.runner import default_runner
from execution_monitor.models import WorkflowDefinition
from execution_monitor.progress_updater import Outcome, ProgressUpdater
from execution_monitor.store import keys
from execution_monitor.store.dynamodb import DynamoStore
from execution_monitor.store.progress_writes import STATS_MARK, stats_keys
from execution_monitor.store.records import header_keys
from execution_monitor.store.updates import Update
from infrastructure.local.stream_poller import (
    MappingSettings,
    StreamPoller,
    item_type_filter,
    read_stream,
    sqs_on_failure,
)
from tests.bench.progress_bench import (
    COMPLETED_STEPS,
    EXECUTIONS,
    STEPS,
    WORKFLOW,
    WORKSPACE,
    HeaderWriteCounter,
    seed_executions,
)
from tests.helpers import LambdaContext, api_event, call
from tests.integration.conftest import TABLE, RequestCounter
from update_progress import handler as update_progress


def stream_arn() -> str:
    return str(boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"])


def all_records() -> list[dict[str, Any]]:
    return read_stream(boto3.client("dynamodbstreams"), stream_arn())


def handle(records: list[dict[str, Any]]) -> dict[str, Any]:
    return update_progress.lambda_handler({"Records": records}, LambdaContext())


def header_of(store: DynamoStore, execution_id: str, workspace: str = WORKSPACE) -> dict[str, Any]:
    found = store.read_execution_records(workspace, execution_id)
    assert found is not None
    return found[0]


def put_poison_header(store: DynamoStore, execution_id: str = "exec_poison") -> None:
    """An execution header without a status: no recompute of it can ever succeed."""
    store.client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": keys.execution_pk(WORKSPACE, execution_id)},
            "sk": {"S": keys.EXECUTION_SK},
            "type": {"S": keys.ITEM_EXECUTION},
            "id": {"S": execution_id},
            "workspaceId": {"S": WORKSPACE},
            "workflowId": {"S": WORKFLOW},
            "version": {"N": "1"},
        },
    )


# -- the list shows progress ------------------------------------------------------------------


def test_given_the_updater_ran_when_listing_executions_then_each_shows_progress_from_its_header_alone(
    store: DynamoStore, dynamodb_requests: RequestCounter
) -> None:
    from list_executions import handler as list_handler

    ids = seed_executions(store, executions=3)
    assert handle(all_records()) == {"batchItemFailures": []}

    dynamodb_requests.reset()
    status, _, body = call(
        list_handler,
        api_event(
            "GET", f"/api/workspaces/{WORKSPACE}/workflows/{WORKFLOW}/executions", workspaces=(WORKSPACE,)
        ),
    )

    assert status == 200
    assert dynamodb_requests.calls == ["Query"]  # one index page: no step item is read
    listed = {execution["id"]: execution for execution in body["executions"]}
    assert set(listed) == set(ids)
    for execution in listed.values():
        progress = execution["progress"]
        assert (progress["completedSteps"], progress["totalSteps"], progress["percentage"]) == (3, 5, 60)
        # The running 4th step and the pending 5th, one minute each (the 4th began seconds ago).
        assert 100_000 < progress["estimatedTimeRemaining"] <= 120_000
        assert progress["estimatedCompletionAt"] > execution["updatedAt"]
        assert "actionResults" not in execution or execution["actionResults"] is None


# -- one write per execution per batch, idempotent --------------------------------------------


def test_given_1000_stream_records_over_50_executions_when_handled_then_at_most_50_aggregate_writes(
    store: DynamoStore, dynamodb: Any
) -> None:
    ids = seed_executions(store, executions=EXECUTIONS)
    records = all_records()
    assert len(records) == 1000
    writes = HeaderWriteCounter(dynamodb)

    assert handle(records) == {"batchItemFailures": []}

    assert writes.count <= EXECUTIONS
    for execution_id in ids:
        progress = header_of(store, execution_id)["progress"]
        assert (progress["completedSteps"], progress["percentage"]) == (COMPLETED_STEPS, 60)


def test_given_an_updated_table_when_its_records_are_replayed_duplicated_or_reversed_then_nothing_changes(
    store: DynamoStore, dynamodb: Any
) -> None:
    ids = seed_executions(store, executions=4)
    records = all_records()
    handle(records)
    items_before = {execution_id: header_of(store, execution_id) for execution_id in ids}
    stats_before = store.get_step_stats(WORKSPACE, WORKFLOW, [f"step{index}" for index in range(STEPS)])
    writes = HeaderWriteCounter(dynamodb)

    handle(records)  # replayed
    handle(records[::-1])  # reversed
    handle([record for record in records for _ in range(2)])  # every record twice
    handle(all_records())  # including the updater's own writes coming back

    assert writes.count == 0
    assert {execution_id: header_of(store, execution_id) for execution_id in ids} == items_before
    assert (
        store.get_step_stats(WORKSPACE, WORKFLOW, [f"step{index}" for index in range(STEPS)]) == stats_before
    )
    assert {name: stats.count for name, stats in stats_before.items()} == {
        f"step{index}": 4 for index in range(COMPLETED_STEPS)
    }


def test_given_completed_steps_when_folded_then_statistics_count_each_attempt_once_and_mark_the_step(
    store: DynamoStore,
) -> None:
    ids = seed_executions(store, executions=2)
    for _ in range(3):
        handle(all_records())

    stats = store.client.get_item(
        TableName=TABLE, Key={k: {"S": v} for k, v in stats_keys(WORKSPACE, WORKFLOW, "step0").items()}
    )["Item"]
    assert (stats["count"]["N"], stats["version"]["N"], stats["typicalMs"]["N"]) == ("2", "2", "60000")
    found = store.read_execution_records(WORKSPACE, ids[0])
    assert found is not None
    assert [step.get(STATS_MARK) for step in found[1]] == [1, 1, 1, None, None]


def test_given_a_concurrent_step_write_when_the_aggregate_is_written_then_the_updater_rereads_and_retries(
    store: DynamoStore,
) -> None:
    (execution_id,) = seed_executions(store, executions=1)
    reads = []

    class RacingStore(DynamoStore):
        def read_execution_records(self, workspace_id: str, execution_id: str, from_step: int = 0) -> Any:
            found = super().read_execution_records(workspace_id, execution_id, from_step)
            reads.append(found)
            if len(reads) == 1:  # run_action writes right after our read
                now = clock.iso(clock.now())
                assert self.apply(
                    Update(
                        header_keys(workspace_id, execution_id), sets={"updatedAt": now}, bump_version=True
                    )
                )
            return found

    racing = RacingStore(store.client, TABLE)
    version_before = header_of(store, execution_id)["version"]

    assert ProgressUpdater(racing).recompute(WORKSPACE, execution_id) is Outcome.WRITTEN

    assert len(reads) == 2
    header = header_of(store, execution_id)
    assert header["version"] == version_before + 2
    assert header["progress"]["completedSteps"] == COMPLETED_STEPS


# -- partial batch failures --------------------------------------------------------------------


def test_given_a_poison_record_in_a_batch_when_handled_then_only_it_is_reported_and_the_rest_is_processed(
    store: DynamoStore,
) -> None:
    ids = seed_executions(store, executions=2)
    put_poison_header(store)
    records = all_records()
    poison = [record for record in records if is_poison(record)]

    response = handle(records)

    assert response == {"batchItemFailures": [{"itemIdentifier": poison[0]["dynamodb"]["SequenceNumber"]}]}
    for execution_id in ids:
        assert header_of(store, execution_id)["progress"]["completedSteps"] == COMPLETED_STEPS


def test_given_a_poison_record_when_the_poller_delivers_then_it_is_retried_bisected_and_parked_in_the_dlq(
    store: DynamoStore,
) -> None:
    before = seed_executions(store, executions=3)
    put_poison_header(store)
    after = seed_executions(store, executions=2)  # records behind the poison one
    queue_url = boto3.client("sqs").create_queue(QueueName="update-progress-dlq")["QueueUrl"]
    poison_sequence = next(r["dynamodb"]["SequenceNumber"] for r in all_records() if is_poison(r))
    invocations: list[list[str]] = []

    def invoke(event: dict[str, Any]) -> Any:
        invocations.append([record["dynamodb"]["SequenceNumber"] for record in event["Records"]])
        return update_progress.lambda_handler(event, LambdaContext())

    poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn(),
        invoke,
        settings=MappingSettings(batch_size=100, retry_attempts=2, retry_delay_seconds=0),
        record_filter=item_type_filter(),
        on_failure=sqs_on_failure(boto3.client("sqs"), queue_url),
    )
    poller.poll_until_idle()

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    parked = json.loads(messages[0]["Body"])
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["requestContext"]["approximateInvokeCount"] == 3  # the first try and 2 retries
    info = parked["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison_sequence,
        poison_sequence,
        1,
    )
    assert poller.counters.records_parked == 1
    # The first invocation had the whole batch; bisection isolated the poison record, alone 3 times.
    assert poison_sequence in invocations[0] and len(invocations[0]) > 50
    assert invocations.count([poison_sequence]) == 3
    # Nothing else lost: executions before and after the poison record all have their progress.
    for execution_id in before + after:
        assert header_of(store, execution_id)["progress"]["completedSteps"] == COMPLETED_STEPS


def is_poison(record: dict[str, Any]) -> bool:
    return str(record["dynamodb"]["Keys"]["pk"]["S"]).endswith("#exec_poison")


# -- accuracy: the ETA of a second run, at every step boundary -------------------------------


class SleepHandler(BaseHTTPRequestHandler):
    """GET /sleep/<ms>: answers after that many milliseconds (a dependency of known latency)."""

    def do_GET(self) -> None:
        time.sleep(int(self.path.rsplit("/", 1)[-1]) / 1000)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def sleep_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SleepHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def wait_until_finished(
    store: DynamoStore, workspace: str, execution_id: str, timeout: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        header = header_of(store, execution_id, workspace)
        if header["status"] in ("completed", "failed", "cancelled"):
            return header
        time.sleep(0.02)
    raise AssertionError(f"execution {execution_id} did not finish in {timeout}s")


def test_given_a_second_run_of_known_step_durations_when_it_runs_then_every_eta_is_within_20_percent(
    store: DynamoStore, engine: str, sleep_server: str
) -> None:
    # What the steps really take: 0.5 s, 1 s (delay), 1 s, 0.5 s, 2 s (delay). The last step is the
    # longest so that even the last boundary's remaining time is not a fraction of a second.
    definition = WorkflowDefinition.model_validate(
        {
            "name": "known durations",
            "actions": [
                {"id": "fetch", "type": "http_request", "params": {"url": f"{sleep_server}/sleep/500"}},
                {"id": "pause", "type": "delay", "params": {"seconds": 1}},
                {"id": "process", "type": "http_request", "params": {"url": f"{sleep_server}/sleep/1000"}},
                {"id": "report", "type": "http_request", "params": {"url": f"{sleep_server}/sleep/500"}},
                {"id": "cool_down", "type": "delay", "params": {"seconds": 2}},
            ],
        }
    )
    workflow = store.put_workflow("ws_eta", "wf_eta", definition)
    watched: dict[str, Any] = {"id": None, "samples": []}

    def invoke(event: dict[str, Any]) -> Any:
        response = update_progress.lambda_handler(event, LambdaContext())
        if watched["id"]:
            progress = header_of(store, watched["id"], "ws_eta").get("progress")
            if progress and (not watched["samples"] or watched["samples"][-1] != progress):
                watched["samples"].append(progress)
        return response

    poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stream_arn(),
        invoke,
        settings=MappingSettings(max_batching_window_seconds=0.02, poll_interval_seconds=0.02),
        record_filter=item_type_filter(),
    ).start()
    try:
        first, _ = lifecycle.start_execution(store, default_runner(), workflow, {})
        assert wait_until_finished(store, "ws_eta", first.id)["status"] == "completed"
        assert poller.wait_idle(5)  # the first run's durations are in the statistics now

        second, _ = lifecycle.start_execution(store, default_runner(), workflow, {})
        watched["id"] = second.id
        finished = wait_until_finished(store, "ws_eta", second.id)
        assert poller.wait_idle(5)
    finally:
        poller.stop()

    assert finished["status"] == "completed"
    completed_at = clock.parse_iso(finished["completedAt"])
    estimates = [sample for sample in watched["samples"] if sample["estimatedTimeRemaining"] is not None]
    # One estimate at least per boundary: before the first step and after each of the first four.
    assert {sample["completedSteps"] for sample in estimates} == {0, 1, 2, 3, 4}
    for sample in estimates:
        eta = sample["estimatedTimeRemaining"]
        computed_at = clock.parse_iso(sample["estimatedCompletionAt"]).timestamp() - eta / 1000
        true_remaining = (completed_at.timestamp() - computed_at) * 1000
        assert abs(eta - true_remaining) <= 0.2 * true_remaining, (sample, round(true_remaining))
    assert watched["samples"][-1]["percentage"] == 100
