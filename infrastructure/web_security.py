"""The monitor's security headers, defined once for `make dev` (local/static.py) and CloudFront
(constructs/hosting.py), so a page that works locally works under the deployed policy."""

from __future__ import annotations

CSP_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),  # no 'unsafe-inline': web/ has no inline script or style
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)


def content_security_policy(*connect_sources: str) -> str:
    """The policy; `connect_sources` join 'self' in connect-src (the Cognito domain, whose token
    endpoint the monitor calls with fetch after sign-in)."""
    return "; ".join(
        f"{name} {' '.join([value, *connect_sources])}" if name == "connect-src" else f"{name} {value}"
        for name, value in CSP_DIRECTIVES
    )


REFERRER_POLICY = "no-referrer"
