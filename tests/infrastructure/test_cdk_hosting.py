"""The monitor in AWS (README "The monitor in AWS"): a private bucket behind CloudFront with the API
at /api/*, page routes, security headers, web/ and config.json deployed, the monitor's Cognito client
and the pool's tier, and CORS in API Gateway from context allowedOrigins."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from infrastructure import constants
from infrastructure.constructs.hosting import PAGE_ROUTES_FUNCTION
from infrastructure.routes import ROUTES
from infrastructure.stack import allowed_origins, gateway_error_origin
from infrastructure.web_security import content_security_policy
from tests.infrastructure.synthesis import SKIP_BUNDLING, Synthesized, synthesize

pytestmark = pytest.mark.xdist_group("cdk")

LISTED = ("https://app.example.test", "http://localhost:3000")
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policy ids
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@pytest.fixture(scope="module")
def plus_with_origins(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with the Plus tier and two listed origins (the default one is `synthesized`)."""
    context = {**SKIP_BUNDLING, "cognitoPlus": "true", "allowedOrigins": ",".join(LISTED)}
    return synthesize(tmp_path_factory.mktemp("cdk.out.plus"), context)


def only(synthesized: Synthesized, resource_type: str) -> dict[str, Any]:
    [resource] = synthesized.of_type(resource_type).values()
    return resource["Properties"]


def distribution(synthesized: Synthesized) -> dict[str, Any]:
    return only(synthesized, "AWS::CloudFront::Distribution")["DistributionConfig"]


def api_behavior(synthesized: Synthesized) -> dict[str, Any]:
    [behavior] = [b for b in distribution(synthesized)["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    return behavior


def origin(synthesized: Synthesized, origin_id: str) -> dict[str, Any]:
    [found] = [o for o in distribution(synthesized)["Origins"] if o["Id"] == origin_id]
    return found


# -- bucket and distribution ----------------------------------------------------------------------


def test_the_bucket_is_private_encrypted_and_refuses_plain_http(synthesized: Synthesized) -> None:
    bucket = only(synthesized, "AWS::S3::Bucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    statements = only(synthesized, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_cloudfront_reads_the_bucket_through_origin_access_control_only(synthesized: Synthesized) -> None:
    default = distribution(synthesized)["DefaultCacheBehavior"]
    s3_origin = origin(synthesized, default["TargetOriginId"])
    assert s3_origin["OriginAccessControlId"]
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    control = only(synthesized, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always"
    statements = only(synthesized, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    reads = [s for s in statements if s["Effect"] == "Allow"]
    assert any(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in reads)
    assert not any(s.get("Principal") == "*" or s.get("Principal") == {"AWS": "*"} for s in reads)


def test_the_api_behavior_forwards_to_the_stage_without_caching(synthesized: Synthesized) -> None:
    behavior = api_behavior(synthesized)
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    # Every viewer header but Host: Authorization, Last-Event-ID, If-None-Match reach the API.
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["Compress"] is False
    api_origin = origin(synthesized, behavior["TargetOriginId"])
    # /api/... on the viewer side is /<stage>/api/... at API Gateway: the routes carry /api already.
    assert api_origin["OriginPath"] == f"/{constants.STAGE_NAME}"
    assert all(route.path.startswith("/api/") for route in ROUTES)
    assert {"Ref": constants.REST_API_LOGICAL_ID} in api_origin["DomainName"]["Fn::Join"][1]
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert (
        api_origin["CustomOriginConfig"]["OriginReadTimeout"] == constants.MONITOR_ORIGIN_READ_TIMEOUT_SECONDS
    )


def test_page_routes_are_rewritten_by_a_viewer_request_function_not_by_error_responses(
    synthesized: Synthesized,
) -> None:
    config = distribution(synthesized)
    assert "CustomErrorResponses" not in config  # the API's own 403/404 must reach the caller
    [association] = config["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function = only(synthesized, "AWS::CloudFront::Function")
    assert function["FunctionCode"] == PAGE_ROUTES_FUNCTION
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert "FunctionAssociations" not in api_behavior(synthesized)


PAGE_ROUTES = {
    "/": "/index.html",
    "/workspaces/demo": "/index.html",
    "/workspaces/demo/workflows/wf_1/executions/exec_1": "/index.html",
    "/js/app.js": "/js/app.js",
    "/config.json": "/config.json",
    "/icons/failed.svg": "/icons/failed.svg",
}


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront Function's code")
def test_a_path_without_an_extension_is_a_page_route_and_files_pass() -> None:
    # The function's own code, run by node (CDK's runtime) on a viewer-request event per path.
    script = (
        PAGE_ROUTES_FUNCTION
        + "const uris = JSON.parse(process.argv[1]);\n"
        + "console.log(JSON.stringify(uris.map((uri) => handler({ request: { uri } }).uri)));\n"
    )
    completed = subprocess.run(
        ["node", "-e", script, json.dumps(list(PAGE_ROUTES))], capture_output=True, text=True, check=True
    )

    assert json.loads(completed.stdout) == list(PAGE_ROUTES.values())


def test_both_behaviors_send_the_security_headers(synthesized: Synthesized) -> None:
    config = distribution(synthesized)
    policy_id = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    assert api_behavior(synthesized)["ResponseHeadersPolicyId"] == policy_id
    headers = only(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": constants.HSTS_MAX_AGE_DAYS * 86400,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    csp = json.dumps(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "connect-src 'self' https://" in csp and "amazoncognito" in csp


def test_the_deployed_csp_is_the_local_one_plus_the_sign_in_domain() -> None:
    from infrastructure.local.static import CONTENT_SECURITY_POLICY

    deployed = content_security_policy("https://signin.example")
    assert deployed == CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", "connect-src 'self' https://signin.example"
    )


def test_web_and_a_cognito_config_are_deployed_and_the_cache_invalidated(synthesized: Synthesized) -> None:
    deployment = only(synthesized, "Custom::CDKBucketDeployment")
    assert deployment["DistributionPaths"] == ["/*"]
    assert deployment["SystemMetadata"] == {"cache-control": "no-cache"}
    assert len(deployment["SourceObjectKeys"]) == 2  # web/ and config.json
    [web] = [path for path in synthesized.outdir.glob("asset.*") if (path / "index.html").is_file()]
    assert (web / "js" / "auth.js").is_file() and not list(web.rglob("config.json"))
    [config_dir] = [path for path in synthesized.outdir.glob("asset.*") if (path / "config.json").is_file()]
    # Deploy-time values are markers in the file, filled in (JSON-quoted) from SourceMarkers.
    text = (config_dir / "config.json").read_text()
    config = json.loads(re.sub(r"<<marker:0xbaba:(\d+)>>", r'"marker \1"', text))
    markers = deployment["SourceMarkers"][1]
    auth = config["auth"]
    assert auth["type"] == "cognito"
    assert auth["scopes"] == list(constants.MONITOR_SCOPES)
    values = {
        key: json.dumps(markers[f"<<marker:0xbaba:{auth[key].split()[1]}>>"])
        for key in ("domain", "clientId", "redirectUri")
    }
    assert "AuthUserPoolDomain" in values["domain"] and "amazoncognito" in values["domain"]
    assert constants.MONITOR_CLIENT_LOGICAL_ID in values["clientId"]
    assert "MonitorDistribution" in values["redirectUri"] and values["redirectUri"].endswith('/\\""]]}')


def test_the_stack_outputs_the_monitor_url_and_the_sign_in_domain(synthesized: Synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    [distribution_id] = synthesized.of_type("AWS::CloudFront::Distribution")
    assert outputs[constants.OUTPUT_MONITOR_URL]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
    }
    assert "amazoncognito" in json.dumps(outputs[constants.OUTPUT_USER_POOL_DOMAIN_URL]["Value"])


# -- Cognito --------------------------------------------------------------------------------------


def test_the_monitor_client_is_public_with_the_code_flow_to_the_monitor_url(synthesized: Synthesized) -> None:
    client = synthesized.resources[constants.MONITOR_CLIENT_LOGICAL_ID]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]  # PKCE is the browser's (web/js/auth.js, S256)
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == list(constants.MONITOR_SCOPES)
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    [distribution_id] = synthesized.of_type("AWS::CloudFront::Distribution")
    redirect = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]]}
    assert client["CallbackURLs"] == [redirect]  # web/js/auth.js's default: the monitor's origin + /
    assert client["LogoutURLs"] == [redirect]
    assert set(client.get("ExplicitAuthFlows", [])) <= {"ALLOW_REFRESH_TOKEN_AUTH"}  # no password flows


def test_the_cli_client_keeps_srp_and_has_no_hosted_sign_in(synthesized: Synthesized) -> None:
    client = synthesized.resources[constants.USER_POOL_CLIENT_LOGICAL_ID]["Properties"]
    assert "ALLOW_USER_SRP_AUTH" in client["ExplicitAuthFlows"]
    assert "AllowedOAuthFlows" not in client and "CallbackURLs" not in client


def test_the_authorizer_accepts_tokens_of_both_clients(synthesized: Synthesized) -> None:
    function = synthesized.stack.auth.authorizer_function.function
    environment = synthesized.resources[synthesized.logical_id(function)]["Properties"]["Environment"]
    assert environment["Variables"]["JWT_AUDIENCE"] == {
        "Fn::Join": [
            "",
            [
                {"Ref": constants.USER_POOL_CLIENT_LOGICAL_ID},
                ",",
                {"Ref": constants.MONITOR_CLIENT_LOGICAL_ID},
            ],
        ]
    }


def test_managed_login_has_a_domain_and_a_style_for_the_monitor_client(synthesized: Synthesized) -> None:
    domain = only(synthesized, "AWS::Cognito::UserPoolDomain")
    assert domain["ManagedLoginVersion"] == 2
    assert domain["Domain"] == {"Fn::Join": ["-", [constants.SERVICE_NAME, {"Ref": "AWS::AccountId"}]]}
    branding = only(synthesized, "AWS::Cognito::ManagedLoginBranding")
    assert branding["ClientId"] == {"Ref": constants.MONITOR_CLIENT_LOGICAL_ID}
    assert branding["UseCognitoProvidedValues"] is True


def test_by_default_the_pool_is_essentials_with_optional_totp_mfa(synthesized: Synthesized) -> None:
    pool = synthesized.resources[constants.USER_POOL_LOGICAL_ID]["Properties"]
    assert pool["UserPoolTier"] == "ESSENTIALS"
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "UserPoolAddOns" not in pool


def test_with_cognito_plus_mfa_is_required_and_threat_protection_enforced(
    plus_with_origins: Synthesized,
) -> None:
    pool = plus_with_origins.resources[constants.USER_POOL_LOGICAL_ID]["Properties"]
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["MfaConfiguration"] == "ON"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}


# -- CORS -----------------------------------------------------------------------------------------


def options_methods(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [
        method["Properties"]
        for method in synthesized.of_type("AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] == "OPTIONS"
    ]


def test_without_allowed_origins_there_is_no_preflight_and_no_cors_header(synthesized: Synthesized) -> None:
    assert options_methods(synthesized) == []
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        assert "ALLOWED_ORIGINS" not in (function["Properties"].get("Environment") or {}).get("Variables", {})
    for response in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values():
        assert "Access-Control-Allow-Origin" not in json.dumps(response["Properties"])


def test_with_allowed_origins_every_api_function_reads_them(plus_with_origins: Synthesized) -> None:
    stack = plus_with_origins.stack
    for folder, function in stack.route_functions.items():
        variables = plus_with_origins.resources[plus_with_origins.logical_id(function)]["Properties"]
        assert variables["Environment"]["Variables"]["ALLOWED_ORIGINS"] == ",".join(LISTED), folder


def test_with_allowed_origins_every_route_answers_preflights_without_auth(
    plus_with_origins: Synthesized,
) -> None:
    methods = options_methods(plus_with_origins)
    resources = {json.dumps(method["ResourceId"]) for method in methods}
    assert len(methods) == len(resources) == len({route.path for route in ROUTES})
    for method in methods:
        assert method["AuthorizationType"] == "NONE"
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "Preflight" in json.dumps(method["Integration"]["Uri"])


def test_with_several_origins_the_gateway_errors_name_the_monitor_origin(
    plus_with_origins: Synthesized,
) -> None:
    responses = plus_with_origins.of_type("AWS::ApiGateway::GatewayResponse").values()
    assert {r["Properties"]["ResponseType"] for r in responses} >= {
        "UNAUTHORIZED",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    for response in responses:
        parameters = response["Properties"]["ResponseParameters"]
        assert parameters["gatewayresponse.header.Vary"] == "'Origin'"
        assert parameters["gatewayresponse.header.Access-Control-Expose-Headers"] == "'ETag'"
        allow_origin = json.dumps(parameters["gatewayresponse.header.Access-Control-Allow-Origin"])
        assert "DomainName" in allow_origin  # https://<distribution>: the monitor's own origin
        assert parameters["gatewayresponse.header.Content-Type"] == "'application/json'"


def test_one_listed_origin_is_the_one_gateway_errors_name() -> None:
    assert gateway_error_origin(["https://one.test"], "https://monitor.test") == "https://one.test"
    assert gateway_error_origin(list(LISTED), "https://monitor.test") == "https://monitor.test"


def test_with_plus_and_origins_cdk_nag_still_finds_nothing(plus_with_origins: Synthesized) -> None:
    violations = [
        violation["ruleName"]
        for report in plus_with_origins.validation_report["pluginReports"]
        for violation in report.get("violations", [])
    ]
    assert violations == []
    assert plus_with_origins.synth_error is None


def test_allowed_origins_are_checked_and_lose_a_trailing_slash() -> None:
    assert allowed_origins(["https://app.example.test/", "http://localhost:3000"]) == [
        "https://app.example.test",
        "http://localhost:3000",
    ]
    for bad in ("*", "https://app.example.test/path", "app.example.test", "https://*.example.test"):
        with pytest.raises(ValueError, match="allowedOrigins"):
            allowed_origins([bad])
