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
import zipfile
from typing import Any

from moto.awslambda.models import LambdaFunction

from infrastructure.local.events import LambdaContext

# function name in moto -> folder under functions/
HANDLERS: dict[str, str] = {}
_original_invoke = LambdaFunction._invoke_lambda


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    folder = HANDLERS.get(self.function_name)
    if folder is None:
        return _original_invoke(self, event)
    handler = importlib.import_module(f"{folder}.handler").lambda_handler
    payload = json.loads(event) if isinstance(event, str | bytes) else event
    context = LambdaContext(self.function_name, timeout_ms=int(self.timeout or 60) * 1000)
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
