"""Runs Lambda functions in-process for moto's Step Functions interpreter (no Docker).

moto invokes a function through the single private method `LambdaFunction._invoke_lambda`
(contract in moto 5.2.5: `(self, event) -> (response_json, errored, logs)`); we replace it with a
call of the real handler module named by the function, so the engine runs exactly our code.
A test pins this contract (tests/integration/test_lambda_invoker.py).
"""

from __future__ import annotations

import importlib
import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction

# function name in moto -> folder under functions/
HANDLERS: dict[str, str] = {}
_original_invoke = LambdaFunction._invoke_lambda


@dataclass
class InvocationContext:
    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    folder = HANDLERS.get(self.function_name)
    if folder is None:
        return _original_invoke(self, event)
    handler = importlib.import_module(f"{folder}.handler").lambda_handler
    payload = json.loads(event) if isinstance(event, str | bytes) else event
    context = InvocationContext(
        self.function_name, int(self.timeout or 60), invoked_function_arn=self.function_arn
    )
    try:
        return json.dumps(handler(payload, context)), False, ""
    except Exception as error:
        return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}), True, ""


def install() -> None:
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]


def placeholder_zip() -> bytes:
    """moto needs a code package to register a function; the patched invoker never runs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()
