"""REQUEST authorizer: verifies the bearer JWT (header, or ?access_token= on the stream route only).

Workspace membership travels in the context and is enforced by the handlers, which answer 404
(an authorizer can only say 401 or 403, and 403 would reveal that the workspace exists).
"""

from typing import Any

from execution_monitor.auth import bearer_token, verify_token
from execution_monitor.errors import Unauthorized
from execution_monitor.observability import instrumented
from execution_monitor.paths import STREAM
from execution_monitor.settings import AuthSettings

AuthSettings.load()


def _token(event: dict[str, Any]) -> str:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if headers.get("authorization"):
        return bearer_token(headers["authorization"])
    query_token = (event.get("queryStringParameters") or {}).get("access_token")
    # Only the stream route: browsers' EventSource cannot send headers. Elsewhere a token in the
    # URL would end up in logs and histories for nothing.
    if query_token and event.get("resource") == STREAM:
        return str(query_token)
    raise Unauthorized("a bearer token is required")


def _api_arn_pattern(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every method of this stage
    api, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0]
    return f"{api}/{stage}/*"


@instrumented
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        principal = verify_token(_token(event))
    except Unauthorized as error:
        # The one exception API Gateway turns into a 401 response.
        raise Exception("Unauthorized") from error
    return {
        "principalId": principal.subject,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _api_arn_pattern(event["methodArn"]),
                }
            ],
        },
        "context": principal.authorizer_context(),
    }
