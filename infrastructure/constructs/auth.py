"""Cognito user pool, its app client, and the Lambda REQUEST authorizer(s) of the REST API.

The authorizer verifies the bearer JWT and answers Allow for the whole stage with {sub, workspaces}
in the context; handlers enforce workspace membership (404 for a stranger). Because the policy does
not depend on the path, caching it per Authorization header is safe. Streaming routes also accept
`?access_token=`, which a header-keyed cache cannot see, so they get a second, uncached authorizer
on the same function, created only when such a route exists.

The pool's tier: Essentials by default, MFA optional (TOTP); `plus=True` (context cognitoPlus) is
the Plus tier with MFA required and threat protection enforced, which Cognito bills per user.
Managed login (a Cognito domain) signs in the monitor's public client (`add_monitor_client`).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infrastructure.constants import (
    AUTHORIZER_CACHE_SECONDS,
    MONITOR_CLIENT_LOGICAL_ID,
    MONITOR_SCOPES,
    SERVICE_NAME,
    USER_POOL_CLIENT_LOGICAL_ID,
    USER_POOL_LOGICAL_ID,
)
from infrastructure.constructs.functions import FunctionFactory
from infrastructure.nag import acknowledge
from infrastructure.routes import AUTHORIZER_FUNCTION

AUTHORIZATION_HEADER = "Authorization"
ACCESS_TOKEN_HOURS = 1
REFRESH_TOKEN_DAYS = 30


class Auth(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: FunctionFactory,
        plus: bool = False,
        domain_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # administrators invite users and manage workspace:<id> groups
            sign_in_aliases=cognito.SignInAliases(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            mfa=cognito.Mfa.REQUIRED if plus else cognito.Mfa.OPTIONAL,
            # Threat protection is a Plus feature; Essentials has nothing to set.
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus else None
            ),
        )
        if not plus:
            self._acknowledge_essentials()
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # a browser client cannot keep a secret
            disable_o_auth=True,  # SRP only (CLI, scripts); managed login is the monitor client's
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
            id_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
            refresh_token_validity=Duration.days(REFRESH_TOKEN_DAYS),
        )
        # Managed login: the hosted sign-in pages at https://<prefix>.auth.<region>.amazoncognito.com.
        # A prefix is unique per region; the default one is this account's.
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=domain_prefix or Fn.join("-", [SERVICE_NAME, Aws.ACCOUNT_ID])
            ),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )
        for resource, logical_id in (
            (self.user_pool, USER_POOL_LOGICAL_ID),
            (self.client, USER_POOL_CLIENT_LOGICAL_ID),
        ):
            cfn = resource.node.default_child
            assert isinstance(cfn, (cognito.CfnUserPool, cognito.CfnUserPoolClient))
            cfn.override_logical_id(logical_id)

        issuer = self.user_pool.user_pool_provider_url  # https://cognito-idp.<region>.<suffix>/<poolId>
        self.authorizer_function = functions.create(
            self,
            AUTHORIZER_FUNCTION,
            environment={
                "JWT_ISSUER": issuer,
                "JWT_JWKS_URL": f"{issuer}/.well-known/jwks.json",
                # Every app client's id (add_monitor_client adds one): tokens of any other are refused.
                "JWT_AUDIENCE": self.client.user_pool_client_id,
            },
            verifies_tokens=True,
        )
        self.authorizer = apigateway.RequestAuthorizer(
            self,
            "Authorizer",
            handler=self.authorizer_function.function,
            identity_sources=[apigateway.IdentitySource.header(AUTHORIZATION_HEADER)],
            results_cache_ttl=Duration.seconds(AUTHORIZER_CACHE_SECONDS),
        )
        self._stream_authorizer: apigateway.RequestAuthorizer | None = None

    @property
    def stream_authorizer(self) -> apigateway.RequestAuthorizer:
        """No cache and no required identity source: the token may come as `?access_token=`.

        Created on first use, because an authorizer attached to no method fails synthesis.
        """
        if self._stream_authorizer is None:
            self._stream_authorizer = apigateway.RequestAuthorizer(
                self,
                "StreamAuthorizer",
                handler=self.authorizer_function.function,
                identity_sources=[],
                results_cache_ttl=Duration.seconds(0),
            )
        return self._stream_authorizer

    @property
    def domain_url(self) -> str:
        """https://<prefix>.auth.<region>.amazoncognito.com (config.json's `domain`; the CSP allows it)."""
        return self.domain.base_url()

    def add_monitor_client(self, monitor_url: str) -> cognito.UserPoolClient:
        """The monitor's public client: authorization code with PKCE (the browser keeps no secret),
        managed login, and `monitor_url` + "/" as its only callback and sign-out address."""
        redirect = f"{monitor_url}/"
        client = self.user_pool.add_client(
            "MonitorClient",
            auth_flows=cognito.AuthFlow(),  # no password flows: only managed login signs in
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.custom(scope) for scope in MONITOR_SCOPES],
                callback_urls=[redirect],
                logout_urls=[redirect],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
            id_token_validity=Duration.hours(ACCESS_TOKEN_HOURS),
            refresh_token_validity=Duration.days(REFRESH_TOKEN_DAYS),
        )
        cfn = client.node.default_child
        assert isinstance(cfn, cognito.CfnUserPoolClient)
        cfn.override_logical_id(MONITOR_CLIENT_LOGICAL_ID)
        # Managed login (the newer pages) shows a client's pages only once it has a style.
        branding = cognito.CfnManagedLoginBranding(
            self,
            "MonitorLoginBranding",
            user_pool_id=self.user_pool.user_pool_id,
            client_id=client.user_pool_client_id,
            use_cognito_provided_values=True,
        )
        branding.node.add_dependency(self.domain)  # a style belongs to the newer managed login pages
        audiences = ",".join([self.client.user_pool_client_id, client.user_pool_client_id])
        self.authorizer_function.function.add_environment("JWT_AUDIENCE", audiences)
        return client

    def _acknowledge_essentials(self) -> None:
        reason = (
            "Essentials tier by default (context cognitoPlus=true switches to Plus): MFA is optional "
            "but supported (TOTP), and required MFA with enforced threat protection needs Plus, which "
            "Cognito bills per monthly active user; docs say how to turn it on."
        )
        for rule in ("AwsSolutions-COG2", "AwsSolutions-COG8"):
            acknowledge(self.user_pool, rule, reason)
