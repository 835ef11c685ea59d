"""Local bearer tokens: an RS256 key in `.local/`, its JWKS, and tokens shaped like Cognito's.

`python -m infrastructure.local.tokens demo` (or `a,b`) prints only a token, so that
`TOKEN=$(make -s token WORKSPACE=demo)` works. The running `make dev` verifies tokens with the
same code as AWS (`execution_monitor.auth`), fetching the JWKS over HTTP from the gateway's
JWKS_ROUTE, as it fetches Cognito's in AWS (PyJWKClient accepts only http(s) URLs).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

# Derived from this file, not the cwd, so `make token`, `make dev` and the tests share one key.
REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = REPO_ROOT / ".local"
KEY_PATH = LOCAL_DIR / "dev-signing-key.pem"
JWKS_PATH = LOCAL_DIR / "jwks.json"
JWKS_ROUTE = "/.well-known/jwks.json"  # served by the local gateway, like Cognito's JWKS URL
ISSUER = "urn:execution-monitor:local"
SUBJECT = "local-developer"
LIFETIME_SECONDS = 12 * 3600
GROUPS_CLAIM = "cognito:groups"


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write to a temp file in the same directory; the caller renames or links it into place."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(name, mode)
    return Path(name)


def _private_key() -> rsa.RSAPrivateKey:
    """Load the signing key, creating it once. Safe when several processes start at the same time."""
    if not KEY_PATH.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temp = _write_atomically(KEY_PATH, pem, mode=0o600)
        # link() refuses to replace an existing file: the first process to get here wins, the others
        # read the winner's key, so every process signs and verifies with the same one.
        try:
            os.link(temp, KEY_PATH)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    loaded = serialization.load_pem_private_key(KEY_PATH.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise TypeError(f"{KEY_PATH} is not an RSA private key; delete it to get a new one")
    return loaded


def _public_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    # kid = RFC 7638 thumbprint: deterministic, so rewriting jwks.json never changes it.
    canonical = json.dumps({name: jwk[name] for name in ("e", "kty", "n")}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def ensure_signing_key() -> tuple[rsa.RSAPrivateKey, str]:
    """The signing key and its kid; (re)writes jwks.json from the key so the two always agree."""
    key = _private_key()
    jwk = _public_jwk(key)
    document = json.dumps({"keys": [jwk]}, indent=2).encode()
    if not JWKS_PATH.exists() or JWKS_PATH.read_bytes() != document:
        os.replace(_write_atomically(JWKS_PATH, document), JWKS_PATH)
    return key, jwk["kid"]


def mint_token(
    workspaces: list[str],
    *,
    subject: str = SUBJECT,
    lifetime_seconds: int = LIFETIME_SECONDS,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A token for a member of `workspaces` (Cognito group `workspace:<id>` for each)."""
    key, kid = ensure_signing_key()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": ISSUER,
        "iat": now,
        "exp": now + lifetime_seconds,
        "token_use": "access",
        GROUPS_CLAIM: [f"workspace:{workspace}" for workspace in workspaces],
        **(extra_claims or {}),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def parse_workspaces(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


def main(argv: list[str]) -> int:
    workspaces = parse_workspaces(argv[0] if argv else "demo")
    if len(argv) > 1 or not workspaces:
        print("usage: python -m infrastructure.local.tokens <workspace>[,<workspace>...]", file=sys.stderr)
        return 2
    print(mint_token(workspaces))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
