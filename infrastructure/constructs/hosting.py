"""The monitor in AWS: web/ in a private S3 bucket behind CloudFront, with the REST API behind the
same distribution at /api/*, so the monitor is same-origin (no CORS for it).

    viewer ─► CloudFront ─┬─ /api/*  ─► API Gateway stage (no cache; every viewer header but Host,
                          │             Authorization included; query strings; any method; SSE streams)
                          └─ default ─► S3 (origin access control) + page routes → /index.html

The API's routes already start with /api (routes.API_PREFIX), so the origin path is only the stage.
Page routes are rewritten by a CloudFront Function on the default behavior, not by an error
response, which would also turn the API's own 403/404 into index.html. One response headers policy
(the CSP of make dev plus the Cognito domain in connect-src, HSTS, frame-ancestors 'none') covers
both behaviors. web/ and a config.json for Cognito managed login are deployed by BucketDeployment
(a CDK-provided function and asset, no Docker).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infrastructure.constants import (
    HSTS_MAX_AGE_DAYS,
    MONITOR_ORIGIN_READ_TIMEOUT_SECONDS,
    MONITOR_SCOPES,
    SERVICE_NAME,
    STAGE_NAME,
)
from infrastructure.nag import acknowledge, flatten_reference
from infrastructure.routes import API_PREFIX
from infrastructure.web_security import content_security_policy

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
INDEX = "index.html"
CONFIG_FILE = "config.json"
BUCKET_DEPLOYMENT_HANDLER = "Custom::CDKBucketDeployment"  # the id of CDK's singleton function

# Viewer request on the default behavior: a path whose last segment has no dot is a page route
# (ids never contain dots), answered by index.html; files (/js/app.js, /config.json) pass.
PAGE_ROUTES_FUNCTION = f"""function handler(event) {{
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {{
    request.uri = '/{INDEX}';
  }}
  return request;
}}
"""


class MonitorHosting(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, rest_api: apigateway.IRestApi, sign_in_domain: str
    ) -> None:
        """`sign_in_domain`: the Cognito managed login URL the monitor exchanges its code with."""
        super().__init__(scope, construct_id)
        self.sign_in_domain = sign_in_domain
        self.bucket = s3.Bucket(
            self,
            "Files",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Only copies of web/, which every deploy writes again: nothing to keep after a teardown.
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        self.page_routes = cloudfront.Function(
            self,
            "PageRoutes",
            comment="Page routes of the monitor answer index.html",
            code=cloudfront.FunctionCode.from_inline(PAGE_ROUTES_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"{SERVICE_NAME} monitor: CSP, HSTS, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(sign_in_domain), override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(HSTS_MAX_AGE_DAYS),
                    include_subdomains=True,
                    override=True,
                ),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{SERVICE_NAME} monitor and API",
            default_root_object=INDEX,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,  # many live monitors share one connection
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.page_routes, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={f"{API_PREFIX}/*": self._api_behavior(rest_api)},
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        self._acknowledge_findings()

    def _api_behavior(self, rest_api: apigateway.IRestApi) -> cloudfront.BehaviorOptions:
        # The stage's host from the API's id alone: `rest_api.url` would tie the distribution to the
        # stage's deployment, which (gateway responses naming the monitor's origin) depends on it.
        domain = f"{rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
        return cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(
                domain,
                origin_path=f"/{STAGE_NAME}",
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                read_timeout=Duration.seconds(MONITOR_ORIGIN_READ_TIMEOUT_SECONDS),
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Every viewer header but Host (API Gateway routes on its own host name): Authorization,
            # Last-Event-ID, If-None-Match, Idempotency-Key, Origin; and every query string
            # (?access_token= for EventSource, list filters and cursors).
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers,
            compress=False,  # an event stream must flow as written
        )

    def deploy_files(self, *, client_id: str) -> s3deploy.BucketDeployment:
        """web/ plus config.json (read by web/js/auth.js) naming the sign-in domain and the monitor's
        app client `client_id`; every file revalidates (no-cache + ETag), and the distribution's
        cache is invalidated."""
        config = {
            "auth": {
                "type": "cognito",
                "domain": self.sign_in_domain,
                "clientId": client_id,
                "scopes": list(MONITOR_SCOPES),
                "redirectUri": f"{self.url}/",
            }
        }
        deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(str(WEB_ROOT), exclude=["**/.DS_Store"]),
                s3deploy.Source.json_data(CONFIG_FILE, config),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            cache_control=[s3deploy.CacheControl.no_cache()],
            memory_limit=256,
        )
        self._acknowledge_deployment()
        return deployment

    def _acknowledge_findings(self) -> None:
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "The bucket holds only copies of web/ (public static files, rewritten by every deploy) and "
            "is read by CloudFront alone through origin access control; API calls are logged by API "
            "Gateway's access logs.",
        )
        distribution_reasons = {
            "AwsSolutions-CFR1": "The monitor is for the deployment's own users wherever they are; "
            "geo restriction is a per-deployment choice, and every API call needs a verified JWT.",
            "AwsSolutions-CFR2": "A WAFv2 web ACL for CloudFront is an account-level, per-deployment "
            "decision (us-east-1, often via Firewall Manager); the API stage is throttled.",
            "AwsSolutions-CFR3": "API requests are logged by API Gateway's access logs; the static "
            "files are public copies of web/, and standard logs need an ACL-enabled bucket.",
            "AwsSolutions-CFR4": "The default *.cloudfront.net certificate has a fixed security "
            "policy; a deployment with its own domain and ACM certificate sets TLSv1.2_2021.",
        }
        for rule, reason in distribution_reasons.items():
            acknowledge(self.distribution, rule, reason)

    def _acknowledge_deployment(self) -> None:
        """BucketDeployment's function is CDK's (a singleton that runs only during deploys): its AWS
        managed logging policy, its runtime, and the wildcards of its grants, which CDK scopes to the
        asset bucket, the site bucket and (CloudFront has no resource-level invalidation ARN here)
        invalidations, are acknowledged on its own resources, one finding at a time."""
        stack = Stack.of(self)
        handler = next(
            child for child in stack.node.children if child.node.id.startswith(BUCKET_DEPLOYMENT_HANDLER)
        )
        role = handler.node.find_child("ServiceRole")
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment function logs with the AWS managed basic execution policy, which "
            "allows only CloudWatch Logs writes.",
        )
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "CDK's BucketDeployment function: CDK chooses and upgrades its runtime; it runs only while "
            "a deploy copies web/ to the bucket.",
        )
        policy = role.node.find_child("DefaultPolicy")
        assert isinstance(policy, iam.Policy)
        reason = (
            "CDK's BucketDeployment grants: read the deploy's asset zip, replace the monitor's files in "
            "its own bucket, invalidate the distribution; the wildcards are CDK's grant helpers."
        )
        for statement in stack.resolve(policy.document)["Statement"]:
            wildcards = [
                *(f"Action::{action}" for action in _as_list(statement["Action"]) if "*" in action),
                *(
                    f"Resource::{flatten_reference(resource)}"
                    for resource in _as_list(statement["Resource"])
                    if "*" in flatten_reference(resource)
                ),
            ]
            for finding in wildcards:
                acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
