"""Token verification and the REQUEST authorizer."""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from authorize import handler as authorizer
from execution_monitor import paths
from execution_monitor.auth import verify_token
from execution_monitor.errors import NotFound, Unauthorized
from execution_monitor.membership import principal_from_authorizer, require_member
from execution_monitor.settings import reset_settings
from tests.helpers import LambdaContext

ISSUER = "urn:test-issuer"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/GET/api/workspaces/a/workflows/w"


@pytest.fixture
def sign(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(
        json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
    )
    monkeypatch.setenv("JWT_JWKS_URL", (tmp_path / "jwks.json").as_uri())
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    reset_settings()

    def _sign(signing_key: Any = key, **claims: Any) -> str:
        body = {"sub": "u1", "iss": ISSUER, "exp": int(time.time()) + 3600, "cognito:groups": ["workspace:a"]}
        body.update(claims)
        return jwt.encode(body, signing_key, algorithm="RS256", headers={"kid": "k1"})

    return _sign


def test_given_a_malformed_workspace_group_then_it_grants_nothing(sign: Callable[..., str]) -> None:
    principal = verify_token(sign(**{"cognito:groups": ["workspace:a,b", "workspace:", "workspace:ok"]}))
    assert principal.workspaces == {"ok"}


def test_given_a_valid_token_then_its_workspace_groups_become_memberships(sign: Callable[..., str]) -> None:
    token = sign(**{"cognito:groups": ["workspace:a", "workspace:b", "admins"]})
    principal = verify_token(token)
    assert principal.workspaces == {"a", "b"}
    assert principal.subject == "u1"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda sign: sign(exp=int(time.time()) - 3600),
        lambda sign: sign(iss="urn:someone-else"),
        lambda sign: sign(signing_key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        lambda sign: sign()[:-4] + "AAAA",
        lambda sign: "not-a-jwt",
    ],
    ids=["expired", "wrong-issuer", "foreign-key", "tampered-signature", "garbage"],
)
def test_given_a_bad_token_then_it_is_unauthorized(
    sign: Callable[..., str], tamper: Callable[..., str]
) -> None:
    with pytest.raises(Unauthorized):
        verify_token(tamper(sign))


def test_given_an_hs256_token_signed_with_the_public_key_then_it_is_refused(sign: Callable[..., str]) -> None:
    forged = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60}, "s" * 32, algorithm="HS256", headers={"kid": "k1"}
    )
    with pytest.raises(Unauthorized):
        verify_token(forged)


def authorizer_event(
    resource: str, headers: dict[str, str], query: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": resource,
        "headers": headers,
        "queryStringParameters": query,
    }


def test_given_a_bearer_header_then_the_authorizer_allows_the_stage_and_passes_memberships(
    sign: Callable[..., str],
) -> None:
    result = authorizer.lambda_handler(
        authorizer_event("/api/x", {"Authorization": f"Bearer {sign()}"}), LambdaContext()
    )
    assert (
        result["policyDocument"]["Statement"][0]["Resource"]
        == "arn:aws:execute-api:us-east-1:123456789012:api123/prod/*"
    )
    assert result["context"] == {"sub": "u1", "workspaces": "a"}


def test_given_a_query_token_then_only_the_stream_route_accepts_it(sign: Callable[..., str]) -> None:
    query = {"access_token": sign()}
    stream = authorizer.lambda_handler(authorizer_event(paths.STREAM, {}, query), LambdaContext())
    assert stream["principalId"] == "u1"
    for elsewhere in (paths.EXECUTION, f"{paths.EXECUTION}/other/stream"):
        with pytest.raises(Exception, match="Unauthorized"):
            authorizer.lambda_handler(authorizer_event(elsewhere, {}, query), LambdaContext())


def test_given_no_token_then_the_authorizer_says_unauthorized(sign: Callable[..., str]) -> None:
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.lambda_handler(authorizer_event("/api/x", {"Authorization": "Basic abc"}), LambdaContext())


def test_given_the_authorizer_context_then_membership_outside_it_is_not_found() -> None:
    principal = principal_from_authorizer({"sub": "u1", "workspaces": "a,b"})
    require_member(principal, "b")
    with pytest.raises(NotFound):
        require_member(principal, "c")
    with pytest.raises(Unauthorized):
        principal_from_authorizer({})


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_given_an_hs256_token_keyed_with_the_real_public_key_then_algorithm_confusion_fails(
    sign: Callable[..., str],
) -> None:
    import hashlib
    import hmac
    import os

    from cryptography.hazmat.primitives import serialization

    jwks = json.loads(Path(os.environ["JWT_JWKS_URL"].removeprefix("file://")).read_text())
    public_key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwks["keys"][0]))
    pem = public_key.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    claims = {
        "sub": "attacker",
        "iss": ISSUER,
        "exp": int(time.time()) + 60,
        "cognito:groups": ["workspace:a"],
    }
    body = _b64(json.dumps(claims).encode())
    signature = _b64(hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest())

    with pytest.raises(Unauthorized):
        verify_token(f"{header}.{body}.{signature}")


def test_given_an_audience_then_only_tokens_for_that_client_pass(
    sign: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_AUDIENCE", "client-123")
    reset_settings()
    assert verify_token(sign(client_id="client-123")).subject == "u1"  # Cognito access token
    assert verify_token(sign(aud="client-123")).subject == "u1"  # Cognito id token
    with pytest.raises(Unauthorized):
        verify_token(sign(client_id="someone-else"))
    with pytest.raises(Unauthorized):
        verify_token(sign())


@pytest.mark.parametrize("groups", [5, "workspace:a", {"workspace:a": True}, None, [["workspace:a"]]])
def test_given_a_signed_token_whose_groups_claim_is_not_a_list_of_strings_then_it_grants_nothing(
    sign: Callable[..., str], groups: object
) -> None:
    principal = verify_token(sign(**{"cognito:groups": groups}))
    assert principal.workspaces == frozenset()


def test_given_several_app_clients_then_a_token_of_any_of_them_passes_and_no_other(
    sign: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_AUDIENCE", "cli-client, monitor-client")  # the CLI's and the monitor's
    reset_settings()
    assert verify_token(sign(client_id="monitor-client")).subject == "u1"
    assert verify_token(sign(client_id="cli-client")).subject == "u1"
    with pytest.raises(Unauthorized):
        verify_token(sign(client_id="monitor"))  # a part of an id is not the id
