"""Operations as deployed: every alarm with its metric, statistic, dimensions and threshold, the one
topic they notify, the dashboard, the API's limits, and the context settings that change them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from execution_monitor import metric_names as names
from infrastructure import constants
from infrastructure.constructs.functions import FUNCTIONS_DIR, construct_id_for
from infrastructure.constructs.monitoring import Runbook, slowest
from infrastructure.routes import ROUTES
from infrastructure.stack import START_EXECUTION, context_int
from infrastructure.table import INDEXES
from tests.infrastructure.synthesis import SKIP_BUNDLING, Synthesized, synthesize

pytestmark = pytest.mark.xdist_group("cdk")

RUNBOOK_PATH = Path(__file__).resolve().parents[2] / constants.RUNBOOK
PERIOD_SECONDS = constants.ALARM_PERIOD_MINUTES * 60
CONTEXT = {
    constants.CONTEXT_THROTTLING_RATE_LIMIT: "7",
    constants.CONTEXT_THROTTLING_BURST_LIMIT: 9,  # cdk.json gives numbers, `-c` strings
    constants.CONTEXT_START_EXECUTION_RATE_LIMIT: "2",
    constants.CONTEXT_START_EXECUTION_BURST_LIMIT: "3",
    constants.CONTEXT_TABLE_INDEXES: "2",
    constants.CONTEXT_ALARM_EMAIL: "oncall@example.com",
    constants.CONTEXT_ALLOWED_ORIGINS: "https://app.example.com",  # adds the preflight function
}


@pytest.fixture(scope="module")
def with_context(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app synthesized again, with every operations setting given as context."""
    return synthesize(tmp_path_factory.mktemp("cdk.out.context"), context={**SKIP_BUNDLING, **CONTEXT})


def _alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """construct id (within Monitoring) -> the alarm's properties."""
    return {
        alarm.node.id: synthesized.resources[synthesized.logical_id(alarm)]["Properties"]
        for alarm in synthesized.stack.monitoring.alarms
    }


def _dimensions(properties: dict[str, Any]) -> dict[str, Any]:
    return {dimension["Name"]: dimension["Value"] for dimension in properties["Dimensions"]}


def _function_ids(synthesized: Synthesized) -> set[str]:
    """Every function the factory made (a CDK deploy-time handler, if any, is not the app's)."""
    return {synthesized.logical_id(built.function) for built in synthesized.stack.functions.created}


def _runbook_anchors() -> set[str]:
    """GitHub's anchors of the runbook's headings: lower case, punctuation dropped, spaces to '-'."""
    anchors = set()
    for line in RUNBOOK_PATH.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


# -- every alarm ----------------------------------------------------------------------------------


def test_every_alarm_fires_on_its_first_bad_period_and_notifies_the_one_topic_both_ways(
    synthesized: Synthesized,
) -> None:
    topic = {"Ref": synthesized.logical_id(synthesized.stack.monitoring.topic)}
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(synthesized.stack.monitoring.alarms)
    for logical_id, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties["EvaluationPeriods"] == 1, logical_id
        assert properties["DatapointsToAlarm"] == 1, logical_id
        assert properties["TreatMissingData"] == "notBreaching", logical_id
        assert properties["AlarmActions"] == [topic], logical_id
        assert properties["OKActions"] == [topic], logical_id
        period = properties.get("Period") or properties["Metrics"][1]["MetricStat"]["Period"]
        assert period == PERIOD_SECONDS, logical_id


def test_every_alarm_description_links_to_a_runbook_section_that_exists(synthesized: Synthesized) -> None:
    anchors = _runbook_anchors()
    for construct_id, properties in _alarms(synthesized).items():
        link = re.search(
            rf"Runbook: {re.escape(constants.RUNBOOK)}#([\w-]+)$", properties["AlarmDescription"]
        )
        assert link, construct_id
        assert link.group(1) in anchors, f"{construct_id}: no section #{link.group(1)} in the runbook"
    linked = {value for key, value in vars(Runbook).items() if not key.startswith("_")}
    assert linked <= anchors


def test_every_lambda_function_has_an_error_alarm_and_a_throttle_alarm(synthesized: Synthesized) -> None:
    watched: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for properties in _alarms(synthesized).values():
        if properties.get("Namespace") == "AWS/Lambda" and properties["MetricName"] in watched:
            assert properties["Statistic"] == "Sum"
            assert properties["Threshold"] == 1
            assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            watched[properties["MetricName"]].add(_dimensions(properties)["FunctionName"]["Ref"])
    assert watched["Errors"] == _function_ids(synthesized)
    assert watched["Throttles"] == _function_ids(synthesized)
    assert _function_ids(synthesized) <= set(synthesized.of_type("AWS::Lambda::Function"))


def test_with_every_option_on_every_function_of_the_apps_code_is_the_factorys_and_alarmed(
    with_context: Synthesized,
) -> None:
    folders = {
        path.parent.name for entry in ("handler.py", "run.sh") for path in FUNCTIONS_DIR.glob(f"*/{entry}")
    }
    assert {built.folder for built in with_context.stack.functions.created} == folders
    alarmed = {alarm.node.id for alarm in with_context.stack.monitoring.alarms}
    for built in with_context.stack.functions.created:
        assert {
            f"{construct_id_for(built.folder)}Errors",
            f"{construct_id_for(built.folder)}Throttles",
        } <= alarmed


def test_the_stack_has_one_error_and_one_throttle_alarm_per_function_and_eleven_more(
    synthesized: Synthesized,
) -> None:
    assert len(_alarms(synthesized)) == 2 * len(_function_ids(synthesized)) + 11


# -- each alarm's metric and threshold ------------------------------------------------------------


AT_LEAST_ONE = ("GreaterThanOrEqualToThreshold", 1)


def _expect(
    alarm: dict[str, Any], metric: tuple[str, str, str], dimensions: dict[str, Any], fires: tuple[str, float]
) -> None:
    """The alarm watches (namespace, metric, statistic) with these dimensions, fires (operator, limit)."""
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == metric
    assert _dimensions(alarm) == dimensions
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == fires


def _ref_of(synthesized: Synthesized, construct: Any) -> dict[str, str]:
    return {"Ref": synthesized.logical_id(construct)}


def _queue_name(synthesized: Synthesized, queue: Any) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [synthesized.logical_id(queue), "QueueName"]}


def test_both_dead_letter_queues_alarm_as_soon_as_one_message_is_parked(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    alarms = _alarms(synthesized)
    for construct_id, queue in (
        ("FailedEventsNotEmpty", stack.failures.queue),
        ("WebhookDeadLettersNotEmpty", stack.notifications.dead_letters),
    ):
        _expect(
            alarms[construct_id],
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
            {"QueueName": _queue_name(synthesized, queue)},
            AT_LEAST_ONE,
        )


def test_the_stream_consumer_alarms_when_it_falls_five_minutes_behind(synthesized: Synthesized) -> None:
    function = synthesized.stack.stream_consumer.function.function
    _expect(
        _alarms(synthesized)["StreamIteratorAge"],
        ("AWS/Lambda", "IteratorAge", "Maximum"),
        {"FunctionName": _ref_of(synthesized, function)},
        ("GreaterThanThreshold", 300_000),
    )


def test_the_api_alarms_on_the_share_of_5xx_answers_of_its_stage(synthesized: Synthesized) -> None:
    stage = synthesized.stack.api.rest_api.deployment_stage
    _expect(
        _alarms(synthesized)["Api5xxRate"],
        ("AWS/ApiGateway", "5XXError", "Average"),
        {"ApiName": constants.STACK_NAME, "Stage": _ref_of(synthesized, stage)},
        ("GreaterThanThreshold", 0.05),
    )


@pytest.mark.parametrize(
    ("construct_id", "methods", "threshold"),
    [("ApiReadLatency", {"GET"}, 1000), ("ApiWriteLatency", {"PUT", "POST"}, 3000)],
)
def test_the_api_alarms_on_the_p95_latency_of_its_slowest_route_leaving_out_the_sse_stream(
    synthesized: Synthesized, construct_id: str, methods: set[str], threshold: int
) -> None:
    alarm = _alarms(synthesized)[construct_id]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", threshold)
    expression, *metrics = alarm["Metrics"]
    assert expression["ReturnData"] is True
    assert expression["Expression"] == f"MAX([{', '.join(metric['Id'] for metric in metrics)}])"
    watched = set()
    for metric in metrics:
        stat = metric["MetricStat"]
        assert stat["Stat"] == "p95"
        assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]) == ("AWS/ApiGateway", "Latency")
        dimensions = _dimensions(stat["Metric"])
        assert dimensions["ApiName"] == constants.STACK_NAME
        watched.add((dimensions["Method"], dimensions["Resource"]))
    expected = {(r.method, r.path) for r in ROUTES if r.method in methods and not r.streaming}
    assert watched == expected
    assert not any(route.streaming and (route.method, route.path) in watched for route in ROUTES)


@pytest.mark.parametrize(
    ("construct_id", "metric_name"),
    [("RunsTimedOut", "ExecutionsTimedOut"), ("RunsThrottled", "ExecutionThrottled")],
)
def test_the_state_machine_alarms_on_runs_timed_out_and_throttled(
    synthesized: Synthesized, construct_id: str, metric_name: str
) -> None:
    _expect(
        _alarms(synthesized)[construct_id],
        ("AWS/States", metric_name, "Sum"),
        {"StateMachineArn": _ref_of(synthesized, synthesized.stack.state_machine)},
        AT_LEAST_ONE,
    )


def test_failed_and_aborted_runs_are_not_alarmed_a_failing_workflow_and_a_cancel_are_normal(
    synthesized: Synthesized,
) -> None:
    states = {
        p.get("MetricName") for p in _alarms(synthesized).values() if p.get("Namespace") == "AWS/States"
    }
    assert states == {"ExecutionsTimedOut", "ExecutionThrottled"}


def test_webhook_deliveries_given_up_alarm_on_the_products_own_metric(synthesized: Synthesized) -> None:
    _expect(
        _alarms(synthesized)["WebhooksGivenUp"],
        (constants.METRICS_NAMESPACE, names.WEBHOOK_DELIVERIES, "Sum"),
        {names.SERVICE_DIMENSION: constants.SERVICE_NAME, names.OUTCOME_DIMENSION: names.WEBHOOK_GIVEN_UP},
        AT_LEAST_ONE,
    )
    assert names.WEBHOOK_GIVEN_UP in names.WEBHOOK_OUTCOMES


@pytest.mark.parametrize(
    ("construct_id", "rule"), [("ReconcilerNotReached", "run_ended"), ("SweepNotInvoked", "sweep")]
)
def test_the_reconciler_and_the_sweep_alarm_when_their_rule_cannot_invoke_them(
    synthesized: Synthesized, construct_id: str, rule: str
) -> None:
    stack = synthesized.stack
    construct = stack.engine.run_ended if rule == "run_ended" else stack.sweep_schedule
    _expect(
        _alarms(synthesized)[construct_id],
        ("AWS/Events", "FailedInvocations", "Sum"),
        {"RuleName": _ref_of(synthesized, construct)},
        AT_LEAST_ONE,
    )


# -- metrics, topic, dashboard, outputs -----------------------------------------------------------


def test_every_function_writes_its_metrics_to_the_one_namespace_as_the_one_service(
    synthesized: Synthesized,
) -> None:
    for logical_id in _function_ids(synthesized):
        variables = synthesized.resources[logical_id]["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == constants.METRICS_NAMESPACE, logical_id
        assert variables["POWERTOOLS_SERVICE_NAME"] == constants.SERVICE_NAME, logical_id


def test_the_alarm_topic_has_no_subscription_unless_an_email_is_given(
    synthesized: Synthesized, with_context: Synthesized
) -> None:
    assert not synthesized.of_type("AWS::SNS::Subscription")
    (subscription,) = with_context.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == CONTEXT[constants.CONTEXT_ALARM_EMAIL]
    topic = with_context.logical_id(with_context.stack.monitoring.topic)
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic}


def _dashboard_body(synthesized: Synthesized) -> str:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_one_dashboard_shows_the_alarms_and_every_product_metric(synthesized: Synthesized) -> None:
    body = _dashboard_body(synthesized)
    for name in (
        names.EXECUTIONS_STARTED,
        names.EXECUTIONS_COMPLETED,
        names.EXECUTIONS_FAILED,
        names.EXECUTIONS_CANCELLED,
        names.STALLS_FLAGGED,
        names.STEP_DURATION,
        names.STEP_FAILURES,
        names.STREAM_LAG,
        names.SSE_CONNECTIONS_OPENED,
        names.SSE_EVENTS_SENT,
        names.WEBHOOK_DELIVERIES,
    ):
        assert name in body, name
    for alarm in synthesized.stack.monitoring.alarms:
        assert synthesized.logical_id(alarm) in body


def test_the_outputs_name_the_topic_the_dashboard_and_both_dead_letter_queues(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    outputs = synthesized.template.to_json()["Outputs"]
    assert outputs[constants.OUTPUT_ALARM_TOPIC_ARN]["Value"] == _ref_of(synthesized, stack.monitoring.topic)
    dashboard = synthesized.logical_id(stack.monitoring.dashboard)
    assert outputs[constants.OUTPUT_DASHBOARD_NAME]["Value"] == {"Ref": dashboard}
    assert outputs[constants.OUTPUT_FAILED_EVENTS_QUEUE_URL]["Value"] == _ref_of(
        synthesized, stack.failures.queue
    )
    assert outputs[constants.OUTPUT_WEBHOOK_DEAD_LETTERS_URL]["Value"] == _ref_of(
        synthesized, stack.notifications.dead_letters
    )


# -- limits ---------------------------------------------------------------------------------------


def _method_settings(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    return {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["Properties"]["MethodSettings"]}


def _start_execution_path() -> str:
    (route,) = [route for route in ROUTES if route.function == START_EXECUTION]
    return "/" + route.path.replace("/", "~1")  # how method settings name a resource path


def _limits(settings: dict[str, Any]) -> tuple[float, int]:
    return settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]


def test_the_stage_and_starting_executions_are_throttled_by_default(synthesized: Synthesized) -> None:
    settings = _method_settings(synthesized)
    assert set(settings) == {("*", "/*"), ("POST", _start_execution_path())}
    assert _limits(settings["*", "/*"]) == (constants.THROTTLING_RATE_LIMIT, constants.THROTTLING_BURST_LIMIT)
    start = settings["POST", _start_execution_path()]
    assert _limits(start) == (constants.START_EXECUTION_RATE_LIMIT, constants.START_EXECUTION_BURST_LIMIT)
    # The method's own settings replace the stage's for it: its metrics (the latency alarm) stay on.
    assert start["MetricsEnabled"] is True
    assert start["LoggingLevel"] == "ERROR"
    assert start["DataTraceEnabled"] is False


def test_context_sets_the_stage_and_start_execution_limits(with_context: Synthesized) -> None:
    settings = _method_settings(with_context)
    assert _limits(settings["*", "/*"]) == (7, 9)
    assert _limits(settings["POST", _start_execution_path()]) == (2, 3)


def test_context_deploys_only_the_first_indexes_and_grants_reads_on_those(with_context: Synthesized) -> None:
    table = with_context.resources[constants.TABLE_LOGICAL_ID]["Properties"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == [i.name for i in INDEXES[:2]]
    granted = json.dumps(with_context.role_statements(with_context.stack.route_functions["get_execution"]))
    assert all(index.name in granted for index in INDEXES[:2])
    assert not any(index.name in granted for index in INDEXES[2:])


def test_by_default_every_index_is_deployed(synthesized: Synthesized) -> None:
    table = synthesized.resources[constants.TABLE_LOGICAL_ID]["Properties"]
    assert len(table["GlobalSecondaryIndexes"]) == len(INDEXES)


@pytest.mark.parametrize(("value", "expected"), [(None, 5), (3, 3), ("12", 12), (" 0 ", 0)])
def test_a_whole_number_context_value_may_be_given_as_a_number_or_a_string(
    value: object, expected: int
) -> None:
    assert context_int("key", value, 5) == expected


@pytest.mark.parametrize("value", ["ten", "1.5", -1, "-2"])
def test_a_context_value_that_is_not_a_whole_number_at_least_zero_fails_the_synth_naming_it(
    value: object,
) -> None:
    with pytest.raises(ValueError, match="context throttlingRateLimit"):
        context_int("throttlingRateLimit", value, 5)


def test_a_table_index_count_beyond_the_indexes_fails_the_synth(tmp_path: Path) -> None:
    too_many = {**SKIP_BUNDLING, constants.CONTEXT_TABLE_INDEXES: str(len(INDEXES) + 1)}
    with pytest.raises(ValueError, match="index_count"):
        synthesize(tmp_path, context=too_many)


def test_a_latency_alarm_refuses_more_routes_than_cloudwatch_lets_one_alarm_read(
    synthesized: Synthesized,
) -> None:
    watched = synthesized.stack.monitoring.watched
    with pytest.raises(ValueError, match="1 to 10 routes"):
        slowest(watched, [ROUTES[0]] * 11, "too many")
