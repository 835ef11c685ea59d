"""The Workflow Execution Monitor stack: one construct per capability, wired together here.

    Data (table + stream) ─► FunctionFactory (common layer, defaults) ─► Auth (Cognito + authorizer)
        ─► FailedEvents (DLQ) ─► Engine (state machine, run_action, reconciler) ─► Progress
        ─► one function per route (ROUTE_PERMISSIONS) ─► Api (throttled: stage, starting executions)
        ─► Monitoring (an alarm topic, the alarms of every function and queue, one dashboard)

The routes with `runs=True` get STATE_MACHINE_ARN and may start and stop the engine's runs,
nothing more. Streaming routes (SSE) get a web app behind the Lambda Web Adapter
(FunctionFactory.create_streaming_web_app).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, ArnFormat, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infrastructure.constants import (
    CONTEXT_ALARM_EMAIL,
    CONTEXT_ALLOWED_ORIGINS,
    CONTEXT_COGNITO_DOMAIN_PREFIX,
    CONTEXT_COGNITO_PLUS,
    CONTEXT_HTTP_ALLOWED_NETWORKS,
    CONTEXT_MESSAGE_QUEUE_ARNS,
    CONTEXT_MESSAGE_TOPIC_ARNS,
    CONTEXT_START_EXECUTION_BURST_LIMIT,
    CONTEXT_START_EXECUTION_RATE_LIMIT,
    CONTEXT_TABLE_INDEXES,
    CONTEXT_THROTTLING_BURST_LIMIT,
    CONTEXT_THROTTLING_RATE_LIMIT,
    OUTPUT_ALARM_TOPIC_ARN,
    OUTPUT_API_URL,
    OUTPUT_DASHBOARD_NAME,
    OUTPUT_FAILED_EVENTS_QUEUE_URL,
    OUTPUT_MONITOR_URL,
    OUTPUT_TABLE_NAME,
    OUTPUT_USER_POOL_CLIENT_ID,
    OUTPUT_USER_POOL_DOMAIN_URL,
    OUTPUT_USER_POOL_ID,
    OUTPUT_WEBHOOK_DEAD_LETTERS_URL,
    PREFLIGHT_FUNCTION,
    PREFLIGHT_MEMORY_MB,
    STACK_NAME,
    START_EXECUTION_BURST_LIMIT,
    START_EXECUTION_RATE_LIMIT,
    SWEEP_EVERY_MINUTES,
    THROTTLING_BURST_LIMIT,
    THROTTLING_RATE_LIMIT,
)
from infrastructure.constructs.api import Api, Throttle
from infrastructure.constructs.auth import Auth
from infrastructure.constructs.data import Data
from infrastructure.constructs.engine import Engine
from infrastructure.constructs.failures import FailedEventsQueue
from infrastructure.constructs.functions import RUNTIME, FunctionFactory
from infrastructure.constructs.hosting import MonitorHosting
from infrastructure.constructs.layer import PACKAGE, DependencyLayer
from infrastructure.constructs.monitoring import Monitoring, Watched
from infrastructure.constructs.notifications import Notifications
from infrastructure.constructs.stream import StreamConsumer
from infrastructure.nag import acknowledge, flatten_reference
from infrastructure.routes import ROUTES, SWEEP_FUNCTION, Route
from infrastructure.table import INDEXES

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?")
WRITE_EXECUTION = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")
START_EXECUTION = "start_execution"  # the route limited further than the stage: each call starts a run


@dataclass(frozen=True)
class Permissions:
    """What a route's function may do: read (GetItem/Query, table and indexes), exact writes, runs."""

    read: bool = False
    writes: tuple[str, ...] = ()
    runs: bool = False  # starts and stops state-machine runs (STATE_MACHINE_ARN)


# A route whose function is missing here fails the synth, so a new endpoint cannot ship with a
# guessed (or broad) permission. Writes follow the store calls each handler makes.
ROUTE_PERMISSIONS: dict[str, Permissions] = {
    "get_openapi": Permissions(),  # serves a file from the layer
    "get_workflow": Permissions(read=True),
    "get_execution": Permissions(read=True),
    "stream_execution": Permissions(read=True),  # SSE: polls the execution it streams
    "list_executions": Permissions(read=True),
    "list_workflows": Permissions(read=True),
    "list_workspace_executions": Permissions(read=True),
    "get_retry_plan": Permissions(read=True),  # the execution, and the statistics (BatchGetItem)
    "list_execution_events": Permissions(read=True),
    "put_workflow": Permissions(writes=("dynamodb:UpdateItem",)),  # one atomic update, version + 1
    # DeleteItem: frees an Idempotency-Key claim whose execution could not be created.
    START_EXECUTION: Permissions(read=True, writes=(*WRITE_EXECUTION, "dynamodb:DeleteItem"), runs=True),
    "cancel_execution": Permissions(read=True, writes=("dynamodb:UpdateItem",), runs=True),
    "retry_execution": Permissions(read=True, writes=WRITE_EXECUTION, runs=True),
    "retry_step": Permissions(read=True, writes=("dynamodb:UpdateItem",), runs=True),
}


class ExecutionMonitorStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, routes: Sequence[Route] = ROUTES, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data = Data(self, "Data", index_count=self._context_int(CONTEXT_TABLE_INDEXES, len(INDEXES)))
        common = DependencyLayer(
            self,
            "CommonLayer",
            name="common",
            runtime=RUNTIME,
            package=PACKAGE,
            description="execution_monitor and its run-time dependencies",
        )
        web = DependencyLayer(
            self, "WebLayer", name="web", runtime=RUNTIME, description="Starlette and uvicorn (SSE)"
        )
        auth = DependencyLayer(
            self,
            "AuthLayer",
            name="auth",
            runtime=RUNTIME,
            description="PyJWT and cryptography (the authorizer)",
        )
        self.functions = FunctionFactory(
            self,
            layer=common.layer,
            web_layer=web.layer,
            auth_layer=auth.layer,
            table_name=self.data.table_name,
        )
        self.auth = Auth(
            self,
            "Auth",
            functions=self.functions,
            plus=self._context_flag(CONTEXT_COGNITO_PLUS),
            domain_prefix=self.node.try_get_context(CONTEXT_COGNITO_DOMAIN_PREFIX),
        )
        self.route_functions: dict[str, lambda_.IFunction] = {}

        self.failures = FailedEventsQueue(self, "FailedEvents")
        self.engine = Engine(
            self,
            "Engine",
            data=self.data,
            functions=self.functions,
            failures=self.failures,
            message_queue_arns=self._context_list(CONTEXT_MESSAGE_QUEUE_ARNS),
            message_topic_arns=self._context_list(CONTEXT_MESSAGE_TOPIC_ARNS),
            http_allowed_networks=",".join(self._context_list(CONTEXT_HTTP_ALLOWED_NETWORKS)),
        )
        self.state_machine = self.engine.state_machine
        self.notifications = Notifications(
            self,
            "Notifications",
            data=self.data,
            functions=self.functions,
            http_allowed_networks=",".join(self._context_list(CONTEXT_HTTP_ALLOWED_NETWORKS)),
        )
        self.stream_consumer = StreamConsumer(
            self,
            "StreamConsumer",
            data=self.data,
            functions=self.functions,
            failures=self.failures,
            notifications=self.notifications,
        )
        self.sweep = self._sweep()

        for route in routes:
            if route.function not in self.route_functions:
                self.route_functions[route.function] = self._route_function(route)
        throttle, route_throttles = self._limits(routes)
        self.api = Api(
            self,
            "Api",
            routes=routes,
            functions=self.route_functions,
            authorizers=self.auth,
            throttle=throttle,
            route_throttles=route_throttles,
        )

        self._monitor()

        CfnOutput(self, OUTPUT_API_URL, value=self.api.url, description="Base URL of the REST API stage")
        CfnOutput(self, OUTPUT_USER_POOL_ID, value=self.auth.user_pool.user_pool_id)
        CfnOutput(self, OUTPUT_USER_POOL_CLIENT_ID, value=self.auth.client.user_pool_client_id)
        CfnOutput(self, OUTPUT_TABLE_NAME, value=self.data.table_name)
        # Last: the alarms cover every function the factory made, so nothing may be created after.
        self.monitoring = self._operations(routes)

    def _monitor(self) -> None:
        """The monitor behind CloudFront with the API at /api/*, its Cognito client, and CORS for
        the browser origins in context allowedOrigins (none by default: the monitor is same-origin)."""
        self.hosting = MonitorHosting(
            self, "Monitor", rest_api=self.api.rest_api, sign_in_domain=self.auth.domain_url
        )
        self.monitor_client = self.auth.add_monitor_client(self.hosting.url)
        self.hosting.deploy_files(client_id=self.monitor_client.user_pool_client_id)
        CfnOutput(self, OUTPUT_MONITOR_URL, value=self.hosting.url, description="The monitor (sign in here)")
        CfnOutput(self, OUTPUT_USER_POOL_DOMAIN_URL, value=self.auth.domain_url, description="Managed login")

        origins = allowed_origins(self._context_list(CONTEXT_ALLOWED_ORIGINS))
        if not origins:
            return
        allowed = {"ALLOWED_ORIGINS": ",".join(origins)}
        preflight = self.functions.create(
            self, PREFLIGHT_FUNCTION, environment=allowed, memory_size=PREFLIGHT_MEMORY_MB
        )
        for function in self.route_functions.values():
            assert isinstance(function, lambda_.Function)
            function.add_environment("ALLOWED_ORIGINS", allowed["ALLOWED_ORIGINS"])
        self.api.enable_cors(preflight.function, gateway_error_origin(origins, self.hosting.url))

    def _context_flag(self, key: str) -> bool:
        """A context switch: true in cdk.json, or `-c key=true`."""
        return str(self.node.try_get_context(key)).lower() in ("true", "1", "yes")

    def _context_list(self, key: str) -> list[str]:
        """A context value given as a JSON list (cdk.json) or comma-separated (`-c key=a,b`)."""
        value = self.node.try_get_context(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return [str(item) for item in value]

    def _context_int(self, key: str, default: int) -> int:
        """A whole-number context value (cdk.json or `-c key=N`), `default` when not set."""
        return context_int(key, self.node.try_get_context(key), default)

    # -- operations: limits, alarms, dashboard (docs/RUNBOOK.md) -----------------------------------

    def _limits(self, routes: Sequence[Route]) -> tuple[Throttle, dict[Route, Throttle]]:
        """The stage's throttling, and a tighter one for starting executions (each starts a run)."""
        start = Throttle(
            rate_limit=self._context_int(CONTEXT_START_EXECUTION_RATE_LIMIT, START_EXECUTION_RATE_LIMIT),
            burst_limit=self._context_int(CONTEXT_START_EXECUTION_BURST_LIMIT, START_EXECUTION_BURST_LIMIT),
        )
        stage = Throttle(
            rate_limit=self._context_int(CONTEXT_THROTTLING_RATE_LIMIT, THROTTLING_RATE_LIMIT),
            burst_limit=self._context_int(CONTEXT_THROTTLING_BURST_LIMIT, THROTTLING_BURST_LIMIT),
        )
        return stage, {route: start for route in routes if route.function == START_EXECUTION}

    def _operations(self, routes: Sequence[Route]) -> Monitoring:
        watched = Watched(
            functions=self.functions.created,
            stage=self.api.rest_api.deployment_stage,
            api_name=self.api.rest_api.rest_api_name,
            routes=routes,
            state_machine=self.state_machine,
            stream_consumer=self.stream_consumer.function.function,
            failed_events=self.failures.queue,
            webhook_dead_letters=self.notifications.dead_letters,
            run_ended_rule=self.engine.run_ended,
            sweep_rule=self.sweep_schedule,
        )
        email = self.node.try_get_context(CONTEXT_ALARM_EMAIL)
        monitoring = Monitoring(
            self, "Monitoring", watched=watched, alarm_email=str(email) if email else None
        )
        CfnOutput(self, OUTPUT_ALARM_TOPIC_ARN, value=monitoring.topic.topic_arn)
        CfnOutput(self, OUTPUT_DASHBOARD_NAME, value=monitoring.dashboard.dashboard_name)
        CfnOutput(self, OUTPUT_FAILED_EVENTS_QUEUE_URL, value=self.failures.queue.queue_url)
        CfnOutput(self, OUTPUT_WEBHOOK_DEAD_LETTERS_URL, value=self.notifications.dead_letters.queue_url)
        return monitoring

    def _route_function(self, route: Route) -> lambda_.IFunction:
        folder = route.function
        if folder not in ROUTE_PERMISSIONS:
            raise KeyError(f"declare what functions/{folder} may do in stack.ROUTE_PERMISSIONS")
        permissions = ROUTE_PERMISSIONS[folder]
        environment = {}
        if permissions.runs:
            environment["STATE_MACHINE_ARN"] = self.state_machine.state_machine_arn
        if route.streaming:
            built = self.functions.create_streaming_web_app(self, folder, environment=environment)
        else:
            built = self.functions.create(self, folder, environment=environment)
        if permissions.read:
            self.data.grant_read(built.role)
        if permissions.writes:
            self.data.grant_writes(built.role, permissions.writes)
        if permissions.runs:
            self._grant_runs(built.role, self.state_machine)
        return built.function

    def _sweep(self) -> lambda_.IFunction:
        """The scheduled sweep: reads through the sweep index, flags stalls, starts lost runs."""
        sweep = self.functions.create(
            self, SWEEP_FUNCTION, environment={"STATE_MACHINE_ARN": self.state_machine.state_machine_arn}
        )
        self.data.grant_read(sweep.role)
        self.data.grant_writes(sweep.role, ("dynamodb:UpdateItem",))
        self._grant_runs(sweep.role, self.state_machine, ("states:DescribeExecution",))
        self.sweep_schedule = events.Rule(
            self,
            "SweepSchedule",
            description="Look for stalled executions and runs that were never started",
            schedule=events.Schedule.rate(Duration.minutes(SWEEP_EVERY_MINUTES)),
            targets=[targets.LambdaFunction(sweep.function, retry_attempts=0)],
        )
        return sweep.function

    def _grant_runs(
        self,
        role: iam.IRole,
        state_machine: sfn.StateMachine,
        on_runs: tuple[str, ...] = ("states:StopExecution",),
    ) -> None:
        """StartExecution on the state machine; `on_runs` (StopExecution) on its runs, named at runtime."""
        state_machine.grant_start_execution(role)
        runs = self.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        iam.Grant.add_to_principal(grantee=role, actions=list(on_runs), resource_arns=[runs])
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::{flatten_reference(self.resolve(runs))}]",
            "StopExecution/DescribeExecution act on a run whose name is known only at runtime; the "
            "wildcard covers the runs of this one state machine, nothing else.",
        )


def context_int(key: str, value: object, default: int) -> int:
    """A context value as a whole number ≥ 0: given in cdk.json (a number) or with `-c` (a string)."""
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"context {key} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"context {key} must not be negative, got {number}")
    return number


def allowed_origins(values: Sequence[str]) -> list[str]:
    """Context allowedOrigins, checked: each a scheme and host (and port), no path, no wildcard."""
    origins = [value.rstrip("/") for value in values]
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ValueError(f"allowedOrigins: {origin!r} is not an origin like https://app.example.com")
    return origins


def gateway_error_origin(allowed_origins: Sequence[str], monitor_url: str) -> str:
    """The one origin API Gateway's own errors can name: the listed origin, or with several the
    monitor's own (README "The monitor in AWS": other listed origins see those errors as network
    errors, since a gateway response cannot pick the caller's origin)."""
    return allowed_origins[0] if len(allowed_origins) == 1 else monitor_url


def cdk_context() -> dict[str, Any]:
    """The feature flags of cdk.json, so `python app.py` and the tests synthesize what `cdk` would."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def create_app(
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[App, ExecutionMonitorStack]:
    """The app with its one stack and the cdk-nag checks (app.py and the tests both build it here)."""
    app = App(outdir=outdir, context={**cdk_context(), **(context or {})})
    stack = ExecutionMonitorStack(app, STACK_NAME, description="Workflow Execution Monitor")
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )
    return app, stack
