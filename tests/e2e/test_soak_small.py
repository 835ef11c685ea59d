"""`make soak`, small: a fresh local runtime under concurrent clients, and its exit under load.

Only counts are asserted (no timings, no RSS figures): they do not depend on the machine's speed.
"""

from __future__ import annotations

import pytest

from infrastructure.local import tokens
from tests.bench import soak

pytestmark = pytest.mark.xdist_group("e2e")


def test_given_four_clients_and_200_executions_then_nothing_is_lost_stuck_or_falsely_failed() -> None:
    report = soak.soak(executions=200, clients=4, steps=3)

    assert report.zero_counts() == dict.fromkeys(report.zero_counts(), 0), report.tables()
    assert report.tally.outcomes["completed"] == 200, report.tables()


def test_given_executions_running_when_sigterm_arrives_then_the_runtime_exits_cleanly() -> None:
    with soak.local_runtime() as runtime:
        workspace = "sigterm"
        client = soak.Client(runtime.url, workspace, tokens.mint_token([workspace]), soak.Tally())
        path = f"{client.base}/busy"
        client.call("put", "PUT", path, 200, json=soak.workflow(3, hold=True))
        for _ in range(6):
            client.call("create", "POST", f"{path}/executions", 202, json={"input": {}})
        client.close()

        runtime.terminate(timeout=20)

    assert runtime.exit_code == 0
    assert not client.tally.server_errors and not client.tally.unexpected
