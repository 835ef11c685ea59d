"""Bearer JWT verification (RS256 against a JWKS) and workspace membership from the token's groups."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jwt

from execution_monitor.api_model import IDENTIFIER_PATTERN
from execution_monitor.errors import Unauthorized
from execution_monitor.membership import Principal
from execution_monitor.settings import AuthSettings

WORKSPACE_GROUP_PREFIX = "workspace:"
GROUPS_CLAIM = "cognito:groups"
CLOCK_SKEW_SECONDS = 30
_WORKSPACE_ID = re.compile(IDENTIFIER_PATTERN)


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    # Keys are cached for the life of the container. An unknown kid refetches the set at most once
    # per cooldown (PyJWT's 30 s), so forged kids cannot make the authorizer hammer the JWKS URL.
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


@lru_cache(maxsize=4)
def _local_key_set(url: str) -> jwt.PyJWKSet:
    # The local runtime keeps its JWKS in a file (PyJWKClient only fetches over HTTP).
    return jwt.PyJWKSet.from_json(Path(url2pathname(urlsplit(url).path)).read_text())


def _signing_key(token: str, url: str) -> jwt.PyJWK:
    if not url.startswith("file://"):
        return _jwks_client(url).get_signing_key_from_jwt(token)
    kid = jwt.get_unverified_header(token).get("kid")
    try:
        return _local_key_set(url)[str(kid)]
    except KeyError as error:
        raise jwt.InvalidKeyError(f"unknown key id {kid}") from error


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required")
    return token.strip()


def verify_token(token: str) -> Principal:
    settings = AuthSettings.load()
    try:
        signing_key = _signing_key(token, settings.jwt_jwks_url)
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            issuer=settings.jwt_issuer or None,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise Unauthorized("the token is not valid") from error
    # Cognito access tokens carry client_id, id tokens carry aud: accept a configured app client
    # (the CLI's, the monitor's) in either.
    audiences = settings.audiences
    if audiences and not any(
        isinstance(value, str) and value in audiences
        for value in (claims.get("client_id"), claims.get("aud"))
    ):
        raise Unauthorized("the token is not valid")
    groups = claims.get(GROUPS_CLAIM)
    # Only a list of strings is a group list (a number, a string or a map grants nothing).
    if not isinstance(groups, list):
        groups = []
    workspaces = frozenset(
        group.removeprefix(WORKSPACE_GROUP_PREFIX)
        for group in groups
        if isinstance(group, str)
        and group.startswith(WORKSPACE_GROUP_PREFIX)
        # Only well-formed ids: memberships travel comma-joined, so `workspace:a,b` must grant nothing.
        and _WORKSPACE_ID.fullmatch(group.removeprefix(WORKSPACE_GROUP_PREFIX))
    )
    return Principal(subject=str(claims["sub"]), workspaces=workspaces)
