"""Alarms to one SNS topic and one dashboard, over AWS's own metrics and the product's (EMF).

Hand-written with aws-cdk-lib's metric helpers rather than `cdk-monitoring-constructs` (10.x
installs with our pins, but does not fit): its alarms wait for three 5-minute datapoints (a parked
dead letter would page after 15 minutes; here every alarm fires on the first bad period), its
dashboard gives each function about ten widgets (some 200 for our 20 functions), our own metrics
would go through its generic API, and it adds a second jsii bundle to every synth. Here each kind
of alarm is one call, over the function factory's list for the per-function ones.

Every alarm: one 5-minute period, missing data is not breaching (a quiet stack is a healthy one),
the topic on both its alarm and its OK actions, and a description that names the runbook section
(docs/RUNBOOK.md) telling what it means and how to recover.

Not alarmed on purpose: state-machine runs that FAILED or were ABORTED. A user's workflow whose step
fails ends its run FAILED, and a cancel aborts it; both are the product working. A run that ends
without being recorded is settled by the reconciler, whose failures are alarmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from execution_monitor import metric_names as names
from infrastructure.constants import (
    ALARM_PERIOD_MINUTES,
    API_5XX_RATE_ALARM,
    METRICS_NAMESPACE,
    READ_LATENCY_P95_ALARM_MS,
    RUNBOOK,
    SERVICE_NAME,
    STREAM_ITERATOR_AGE_ALARM_SECONDS,
    WRITE_LATENCY_P95_ALARM_MS,
)
from infrastructure.constructs.functions import ServiceFunction, construct_id_for
from infrastructure.nag import acknowledge
from infrastructure.routes import Route

PERIOD = Duration.minutes(ALARM_PERIOD_MINUTES)
GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
# A CloudWatch alarm on metric math may read at most 10 metrics (a hard limit; the expression aside).
MAX_ALARM_METRICS = 10


class Runbook:
    """The sections of docs/RUNBOOK.md the alarms link to (GitHub heading anchors; a test checks
    that each heading exists)."""

    FAILED_EVENTS = "failed-events-queue-not-empty"
    WEBHOOK_DEAD_LETTERS = "webhook-dead-letters-not-empty"
    STREAM_BEHIND = "stream-consumer-behind"
    API_ERRORS = "api-5xx-rate"
    API_LATENCY = "api-latency"
    FUNCTION_ERRORS = "function-errors"
    FUNCTION_THROTTLES = "function-throttles"
    RUNS_TIMED_OUT = "state-machine-runs-timed-out"
    RUNS_THROTTLED = "state-machine-runs-throttled"
    WEBHOOKS_GIVEN_UP = "webhook-deliveries-given-up"
    RECONCILER_NOT_REACHED = "reconciler-not-reached"
    SWEEP_NOT_INVOKED = "sweep-not-invoked"


@dataclass(frozen=True)
class Watched:
    """Everything the alarms and the dashboard watch, as the stack built it."""

    functions: Sequence[ServiceFunction]  # every function of the factory
    stage: apigateway.Stage
    api_name: str
    routes: Sequence[Route]
    state_machine: sfn.StateMachine
    stream_consumer: lambda_.IFunction
    failed_events: sqs.IQueue
    webhook_dead_letters: sqs.IQueue
    run_ended_rule: events.IRule  # delivers run-ended events to the reconciler
    sweep_rule: events.IRule


def product_metric(
    name: str, statistic: str = "Sum", label: str | None = None, **dimensions: str
) -> cloudwatch.Metric:
    """One of the product's own metrics (layers' metric_names), with its `service` dimension."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={names.SERVICE_DIMENSION: SERVICE_NAME, **dimensions},
        statistic=statistic,
        period=PERIOD,
        label=label,
    )


def rule_failures(rule: events.IRule) -> cloudwatch.Metric:
    """Invocations of a rule's target that failed for good (after the rule's retries)."""
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="FailedInvocations",
        dimensions_map={"RuleName": rule.rule_name},
        statistic="Sum",
        period=PERIOD,
    )


def route_latency(watched: Watched, route: Route) -> cloudwatch.Metric:
    """p95 latency of one route (the stage's detailed metrics are on: Method and Resource)."""
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name="Latency",
        dimensions_map={
            "ApiName": watched.api_name,
            "Method": route.method,
            "Resource": route.path,
            "Stage": watched.stage.stage_name,
        },
        statistic="p95",
        period=PERIOD,
        label=f"{route.method} {route.path}",
    )


def slowest(watched: Watched, routes: Sequence[Route], label: str) -> cloudwatch.MathExpression:
    """The highest p95 among these routes, as one alarmable series."""
    if not 0 < len(routes) <= MAX_ALARM_METRICS:
        raise ValueError(f"a latency alarm can watch 1 to {MAX_ALARM_METRICS} routes, got {len(routes)}")
    using = {f"r{index}": route_latency(watched, route) for index, route in enumerate(routes)}
    return cloudwatch.MathExpression(
        expression=f"MAX([{', '.join(using)}])", using_metrics=using, period=PERIOD, label=label
    )


def search(name: str, dimension: str, statistic: str) -> cloudwatch.MathExpression:
    """Every series of a product metric split by one dimension (for graphs: SEARCH cannot alarm)."""
    schema = f"{{{METRICS_NAMESPACE},{names.SERVICE_DIMENSION},{dimension}}}"
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{schema} MetricName=\"{name}\"', '{statistic}', {int(PERIOD.to_seconds())})",
        using_metrics={},
        label="",
        period=PERIOD,
    )


class Monitoring(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, watched: Watched, alarm_email: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        self.watched = watched
        self.topic = sns.Topic(self, "AlarmTopic", display_name=f"{SERVICE_NAME} alarms", enforce_ssl=True)
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm notifications carry alarm names and metric values, no user data; encrypting the topic "
            "would need a customer managed KMS key whose policy lets CloudWatch publish.",
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        self._queue_alarms()
        self._api_alarms()
        self._function_alarms()
        self._engine_alarms()
        self.dashboard = self._dashboard()

    def alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        runbook: str,
        what: str,
        comparison: cloudwatch.ComparisonOperator = AT_LEAST,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{what} Runbook: {RUNBOOK}#{runbook}",
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _queue_alarms(self) -> None:
        watched = self.watched
        for construct_id, queue, runbook, what in (
            (
                "FailedEventsNotEmpty",
                watched.failed_events,
                Runbook.FAILED_EVENTS,
                "Stream batches or run-ended events were parked in the failed-events queue.",
            ),
            (
                "WebhookDeadLettersNotEmpty",
                watched.webhook_dead_letters,
                Runbook.WEBHOOK_DEAD_LETTERS,
                "Webhook deliveries were parked in the webhook dead-letter queue.",
            ),
        ):
            visible = queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=PERIOD)
            self.alarm(construct_id, visible, threshold=1, runbook=runbook, what=what)
        iterator_age = watched.stream_consumer.metric(
            "IteratorAge", statistic="Maximum", period=PERIOD, unit=cloudwatch.Unit.MILLISECONDS
        )
        self.alarm(
            "StreamIteratorAge",
            iterator_age,
            threshold=STREAM_ITERATOR_AGE_ALARM_SECONDS * 1000,
            comparison=GT,
            runbook=Runbook.STREAM_BEHIND,
            what=f"process_stream is more than {STREAM_ITERATOR_AGE_ALARM_SECONDS} s behind the table.",
        )

    @property
    def read_routes(self) -> list[Route]:
        """GET routes, less the SSE stream (its latency is how long someone watched)."""
        return [route for route in self.watched.routes if route.method == "GET" and not route.streaming]

    @property
    def write_routes(self) -> list[Route]:
        return [route for route in self.watched.routes if route.method in ("PUT", "POST")]

    def _api_alarms(self) -> None:
        stage = self.watched.stage
        # 5XXError is 1 or 0 per request, so its average is the share of requests answered 5xx.
        self.alarm(
            "Api5xxRate",
            stage.metric_server_error(statistic="Average", period=PERIOD),
            threshold=API_5XX_RATE_ALARM,
            comparison=GT,
            runbook=Runbook.API_ERRORS,
            what=f"More than {API_5XX_RATE_ALARM:.0%} of the API's requests were answered 5xx.",
        )
        for construct_id, routes, threshold, kind in (
            ("ApiReadLatency", self.read_routes, READ_LATENCY_P95_ALARM_MS, "GET"),
            ("ApiWriteLatency", self.write_routes, WRITE_LATENCY_P95_ALARM_MS, "PUT/POST"),
        ):
            self.alarm(
                construct_id,
                slowest(self.watched, routes, f"slowest {kind} route, p95"),
                threshold=threshold,
                comparison=GT,
                runbook=Runbook.API_LATENCY,
                what=f"The p95 latency of a {kind} route exceeded {threshold} ms.",
            )

    def _function_alarms(self) -> None:
        for built in self.watched.functions:
            name = construct_id_for(built.folder)
            function = built.function
            self.alarm(
                f"{name}Errors",
                function.metric_errors(statistic="Sum", period=PERIOD),
                threshold=1,
                runbook=Runbook.FUNCTION_ERRORS,
                what=f"The {built.folder} function failed (an unhandled error or a timeout).",
            )
            self.alarm(
                f"{name}Throttles",
                function.metric_throttles(statistic="Sum", period=PERIOD),
                threshold=1,
                runbook=Runbook.FUNCTION_THROTTLES,
                what=f"Invocations of the {built.folder} function were throttled.",
            )

    def _engine_alarms(self) -> None:
        """Alarms on any occurrence within a period."""
        watched, machine = self.watched, self.watched.state_machine
        given_up = {names.OUTCOME_DIMENSION: names.WEBHOOK_GIVEN_UP}
        for construct_id, metric, runbook, what in (
            (
                "RunsTimedOut",
                machine.metric_timed_out(statistic="Sum", period=PERIOD),
                Runbook.RUNS_TIMED_OUT,
                "State-machine runs timed out.",
            ),
            (
                "RunsThrottled",
                machine.metric_throttled(statistic="Sum", period=PERIOD),
                Runbook.RUNS_THROTTLED,
                "Step Functions throttled the state machine's runs.",
            ),
            (
                "WebhooksGivenUp",
                product_metric(names.WEBHOOK_DELIVERIES, **given_up),
                Runbook.WEBHOOKS_GIVEN_UP,
                "Webhook deliveries were given up after 24 hours of retries.",
            ),
            (
                "ReconcilerNotReached",
                rule_failures(watched.run_ended_rule),
                Runbook.RECONCILER_NOT_REACHED,
                "Run-ended events could not be delivered to the reconciler.",
            ),
            (
                "SweepNotInvoked",
                rule_failures(watched.sweep_rule),
                Runbook.SWEEP_NOT_INVOKED,
                "The sweep's schedule could not invoke it.",
            ),
        ):
            self.alarm(construct_id, metric, threshold=1, runbook=runbook, what=what)

    def _dashboard(self) -> cloudwatch.Dashboard:
        watched = self.watched
        stage, machine = watched.stage, watched.state_machine
        functions = [built.function for built in watched.functions]

        def graph(
            title: str, metrics: Sequence[cloudwatch.IMetric], width: int = 8
        ) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=6)

        def per_function(metric: str) -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric, statistic="Sum", period=PERIOD, label=built.folder)
                for built, function in zip(watched.functions, functions, strict=True)
            ]

        dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{Stack.of(self).stack_name}-operations"
        )
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=6)
        )
        dashboard.add_widgets(
            graph(
                "API requests and errors",
                [
                    stage.metric_count(statistic="Sum", period=PERIOD, label="requests"),
                    stage.metric_client_error(statistic="Sum", period=PERIOD, label="4xx"),
                    stage.metric_server_error(statistic="Sum", period=PERIOD, label="5xx"),
                ],
            ),
            graph("GET routes, p95 latency (ms)", [route_latency(watched, r) for r in self.read_routes]),
            graph(
                "PUT/POST routes, p95 latency (ms)", [route_latency(watched, r) for r in self.write_routes]
            ),
        )
        dashboard.add_widgets(
            graph(
                "Executions",
                [
                    product_metric(names.EXECUTIONS_STARTED, label="started"),
                    product_metric(names.EXECUTIONS_COMPLETED, label="completed"),
                    product_metric(names.EXECUTIONS_FAILED, label="failed"),
                    product_metric(names.EXECUTIONS_CANCELLED, label="cancelled"),
                    product_metric(names.STALLS_FLAGGED, label="stalls flagged"),
                ],
            ),
            graph(
                "State-machine runs",
                [
                    machine.metric_started(period=PERIOD, label="started"),
                    machine.metric_succeeded(period=PERIOD, label="succeeded"),
                    machine.metric_failed(period=PERIOD, label="failed"),
                    machine.metric_aborted(period=PERIOD, label="aborted"),
                    machine.metric_timed_out(period=PERIOD, label="timed out"),
                    machine.metric_throttled(period=PERIOD, label="throttled"),
                ],
            ),
            graph(
                "Steps by action type",
                [
                    search(names.STEP_DURATION, names.ACTION_TYPE_DIMENSION, "p95"),
                    search(names.STEP_FAILURES, names.ACTION_TYPE_DIMENSION, "Sum"),
                ],
            ),
        )
        dashboard.add_widgets(
            graph(
                "Progress lag",
                [
                    watched.stream_consumer.metric(
                        "IteratorAge", statistic="Maximum", period=PERIOD, label="stream iterator age"
                    ),
                    product_metric(names.STREAM_LAG, statistic="p95", label="step write → progress, p95"),
                ],
            ),
            graph(
                "Live monitors (SSE)",
                [
                    product_metric(names.SSE_CONNECTIONS_OPENED, label="connections opened"),
                    product_metric(names.SSE_EVENTS_SENT, label="events sent"),
                ],
            ),
            graph(
                "Events out",
                [
                    search(names.WEBHOOK_DELIVERIES, names.OUTCOME_DIMENSION, "Sum"),
                    rule_failures(watched.run_ended_rule).with_(label="reconciler not reached"),
                    rule_failures(watched.sweep_rule).with_(label="sweep not invoked"),
                    watched.failed_events.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=PERIOD, label="failed-events queue"
                    ),
                    watched.webhook_dead_letters.metric_approximate_number_of_messages_visible(
                        statistic="Maximum", period=PERIOD, label="webhook dead letters"
                    ),
                ],
            ),
        )
        dashboard.add_widgets(
            graph("Function errors", per_function("Errors"), width=12),
            graph("Function throttles", per_function("Throttles"), width=12),
        )
        return dashboard
