"""The stack's resources: table, functions, layer, Cognito, authorizers, REST API, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Token

from infrastructure import constants
from infrastructure.constructs.functions import FUNCTIONS_DIR, construct_id_for
from infrastructure.routes import AUTHORIZER_FUNCTION, ROUTES
from infrastructure.table import INDEXES, PARTITION_KEY, SORT_KEY
from tests.infrastructure.synthesis import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

RETENTION_DAYS = {"ONE_MONTH": 30, "THREE_MONTHS": 90}


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _method_paths(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    """(HTTP method, resource path) -> method properties, rebuilt from the resource tree."""
    resources = synthesized.of_type("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        parent = _ref(properties["ParentId"])
        prefix = path_of(parent) if parent in resources else ""
        return f"{prefix}/{properties['PathPart']}"

    methods = {}
    for method in synthesized.of_type("AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        methods[(properties["HttpMethod"], path_of(_ref(properties["ResourceId"]) or ""))] = properties
    return methods


def _joined(value: Any) -> str:
    """A Fn::Join / Fn::GetAtt / Ref as one readable string, to look for names inside."""
    return json.dumps(value)


# -- data -----------------------------------------------------------------------------------------


def test_the_table_is_on_demand_with_pitr_stream_and_both_indexes(synthesized: Synthesized) -> None:
    table = synthesized.resources[constants.TABLE_LOGICAL_ID]
    assert table["Type"] == "AWS::DynamoDB::Table"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert properties["KeySchema"] == [
        {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
    ]
    assert all(attribute["AttributeType"] == "S" for attribute in properties["AttributeDefinitions"])
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert set(indexes) == {index.name for index in INDEXES}
    for index in INDEXES:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ]
    # Lists are one Query a page (ALL); the sweep index only points at items (KEYS_ONLY).
    projections = {name: index["Projection"]["ProjectionType"] for name, index in indexes.items()}
    assert projections == {"gsi1": "ALL", "gsi2": "ALL", "gsi3": "ALL", "gsi4": "ALL", "gsi5": "KEYS_ONLY"}


def test_the_table_survives_stack_deletion_and_replacement(synthesized: Synthesized) -> None:
    table = synthesized.resources[constants.TABLE_LOGICAL_ID]
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True


# -- functions ------------------------------------------------------------------------------------


def test_every_function_is_arm64_python312_traced_with_json_logs_and_the_common_layer(
    synthesized: Synthesized,
) -> None:
    functions = synthesized.of_our_type("AWS::Lambda::Function")
    stack = synthesized.stack
    common = synthesized.logical_id(stack.functions.layer)
    assert functions, "no functions synthesized"
    for logical_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == f"python{constants.PYTHON_VERSION}", logical_id
        assert properties["Architectures"] == ["arm64"], logical_id
        assert properties["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert properties["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert {"Ref": common} in properties["Layers"], logical_id
        environment = properties["Environment"]["Variables"]
        assert environment["POWERTOOLS_SERVICE_NAME"] == constants.SERVICE_NAME, logical_id
        assert environment["POWERTOOLS_LOG_LEVEL"] == constants.LOG_LEVEL, logical_id
        assert environment["TABLE_NAME"] == {"Ref": constants.TABLE_LOGICAL_ID}, logical_id


def test_every_function_logs_to_its_own_log_group_with_a_retention(synthesized: Synthesized) -> None:
    log_groups = synthesized.of_type("AWS::Logs::LogGroup")
    used = []
    for logical_id, function in synthesized.of_our_type("AWS::Lambda::Function").items():
        log_group = _ref(function["Properties"]["LoggingConfig"]["LogGroup"])
        assert log_group in log_groups, logical_id
        assert (
            log_groups[log_group]["Properties"]["RetentionInDays"]
            == RETENTION_DAYS[constants.LOG_RETENTION.value]
        )
        used.append(log_group)
    assert len(used) == len(set(used)), "two functions share a log group"


def test_every_route_and_the_authorizer_get_their_own_function_from_their_folder(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    expected = {route.function for route in ROUTES}
    assert set(stack.route_functions) == expected
    functions = synthesized.of_type("AWS::Lambda::Function")
    built = {folder: synthesized.logical_id(function) for folder, function in stack.route_functions.items()}
    built[AUTHORIZER_FUNCTION] = synthesized.logical_id(stack.auth.authorizer_function.function)
    assert len(set(built.values())) == len(built)
    for folder, logical_id in built.items():
        assert logical_id.startswith(construct_id_for(folder)) or construct_id_for(folder) in logical_id
        properties = functions[logical_id]["Properties"]
        # The asset holds exactly the function's own folder, not the whole functions/ tree.
        asset = synthesized.outdir / f"asset.{properties['Code']['S3Key'].removesuffix('.zip')}"
        staged = sorted(path.name for path in asset.iterdir() if path.name != "__pycache__")
        source = sorted(
            path.name for path in (FUNCTIONS_DIR / folder).iterdir() if path.name != "__pycache__"
        )
        assert staged == source, folder


def test_plain_functions_use_the_handler_entry_point_with_api_friendly_limits(
    synthesized: Synthesized,
) -> None:
    streaming = {route.function for route in ROUTES if route.streaming}
    for folder, function in synthesized.stack.route_functions.items():
        if folder in streaming:
            continue
        properties = synthesized.resources[synthesized.logical_id(function)]["Properties"]
        assert properties["Handler"] == "handler.lambda_handler", folder
        assert properties["Timeout"] < 29, folder  # under API Gateway's integration timeout
        assert properties["MemorySize"] >= 256, folder


def test_streaming_functions_run_the_web_app_behind_the_lambda_web_adapter(synthesized: Synthesized) -> None:
    streaming = {route.function for route in ROUTES if route.streaming}
    assert streaming, "ROUTES has no streaming route any more: drop or adapt this test"
    for folder in streaming:
        function = synthesized.stack.route_functions[folder]
        properties = synthesized.resources[synthesized.logical_id(function)]["Properties"]
        assert properties["Handler"] == "run.sh"
        assert properties["Timeout"] == constants.STREAM_TIMEOUT_SECONDS
        environment = properties["Environment"]["Variables"]
        assert environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        assert environment["AWS_LWA_INVOKE_MODE"] == "response_stream"
        assert environment["PORT"] == str(constants.WEB_ADAPTER_PORT)
        adapter = [layer for layer in properties["Layers"] if "LambdaAdapterLayerArm64" in _joined(layer)]
        assert len(adapter) == 1
        assert f":{constants.WEB_ADAPTER_LAYER_VERSION}" in _joined(adapter[0])


def test_the_common_layer_targets_python312_on_arm64(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": [f"python{constants.PYTHON_VERSION}"], "CompatibleArchitectures": ["arm64"]},
    )


# -- auth -----------------------------------------------------------------------------------------


def test_the_user_pool_is_invite_only_with_strong_passwords_and_totp_mfa(
    synthesized: Synthesized,
) -> None:
    pool = synthesized.resources[constants.USER_POOL_LOGICAL_ID]
    properties = pool["Properties"]
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    password = properties["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[flag]
        for flag in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    # MFA and threat protection by tier: tests/infrastructure/test_cdk_hosting.py.
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["DeletionPolicy"] == "Retain"


def test_the_app_client_is_a_public_srp_client(synthesized: Synthesized) -> None:
    client = synthesized.resources[constants.USER_POOL_CLIENT_LOGICAL_ID]["Properties"]
    assert client.get("GenerateSecret", False) is False
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_the_authorizer_verifies_tokens_of_this_pool_and_client(synthesized: Synthesized) -> None:
    function = synthesized.stack.auth.authorizer_function.function
    properties = synthesized.resources[synthesized.logical_id(function)]["Properties"]
    environment = properties["Environment"]["Variables"]
    issuer = {"Fn::GetAtt": [constants.USER_POOL_LOGICAL_ID, "ProviderURL"]}
    assert environment["JWT_ISSUER"] == issuer
    assert environment["JWT_JWKS_URL"] == {"Fn::Join": ["", [issuer, "/.well-known/jwks.json"]]}
    assert {"Ref": constants.USER_POOL_CLIENT_LOGICAL_ID} in environment["JWT_AUDIENCE"]["Fn::Join"][1]


def test_the_header_authorizer_is_cached_and_the_stream_authorizer_is_not(synthesized: Synthesized) -> None:
    auth = synthesized.stack.auth
    cached = synthesized.resources[synthesized.logical_id(auth.authorizer)]["Properties"]
    assert cached["Type"] == "REQUEST"
    assert cached["IdentitySource"] == "method.request.header.Authorization"
    assert cached["AuthorizerResultTtlInSeconds"] == constants.AUTHORIZER_CACHE_SECONDS
    uncached = synthesized.resources[synthesized.logical_id(auth.stream_authorizer)]["Properties"]
    assert uncached["Type"] == "REQUEST"
    # No required identity source: the token may come as ?access_token= (EventSource sends no headers).
    assert not uncached.get("IdentitySource")
    assert uncached["AuthorizerResultTtlInSeconds"] == 0


# -- API ------------------------------------------------------------------------------------------


def test_the_api_is_regional(synthesized: Synthesized) -> None:
    api = synthesized.resources[constants.REST_API_LOGICAL_ID]["Properties"]
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]


def test_the_api_gzips_answers_of_a_kilobyte_or_more_for_clients_that_ask(synthesized: Synthesized) -> None:
    api = synthesized.resources[constants.REST_API_LOGICAL_ID]["Properties"]
    assert api["MinimumCompressionSize"] == constants.MIN_COMPRESSION_BYTES == 1024


def test_the_stage_is_traced_throttled_and_writes_json_access_logs(synthesized: Synthesized) -> None:
    stages = list(synthesized.of_type("AWS::ApiGateway::Stage").values())
    assert len(stages) == 1
    stage = stages[0]["Properties"]
    assert stage["StageName"] == constants.STAGE_NAME
    assert stage["TracingEnabled"] is True
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["MethodSettings"]}
    defaults = settings[("*", "/*")]
    assert defaults["ThrottlingRateLimit"] == constants.THROTTLING_RATE_LIMIT
    assert defaults["ThrottlingBurstLimit"] == constants.THROTTLING_BURST_LIMIT
    assert defaults["LoggingLevel"] == "ERROR"
    assert defaults["DataTraceEnabled"] is False
    access_log = stage["AccessLogSetting"]
    access_log_group = synthesized.logical_id(synthesized.stack.api.access_logs)
    assert {"Ref": access_log_group} in access_log["DestinationArn"]["Fn::Join"][1]
    fields = json.loads(access_log["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    retention = synthesized.resources[access_log_group]["Properties"]["RetentionInDays"]
    assert retention == RETENTION_DAYS[constants.ACCESS_LOG_RETENTION.value]


def test_every_route_has_exactly_one_method_integrated_with_its_function(synthesized: Synthesized) -> None:
    methods = _method_paths(synthesized)
    assert set(methods) == {(route.method, route.path) for route in ROUTES}
    for route in ROUTES:
        integration = methods[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        function_id = synthesized.logical_id(synthesized.stack.route_functions[route.function])
        assert function_id in _joined(integration["Uri"]), route


def test_authorized_routes_use_the_authorizer_and_public_routes_do_not(synthesized: Synthesized) -> None:
    methods = _method_paths(synthesized)
    auth = synthesized.stack.auth
    cached = synthesized.logical_id(auth.authorizer)
    for route in ROUTES:
        method = methods[(route.method, route.path)]
        if not route.authorized:
            assert method["AuthorizationType"] == "NONE", route
            assert "AuthorizerId" not in method, route
            continue
        assert method["AuthorizationType"] == "CUSTOM", route
        expected = synthesized.logical_id(auth.stream_authorizer) if route.streaming else cached
        assert method["AuthorizerId"] == {"Ref": expected}, route


def test_streaming_routes_stream_the_response_for_up_to_fifteen_minutes(synthesized: Synthesized) -> None:
    methods = _method_paths(synthesized)
    for route in ROUTES:
        integration = methods[(route.method, route.path)]["Integration"]
        if route.streaming:
            assert integration["ResponseTransferMode"] == "STREAM", route
            assert integration["TimeoutInMillis"] == constants.STREAM_TIMEOUT_SECONDS * 1000, route
            assert "response-streaming-invocations" in _joined(integration["Uri"]), route
        else:
            assert integration.get("ResponseTransferMode", "BUFFERED") == "BUFFERED", route


@pytest.mark.parametrize(
    ("response_type", "status", "code"),
    [
        ("UNAUTHORIZED", "401", "unauthorized"),
        ("ACCESS_DENIED", "403", "forbidden"),
        ("MISSING_AUTHENTICATION_TOKEN", "404", "not_found"),
        ("THROTTLED", "429", "throttled"),
        ("REQUEST_TOO_LARGE", "413", "payload_too_large"),
        ("DEFAULT_4XX", None, "bad_request"),
        ("DEFAULT_5XX", None, "internal_error"),
    ],
)
def test_api_gateway_errors_use_the_contract_error_shape(
    synthesized: Synthesized, response_type: str, status: str | None, code: str
) -> None:
    responses = {
        response["Properties"]["ResponseType"]: response["Properties"]
        for response in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    response = responses[response_type]
    assert response.get("StatusCode") == status
    assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    # API Gateway substitutes $context.error.messageString with a quoted, escaped JSON string.
    body = response["ResponseTemplates"]["application/json"].replace(
        "$context.error.messageString", json.dumps('say "hi"')
    )
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]


# -- outputs and environment ----------------------------------------------------------------------


def test_the_outputs_are_the_ones_clients_and_scripts_read(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    assert set(outputs) == {
        constants.OUTPUT_API_URL,
        constants.OUTPUT_USER_POOL_ID,
        constants.OUTPUT_USER_POOL_CLIENT_ID,
        constants.OUTPUT_TABLE_NAME,
        constants.OUTPUT_ALARM_TOPIC_ARN,
        constants.OUTPUT_DASHBOARD_NAME,
        constants.OUTPUT_FAILED_EVENTS_QUEUE_URL,
        constants.OUTPUT_WEBHOOK_DEAD_LETTERS_URL,
        constants.OUTPUT_MONITOR_URL,
        constants.OUTPUT_USER_POOL_DOMAIN_URL,
    }
    assert outputs[constants.OUTPUT_TABLE_NAME]["Value"] == {"Ref": constants.TABLE_LOGICAL_ID}
    assert outputs[constants.OUTPUT_USER_POOL_ID]["Value"] == {"Ref": constants.USER_POOL_LOGICAL_ID}
    assert constants.REST_API_LOGICAL_ID in _joined(outputs[constants.OUTPUT_API_URL]["Value"])


def test_the_stack_is_environment_agnostic(synthesized: Synthesized) -> None:
    assert Token.is_unresolved(synthesized.stack.account)
    assert Token.is_unresolved(synthesized.stack.region)
    assert synthesized.stack.stack_name == constants.STACK_NAME


def test_the_cdk_json_app_command_runs_this_app() -> None:
    cdk_json = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    assert cdk_json["app"].endswith("app.py")
    assert cdk_json["context"], "cdk.json carries the feature flags the app is synthesized with"


def test_only_the_authorizer_carries_the_jwt_layer_and_only_the_sse_function_the_web_layer(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    auth_layer = {"Ref": synthesized.logical_id(stack.functions.auth_layer)}
    web_layer = {"Ref": synthesized.logical_id(stack.functions.web_layer)}
    with_auth, with_web = [], []
    for logical_id, function in synthesized.of_our_type("AWS::Lambda::Function").items():
        layers = function["Properties"]["Layers"]
        if auth_layer in layers:
            with_auth.append(logical_id)
        if web_layer in layers:
            with_web.append(logical_id)
    assert with_auth == [synthesized.logical_id(stack.auth.authorizer_function.function)]
    assert with_web == [synthesized.logical_id(stack.route_functions["stream_execution"])]
