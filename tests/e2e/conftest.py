"""One `python -m infrastructure.local` (what `make dev` runs) per test session, driven over real HTTP.

With E2E_BASE_URL set (`make smoke`, docs/DEPLOY.md) the tests marked `smoke` run against that
deployed API instead, as the member of E2E_WORKSPACE whose token is E2E_TOKEN; the other e2e tests
need the local runtime (its tokens, its loopback servers) and are skipped there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from infrastructure.local import tokens
from tests.e2e.support import IMPORT_ROOTS, REPO_ROOT, bearer, unique
from tests.integration.loopback import Loopback, loopback_server

STARTUP_TIMEOUT_SECONDS = 60
E2E_DIR = Path(__file__).resolve().parent
DEPLOYED_URL = os.environ.get("E2E_BASE_URL", "").strip()
LOCAL_SMOKE_WORKSPACE = "smoke"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not DEPLOYED_URL:
        return
    skip = pytest.mark.skip(reason="E2E_BASE_URL points at a deployed stack: only the smoke tests run there")
    for item in items:
        if E2E_DIR in item.path.parents and item.get_closest_marker("smoke") is None:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local runtime exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the local runtime was not healthy within {STARTUP_TIMEOUT_SECONDS}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if DEPLOYED_URL:
        yield DEPLOYED_URL  # the stage URL (…/v1/): the tests' /api/… paths go under it
        return
    port = _free_port()
    log = tmp_path_factory.mktemp("local-runtime") / "output.log"
    python_path = os.pathsep.join([*map(str, IMPORT_ROOTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": python_path.rstrip(os.pathsep)}
    # Output goes to a file, not a pipe: nobody reads a pipe while tests run, and a full one blocks.
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.local"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def token_for() -> Callable[..., str]:
    """`make token` in-process: tokens.mint_token([...workspaces], **options)."""
    return tokens.mint_token


@pytest.fixture
def server() -> Iterator[Loopback]:
    """A loopback HTTP server for http_request steps (make dev allows 127.0.0.0/8)."""
    with loopback_server() as state:
        yield state


@pytest.fixture(scope="session")
def smoke_workspace(token_for: Callable[..., str]) -> tuple[str, dict[str, str]]:
    """Where the smoke tests write (fixed workflow ids, re-put every time), and a member's headers:
    E2E_WORKSPACE and E2E_TOKEN against a deployed stack, a minted token locally."""
    if not DEPLOYED_URL:
        return LOCAL_SMOKE_WORKSPACE, bearer(token_for([LOCAL_SMOKE_WORKSPACE]))
    workspace_id, token = os.environ.get("E2E_WORKSPACE", ""), os.environ.get("E2E_TOKEN", "")
    if not workspace_id or not token:
        pytest.fail("E2E_BASE_URL needs E2E_TOKEN and E2E_WORKSPACE (a member's access token and workspace)")
    return workspace_id, bearer(token)


@pytest.fixture
def workspace(token_for: Callable[..., str]) -> tuple[str, dict[str, str]]:
    """A workspace no other test uses, and the headers of a member."""
    workspace_id = unique("ws")
    return workspace_id, bearer(token_for([workspace_id]))
