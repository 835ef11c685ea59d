"""Cognito user pool, its app client, and the Lambda REQUEST authorizer(s) of the REST API.

The authorizer verifies the bearer JWT and answers Allow for the whole stage with {sub, workspaces}
in the context; handlers enforce workspace membership (404 for a stranger). Because the policy does
not depend on the path, caching it per Authorization header is safe. Streaming routes also accept
`?access_token=`, which a header-keyed cache cannot see, so they get a second, uncached authorizer
on the same function, created only when such a route exists.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from infrastructure.constants import (
    AUTHORIZER_CACHE_SECONDS,
    USER_POOL_CLIENT_LOGICAL_ID,
    USER_POOL_LOGICAL_ID,
)
from infrastructure.constructs.functions import FunctionFactory
from infrastructure.routes import AUTHORIZER_FUNCTION

AUTHORIZATION_HEADER = "Authorization"


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: FunctionFactory) -> None:
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
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,  # a browser client cannot keep a secret
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
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
