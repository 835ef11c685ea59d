"""A loopback HTTP server for http_request steps: counts hits, scripts answers, can hold a request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Loopback:
    def __init__(self) -> None:
        self.hits: list[str] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.bodies: list[bytes] = []  # bodies to answer with, in order; then one naming the path
        self.received: list[tuple[str, dict[str, str], bytes]] = []  # (path, headers, body) of each request
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.url = ""

    def answer(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def loopback_server() -> Iterator[Loopback]:
    state = Loopback()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            state.received.append((self.path, dict(self.headers.items()), self.rfile.read(length)))
            state.entered.set()
            state.hold.wait(timeout=30)
            status = state.answer()
            body = (
                state.bodies.pop(0)
                if state.bodies
                else json.dumps({"path": self.path, "status": status}).encode()
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.hold.set()
        server.shutdown()
        server.server_close()
