"""The one place Lambda functions are made: runtime, architecture, tracing, logging, role and layers.

Every function gets its own role (no AWS managed policy: it may write only to its own log group)
and its own log group with a retention. Table or state machine access is granted by the caller,
action by action, after creation.

Two kinds: a plain handler (`functions/<folder>/handler.py`, `lambda_handler`), and a web app run by
the Lambda Web Adapter in response-streaming mode (`functions/<folder>/run.sh` starts uvicorn), for
the SSE route: Python managed runtimes have no native response streaming.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infrastructure.constants import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_SECONDS,
    LOG_LEVEL,
    LOG_RETENTION,
    METRICS_NAMESPACE,
    SERVICE_NAME,
    STREAM_TIMEOUT_SECONDS,
    WEB_ADAPTER_LAYER_VERSION,
    WEB_ADAPTER_PORT,
)
from infrastructure.nag import acknowledge

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
HANDLER = "handler.lambda_handler"
WEB_APP_STARTUP = "run.sh"
RUNTIME = lambda_.Runtime.PYTHON_3_12  # matches constants.PYTHON_VERSION, which the layer is built for
ARCHITECTURE = lambda_.Architecture.ARM_64
CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc"]
# Published by AWS (awslabs/aws-lambda-web-adapter) in every commercial region under this account.
WEB_ADAPTER_LAYER_ARN = (
    f"arn:aws:lambda:{{region}}:753240598075:layer:LambdaAdapterLayerArm64:{WEB_ADAPTER_LAYER_VERSION}"
)


def construct_id_for(folder: str) -> str:
    """`put_workflow` -> `PutWorkflow`."""
    return "".join(part.capitalize() for part in folder.split("_"))


class ServiceFunction(Construct):
    """A function from `functions/<folder>` with its own role and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        folder: str,
        handler: str,
        entry_file: str,
        layers: list[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        memory_size: int,
        timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        source = FUNCTIONS_DIR / folder
        if not (source / entry_file).is_file():
            raise ValueError(f"functions/{folder}/{entry_file} does not exist")
        self.folder = folder
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{SERVICE_NAME} {folder}",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"{SERVICE_NAME} {folder}",
            code=lambda_.Code.from_asset(str(source), exclude=CODE_EXCLUDES),
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            layers=layers,
            environment=dict(environment),
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            log_group=self.log_group,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned to Python 3.12 on purpose: the common layer's binary wheels are built for cp312 "
            "(constants.PYTHON_VERSION); runtime and layer are upgraded together.",
        )
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords (and, for the stream consumer, "
            "dynamodb:ListStreams) support no resource-level permissions, so they need Resource '*'; "
            "every other statement is scoped to an ARN.",
        )


class FunctionFactory:
    """Makes every function of the app with the same defaults; callers add only what differs."""

    def __init__(
        self,
        scope: Construct,
        *,
        layer: lambda_.ILayerVersion,
        web_layer: lambda_.ILayerVersion,
        auth_layer: lambda_.ILayerVersion,
        table_name: str,
    ) -> None:
        self.scope = scope
        self.layer = layer
        self.web_layer = web_layer
        self.auth_layer = auth_layer
        self.table_name = table_name
        self._web_adapter: lambda_.ILayerVersion | None = None
        # Every function made here, in order: monitoring gives each its error and throttle alarms.
        self.created: list[ServiceFunction] = []

    def _environment(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        base = {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": LOG_LEVEL,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "TABLE_NAME": self.table_name,
        }
        return {**base, **(extra or {})}

    def create(
        self,
        scope: Construct,
        folder: str,
        *,
        environment: Mapping[str, str] | None = None,
        memory_size: int = DEFAULT_MEMORY_MB,
        timeout: Duration | None = None,
        verifies_tokens: bool = False,
    ) -> ServiceFunction:
        """A plain handler: `functions/<folder>/handler.py` exposing `lambda_handler`; one that
        `verifies_tokens` (the authorizer) also gets the JWT layer."""
        built = ServiceFunction(
            scope,
            construct_id_for(folder),
            folder=folder,
            handler=HANDLER,
            entry_file="handler.py",
            layers=[self.layer, self.auth_layer] if verifies_tokens else [self.layer],
            environment=self._environment(environment),
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(DEFAULT_TIMEOUT_SECONDS),
        )
        self.created.append(built)
        return built

    def create_streaming_web_app(
        self,
        scope: Construct,
        folder: str,
        *,
        environment: Mapping[str, str] | None = None,
        memory_size: int = DEFAULT_MEMORY_MB,
    ) -> ServiceFunction:
        """An ASGI app behind the Lambda Web Adapter (response_stream): `functions/<folder>/run.sh`.

        The timeout is API Gateway's ceiling for a stream; the app closes cleanly before it.
        """
        adapter = {
            "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
            "AWS_LWA_INVOKE_MODE": "response_stream",
            "PORT": str(WEB_ADAPTER_PORT),  # read by the adapter and by run.sh
            "AWS_LWA_READINESS_CHECK_PATH": "/health",
        }
        built = ServiceFunction(
            scope,
            construct_id_for(folder),
            folder=folder,
            handler=WEB_APP_STARTUP,
            entry_file=WEB_APP_STARTUP,
            layers=[self.layer, self.web_layer, self.web_adapter_layer],
            environment=self._environment({**adapter, **(environment or {})}),
            memory_size=memory_size,
            timeout=Duration.seconds(STREAM_TIMEOUT_SECONDS),
        )
        self.created.append(built)
        return built

    @property
    def web_adapter_layer(self) -> lambda_.ILayerVersion:
        if self._web_adapter is None:
            arn = WEB_ADAPTER_LAYER_ARN.format(region=Stack.of(self.scope).region)
            self._web_adapter = lambda_.LayerVersion.from_layer_version_arn(
                self.scope, "WebAdapterLayer", arn
            )
        return self._web_adapter
