"""Schemathesis (all checks) against the running API's served OpenAPI, with a real token and real ids.

Bounded and repeatable: deterministic generation, a few examples per operation, no stateful phase.
One exception: some valid-looking input is refused by design and no schema can say so: a forged
pagination `cursor` (422), a webhook URL whose host does not resolve to a public address (422).
The list routes and PUT workflow therefore run in a second pass without the positive-data-
acceptance check only; every other check runs on them too.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import bearer, definition, delay_action, unique, workflow_path

pytestmark = pytest.mark.xdist_group("e2e")

MAX_EXAMPLES = 8
RUN_TIMEOUT_SECONDS = 120
# Valid input these routes refuse by design: a forged cursor; a webhook host that does not resolve.
WORLD_DEPENDENT = r"^(GET .*/(executions|workflows)|PUT .*/workflows/\{workflowId\})$"
PASSES = {
    "every other route, all checks": ["--exclude-name-regex", WORLD_DEPENDENT],
    "lists and workflow writes": [
        "--include-name-regex",
        WORLD_DEPENDENT,
        "--exclude-checks",
        "positive_data_acceptance",
    ],
}
CONFIG = """\
[parameters]
"path.workspaceId" = "{workspace}"
"path.workflowId" = "{workflow}"
"path.executionId" = "{execution}"
"""


def _finished_execution(http: httpx.Client, path: str, headers: dict[str, str]) -> str:
    execution_id = str(http.post(f"{path}/executions", headers=headers).json()["execution"]["id"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        execution = http.get(f"{path}/executions/{execution_id}", headers=headers).json()["execution"]
        if execution["status"] == "completed":
            return execution_id
        time.sleep(0.1)
    pytest.fail(f"{execution_id} did not complete")


@pytest.mark.parametrize("selection", PASSES.values(), ids=PASSES.keys())
def test_given_the_served_openapi_then_schemathesis_finds_no_failure(
    http: httpx.Client, base_url: str, token_for: Callable[..., str], tmp_path: Path, selection: list[str]
) -> None:
    workspace, workflow = unique("ws"), "fuzzed"
    token = token_for([workspace])
    headers = bearer(token)
    path = workflow_path(workspace, workflow)
    assert http.put(path, json=definition(delay_action("wait", 0)), headers=headers).status_code == 200
    execution = _finished_execution(http, path, headers)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(workspace=workspace, workflow=workflow, execution=execution))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "30",
        "--no-color",
        *selection,
    ]

    # cwd: schemathesis writes its example database (.schemathesis/) where it runs
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False
    )

    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
