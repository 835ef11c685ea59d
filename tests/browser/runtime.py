"""`python -m infrastructure.local` (what `make dev` runs) as a child process, for browser tests,
the CORS tests (which need ALLOWED_ORIGINS set before it starts) and the screenshot script; and
web/ alone on another port (another origin), for cross-origin checks and the monitor bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from infrastructure.local.static import StaticSite
from tests.e2e.support import IMPORT_ROOTS, REPO_ROOT

STARTUP_TIMEOUT_SECONDS = 60


class RuntimeFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def local_runtime(log_path: Path, **environment: str) -> Iterator[str]:
    """Starts the local system on a free port with `environment` added; yields its base URL."""
    port = free_port()
    python_path = os.pathsep.join([*map(str, IMPORT_ROOTS), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, **environment, "PORT": str(port), "PYTHONPATH": python_path.rstrip(os.pathsep)}
    with log_path.open("wb") as output:  # a file, not a pipe: nobody drains a pipe during tests
        process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.local"],
            cwd=REPO_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _await_health(base_url, process, log_path)
        yield base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _await_health(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text()
            raise RuntimeFailed(f"the local runtime exited with {process.returncode}:\n{log}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeFailed(f"the local runtime was not healthy within {STARTUP_TIMEOUT_SECONDS}s")


@contextmanager
def static_site() -> Iterator[str]:
    """web/ served by the same static app as `make dev`, in this process, on a free port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(StaticSite(), log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
