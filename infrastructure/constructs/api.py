"""The REST API (REGIONAL), built from the routes table: one resource tree, one Lambda per route.

Authorized routes use the cached REQUEST authorizer; streaming routes (SSE) use the uncached one and
a STREAM integration; the rest (the OpenAPI document) are public. API Gateway's own error answers
(401, unknown route, throttling, 5XX) use the contract's JSON error shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from execution_monitor import cors
from infrastructure.constants import (
    ACCESS_LOG_RETENTION,
    MIN_COMPRESSION_BYTES,
    REST_API_LOGICAL_ID,
    SERVICE_NAME,
    STAGE_NAME,
    STREAM_TIMEOUT_SECONDS,
)
from infrastructure.nag import acknowledge
from infrastructure.routes import Route

# One JSON object per request. Only values that cannot contain a double quote are logged, so every
# line stays valid JSON (user agents and error messages can contain quotes).
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorType": "$context.error.responseType",
    "principalId": "$context.authorizer.principalId",
    "xrayTraceId": "$context.xrayTraceId",
}

JSON_CONTENT_TYPE = {"Content-Type": "'application/json'"}


def _error_template(code: str, message: str | None = None) -> str:
    # $context.error.messageString is API Gateway's message, already quoted and escaped for JSON.
    message_json = json.dumps(message) if message is not None else "$context.error.messageString"
    return f'{{"error":{{"code":"{code}","message":{message_json}}}}}'


@dataclass(frozen=True)
class GatewayError:
    """One of API Gateway's own error answers, in the contract's error shape."""

    construct_id: str
    response_type: apigateway.ResponseType
    code: str
    status: str | None = None  # None keeps API Gateway's status code
    message: str | None = None  # None passes API Gateway's own message through


Response = apigateway.ResponseType
GATEWAY_ERRORS = (
    GatewayError(
        "Unauthorized", Response.UNAUTHORIZED, "unauthorized", "401", "a valid bearer token is required"
    ),
    GatewayError("AccessDenied", Response.ACCESS_DENIED, "forbidden", "403", "access denied"),
    # API Gateway answers 403 "Missing Authentication Token" for a path or method it does not know.
    GatewayError("UnknownRoute", Response.MISSING_AUTHENTICATION_TOKEN, "not_found", "404", "no such route"),
    GatewayError("Throttled", Response.THROTTLED, "throttled", "429", "too many requests"),
    GatewayError(
        "TooLarge", Response.REQUEST_TOO_LARGE, "payload_too_large", "413", "the request is too large"
    ),
    GatewayError("Default4XX", Response.DEFAULT_4_XX, "bad_request"),
    GatewayError("Default5XX", Response.DEFAULT_5_XX, "internal_error"),
)


@dataclass(frozen=True)
class Throttle:
    """Requests per second in the steady state, and the burst allowed above it."""

    rate_limit: float
    burst_limit: int


class Authorizers(Protocol):
    """What the API needs from the auth capability (satisfied by `Auth`)."""

    @property
    def authorizer(self) -> apigateway.IAuthorizer: ...

    @property
    def stream_authorizer(self) -> apigateway.IAuthorizer: ...


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Sequence[Route],
        functions: Mapping[str, lambda_.IFunction],
        authorizers: Authorizers,
        throttle: Throttle,
        route_throttles: Mapping[Route, Throttle] | None = None,
    ) -> None:
        """`throttle` limits the whole stage; `route_throttles` some routes further (their own
        method settings)."""
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=ACCESS_LOG_RETENTION)
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics are keyed by this name: the stack's own keeps them apart from
            # another deployment's in the same account.
            rest_api_name=Stack.of(self).stack_name,
            description=f"{SERVICE_NAME} API",
            endpoint_types=[apigateway.EndpointType.REGIONAL],  # EDGE would cut SSE streams after 30 s idle
            # gzip for clients that ask (docs/PERFORMANCE.md, big executions); streams are never compressed.
            min_compression_size=Size.bytes(MIN_COMPRESSION_BYTES),
            # Execution logging needs API Gateway's account-level CloudWatch role; CDK creates it.
            cloud_watch_role=True,
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                throttling_rate_limit=throttle.rate_limit,
                throttling_burst_limit=throttle.burst_limit,
                # A method's own settings replace the stage's for it: repeat the logging and metrics.
                method_options={
                    f"{route.path}/{route.method}": apigateway.MethodDeploymentOptions(
                        throttling_rate_limit=limit.rate_limit,
                        throttling_burst_limit=limit.burst_limit,
                        logging_level=apigateway.MethodLoggingLevel.ERROR,
                        data_trace_enabled=False,
                        metrics_enabled=True,
                    )
                    for route, limit in (route_throttles or {}).items()
                },
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request and response bodies, tokens included
                metrics_enabled=True,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # The stack exports the URL once, under constants.OUTPUT_API_URL, instead of RestApi's own output.
        self.rest_api.node.try_remove_child("Endpoint")
        cfn_api = self.rest_api.node.default_child
        assert isinstance(cfn_api, apigateway.CfnRestApi)
        cfn_api.override_logical_id(REST_API_LOGICAL_ID)

        self.methods: dict[Route, apigateway.Method] = {}
        for route in routes:
            if route.function not in functions:
                raise KeyError(f"no function for route {route.method} {route.path} ({route.function})")
            self.methods[route] = self._add_route(route, functions[route.function], authorizers)
        for error in GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                error.construct_id,
                type=error.response_type,
                status_code=error.status,
                response_headers=JSON_CONTENT_TYPE,
                templates={"application/json": _error_template(error.code, error.message)},
            )
        self._suppress_findings()

    @property
    def url(self) -> str:
        return self.rest_api.url

    def _add_route(
        self, route: Route, function: lambda_.IFunction, authorizers: Authorizers
    ) -> apigateway.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        if route.streaming:
            integration = apigateway.LambdaIntegration(
                function,
                allow_test_invoke=False,
                response_transfer_mode=apigateway.ResponseTransferMode.STREAM,
                timeout=Duration.seconds(STREAM_TIMEOUT_SECONDS),
            )
        else:
            integration = apigateway.LambdaIntegration(function, allow_test_invoke=False)
        if not route.authorized:
            method = resource.add_method(
                route.method, integration, authorization_type=apigateway.AuthorizationType.NONE
            )
            public = (
                f"{route.method} {route.path} is public by design (routes.py authorized=False): it serves "
                "the API description and reads no tenant data."
            )
            acknowledge(method, "AwsSolutions-APIG4", public)
            acknowledge(method, "AwsSolutions-COG4", public)
            return method
        authorizer = authorizers.stream_authorizer if route.streaming else authorizers.authorizer
        method = resource.add_method(route.method, integration, authorizer=authorizer)
        acknowledge(
            method,
            "AwsSolutions-COG4",
            "Authorized by a Lambda REQUEST authorizer that verifies the user pool's JWTs against its "
            "JWKS: a Cognito authorizer cannot read ?access_token= (EventSource sends no headers), and "
            "one authorizer gives every handler the same {sub, workspaces} context, locally too.",
        )
        return method

    def enable_cors(self, preflight: lambda_.IFunction, gateway_error_origin: str) -> None:
        """DESIGN "CORS" in API Gateway, for the origins the functions read from ALLOWED_ORIGINS.

        Preflights: an OPTIONS method without authorizer on every route's resource, answered by
        `preflight` (functions/preflight), which echoes a listed origin or refuses the others. A
        function rather than a MOCK integration: choosing among several origins per request would be
        a VTL template that nothing here can run, while the function is the same tested Python
        (execution_monitor.cors) as the handlers and `make dev`; only cross-origin callers preflight
        (the monitor itself is same-origin behind CloudFront), and browsers cache each answer.

        API Gateway's own errors (401, 403, 404, 429, 413, 4XX, 5XX) cannot choose an origin per
        request: they name `gateway_error_origin` (the one listed origin, or the monitor's own).
        """
        integration = apigateway.LambdaIntegration(preflight, allow_test_invoke=False)
        for path in sorted({route.path for route in self.methods}):
            method = self.rest_api.root.resource_for_path(path).add_method(
                "OPTIONS", integration, authorization_type=apigateway.AuthorizationType.NONE
            )
            reason = (
                f"OPTIONS {path} is a CORS preflight, which browsers send without credentials; it "
                "reads nothing and answers only the allowed methods and headers to a listed origin."
            )
            acknowledge(method, "AwsSolutions-APIG4", reason)
            acknowledge(method, "AwsSolutions-COG4", reason)
        cors_headers = {
            "Access-Control-Allow-Origin": gateway_error_origin,
            "Access-Control-Expose-Headers": ", ".join(cors.EXPOSED_HEADERS),
            "Vary": "Origin",
        }
        for error in GATEWAY_ERRORS:
            response = self.rest_api.node.find_child(error.construct_id).node.default_child
            assert isinstance(response, apigateway.CfnGatewayResponse)
            response.response_parameters = {
                **(response.response_parameters or {}),  # type: ignore[dict-item]
                **{f"gatewayresponse.header.{name}": f"'{value}'" for name, value in cors_headers.items()},
            }

    def _suppress_findings(self) -> None:
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Each handler validates its request with pydantic and answers 400/422 in the contract's error "
            "shape; an API Gateway model would duplicate the rules with other errors.",
        )
        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role (execution logs): the AWS managed policy is the "
            "documented one for it and allows only CloudWatch Logs writes.",
        )
        acknowledge(
            self.rest_api.deployment_stage,
            "AwsSolutions-APIG3",
            "A WAFv2 web ACL is an account-level, per-deployment decision (often attached by Firewall "
            "Manager); the stage is throttled and every data route needs a verified JWT.",
        )
