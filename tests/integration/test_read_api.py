"""The read API on moto: request counts, caching headers, paging and tenancy of keys."""

import pytest

from execution_monitor import clock
from execution_monitor.domain import transitions
from execution_monitor.domain.status import ExecutionStatus
from execution_monitor.domain.workflow import Workflow
from execution_monitor.engine import lifecycle
from execution_monitor.store.dynamodb import DynamoStore
from get_execution import handler as get_execution
from get_workflow import handler as get_workflow
from list_executions import handler as list_executions
from put_workflow import handler as put_workflow
from tests.helpers import LambdaContext, NoRunner, api_event, call
from tests.integration.conftest import RequestCounter

BASE = "/api/workspaces/ws1/workflows/wf1"
DEFINITION = {
    "name": "nightly",
    "actions": [
        {"id": "wait", "type": "delay", "params": {"seconds": 1}},
        {"id": "notify", "type": "send_message", "params": {"queueUrl": "https://q", "message": "done"}},
    ],
}


@pytest.fixture
def workflow(store: DynamoStore) -> Workflow:
    status, _, _ = call(put_workflow, api_event("PUT", BASE, body=DEFINITION))
    assert status == 200
    found = store.workflows.get_workflow("ws1", "wf1")
    assert found is not None
    return found


def start(store: DynamoStore, workflow: Workflow) -> str:
    (execution, _), _ = lifecycle.start_execution(
        store.executions, store.statistics, NoRunner(), workflow, {"n": 1}
    )
    return execution.id


def test_given_a_workflow_is_put_twice_then_its_version_increments_and_it_reads_back(
    workflow: Workflow,
) -> None:
    assert workflow.version == 1
    status, _, body = call(put_workflow, api_event("PUT", BASE, body={**DEFINITION, "name": "renamed"}))
    assert (status, body["workflow"]["version"], body["workflow"]["name"]) == (200, 2, "renamed")
    status, _, body = call(get_workflow, api_event("GET", BASE))
    assert status == 200
    assert body["workflow"]["actions"][0] == {"id": "wait", "type": "delay", "params": {"seconds": 1}}
    assert body["workflow"]["createdAt"] <= body["workflow"]["updatedAt"]


def test_given_an_unknown_workflow_or_execution_then_404(store: DynamoStore) -> None:
    assert call(get_workflow, api_event("GET", "/api/workspaces/ws1/workflows/nope"))[0] == 404
    assert call(get_execution, api_event("GET", f"{BASE}/executions/exec_missing"))[0] == 404


def test_given_an_execution_when_read_then_it_costs_exactly_one_dynamodb_request(
    store: DynamoStore, workflow: Workflow, dynamodb_requests: RequestCounter
) -> None:
    execution_id = start(store, workflow)
    dynamodb_requests.reset()
    status, headers, body = call(get_execution, api_event("GET", f"{BASE}/executions/{execution_id}"))
    assert status == 200
    assert dynamodb_requests.calls == ["Query"]
    execution = body["execution"]
    assert execution["status"] == "pending"
    assert [step["actionId"] for step in execution["actionResults"]] == ["wait", "notify"]
    assert execution["progress"] == {
        "completedSteps": 0,
        "failedSteps": 0,
        "totalSteps": 2,
        "percentage": 0,
        "estimatedTimeRemaining": None,
        "estimatedCompletionAt": None,
    }
    assert headers["etag"] == f'"{execution["version"]}"'
    assert headers["cache-control"] == "no-cache"


def test_given_the_current_etag_then_the_read_answers_304_without_a_body(
    store: DynamoStore, workflow: Workflow
) -> None:
    execution_id = start(store, workflow)
    path = f"{BASE}/executions/{execution_id}"
    _, headers, _ = call(get_execution, api_event("GET", path))
    status, again, body = call(
        get_execution, api_event("GET", path, headers={"If-None-Match": headers["etag"]})
    )
    assert (status, body, again["etag"]) == (304, None, headers["etag"])
    status, _, _ = call(get_execution, api_event("GET", path, headers={"If-None-Match": '"0"'}))
    assert status == 200


def test_given_an_execution_of_another_workflow_then_it_is_not_found_under_this_one(
    store: DynamoStore, workflow: Workflow
) -> None:
    execution_id = start(store, workflow)
    status, _, _ = call(
        get_execution, api_event("GET", f"/api/workspaces/ws1/workflows/other/executions/{execution_id}")
    )
    assert status == 404


def test_given_many_executions_then_pages_are_newest_first_one_query_each_and_the_last_has_no_cursor(
    store: DynamoStore, workflow: Workflow, dynamodb_requests: RequestCounter
) -> None:
    started = [start(store, workflow) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    dynamodb_requests.reset()
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, _, body = call(list_executions, api_event("GET", f"{BASE}/executions", query=query))
        assert status == 200
        pages += 1
        seen += [execution["id"] for execution in body["executions"]]
        assert all("actionResults" not in e or e["actionResults"] is None for e in body["executions"])
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(started))
    assert pages == 3
    assert dynamodb_requests.calls == ["Query"] * 3


def test_given_a_status_filter_then_only_matching_executions_are_listed(
    store: DynamoStore, workflow: Workflow
) -> None:
    pending = start(store, workflow)
    status, _, body = call(
        list_executions, api_event("GET", f"{BASE}/executions", query={"status": "pending"})
    )
    assert [e["id"] for e in body["executions"]] == [pending]
    status, _, body = call(
        list_executions, api_event("GET", f"{BASE}/executions", query={"status": "failed"})
    )
    assert (status, body) == (200, {"executions": [], "nextCursor": None})


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"status": "sleeping"}, {"cursor": "garbage!"}],
)
def test_given_bad_list_parameters_then_422(store: DynamoStore, query: dict[str, str]) -> None:
    status, _, body = call(list_executions, api_event("GET", f"{BASE}/executions", query=query))
    assert status == 422
    assert body["error"]["code"] == "validation_error"


def test_given_a_cursor_from_another_workspace_then_it_is_refused(
    store: DynamoStore, workflow: Workflow
) -> None:
    for _ in range(2):
        start(store, workflow)
    _, _, body = call(list_executions, api_event("GET", f"{BASE}/executions", query={"limit": "1"}))
    foreign = api_event(
        "GET",
        "/api/workspaces/ws2/workflows/wf1/executions",
        query={"cursor": body["nextCursor"]},
        workspaces=("ws2",),
    )
    status, _, _ = call(list_executions, foreign)
    assert status == 422


@pytest.mark.parametrize(
    ("status", "cache_control"),
    [("completed", "private, max-age=3600"), ("failed", "no-cache"), ("cancelled", "no-cache")],
)
def test_given_a_finished_execution_then_only_a_completed_one_may_be_cached(
    store: DynamoStore, workflow: Workflow, status: str, cache_control: str
) -> None:
    execution_id = start(store, workflow)
    execution = store.executions.get_header("ws1", execution_id)
    assert execution is not None
    ended = transitions.end_execution(execution, ExecutionStatus(status), clock.now())
    assert store.executions.end_execution(ended)

    _, headers, body = call(get_execution, api_event("GET", f"{BASE}/executions/{execution_id}"))

    assert body["execution"]["status"] == status
    assert headers["cache-control"] == cache_control


# -- workspace-wide lists ---------------------------------------------------------------------


def test_given_workflows_in_a_workspace_then_they_list_by_id_one_query_a_page_with_their_last_execution(
    store: DynamoStore, dynamodb_requests: RequestCounter
) -> None:
    from list_workflows import handler as list_workflows
    from process_stream import handler as process_stream

    for workflow_id in ("wf_b", "wf_a", "wf_c"):
        assert (
            call(
                put_workflow,
                api_event("PUT", f"/api/workspaces/ws1/workflows/{workflow_id}", body=DEFINITION),
            )[0]
            == 200
        )
    workflow = store.workflows.get_workflow("ws1", "wf_b")
    assert workflow is not None
    older = start(store, workflow)
    newer = start(store, workflow)
    records = _stream_records()
    process_stream.lambda_handler({"Records": records[::-1]}, LambdaContext())  # in any order
    dynamodb_requests.reset()

    status, _, first = call(
        list_workflows, api_event("GET", "/api/workspaces/ws1/workflows", query={"limit": "2"})
    )
    _, _, second = call(
        list_workflows,
        api_event("GET", "/api/workspaces/ws1/workflows", query={"cursor": first["nextCursor"]}),
    )

    assert status == 200 and dynamodb_requests.calls == ["Query", "Query"]
    assert [w["id"] for w in first["workflows"] + second["workflows"]] == ["wf_a", "wf_b", "wf_c"]
    assert second["nextCursor"] is None
    by_id = {w["id"]: w for w in first["workflows"] + second["workflows"]}
    assert by_id["wf_b"]["lastExecution"]["id"] == max(older, newer)  # ids sort by creation time
    assert by_id["wf_b"]["lastExecution"]["status"] == "pending" and by_id["wf_a"]["lastExecution"] is None
    assert set(by_id["wf_b"]) == {"id", "name", "version", "updatedAt", "lastExecution"}


def test_given_executions_of_several_workflows_then_the_workspace_lists_them_newest_first_by_status_too(
    store: DynamoStore, dynamodb_requests: RequestCounter
) -> None:
    from list_workspace_executions import handler as list_workspace_executions

    started: list[str] = []
    for workflow_id in ("wf_x", "wf_y"):
        assert (
            call(
                put_workflow,
                api_event("PUT", f"/api/workspaces/ws1/workflows/{workflow_id}", body=DEFINITION),
            )[0]
            == 200
        )
        workflow = store.workflows.get_workflow("ws1", workflow_id)
        assert workflow is not None
        started.extend(start(store, workflow) for _ in range(2))
    ended = store.executions.get_header("ws1", started[0])
    assert ended is not None
    assert store.executions.end_execution(
        transitions.end_execution(ended, ExecutionStatus.CANCELLED, clock.now())
    )
    dynamodb_requests.reset()

    _, _, everything = call(list_workspace_executions, api_event("GET", "/api/workspaces/ws1/executions"))
    _, _, cancelled = call(
        list_workspace_executions,
        api_event("GET", "/api/workspaces/ws1/executions", query={"status": "cancelled"}),
    )
    other = call(
        list_workspace_executions, api_event("GET", "/api/workspaces/ws2/executions", workspaces=("ws2",))
    )

    assert dynamodb_requests.calls == ["Query", "Query", "Query"]
    assert [e["id"] for e in everything["executions"]] == started[::-1]
    assert {e["workflowId"] for e in everything["executions"]} == {"wf_x", "wf_y"}
    assert [e["id"] for e in cancelled["executions"]] == [started[0]]
    assert other[2]["executions"] == []


def _stream_records() -> list[dict[str, object]]:
    import boto3

    from infrastructure.local.stream_poller import new_image_filter, read_stream
    from tests.integration.conftest import TABLE

    arn = boto3.client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    return [
        record for record in read_stream(boto3.client("dynamodbstreams"), arn) if new_image_filter()(record)
    ]
