"""A recording HTTP proxy in front of the local runtime, for the client's e2e tests.

It records every exchange (method, path, request headers, status, and for streams the ids of the
events it passed on), and can misbehave the way networks do, without touching the server:
refuse the stream route with a status, or cut streams after N events in the middle of the next
one, either closing the connection or resetting it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"}


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]  # the request's, lower-case names
    status: int = 0
    event_ids: list[str] = field(default_factory=list)  # stream events passed on whole

    @property
    def is_stream(self) -> bool:
        return urlsplit(self.path).path.endswith("/stream")


@dataclass
class StreamCut:
    after_events: int  # pass this many events on whole, then half of the next one
    how: Literal["close", "reset"]


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=httpx.Timeout(30, read=None))
        self.url = ""
        self.exchanges: list[Exchange] = []
        self.refuse_streams_with: int | None = None
        self.stream_cuts: list[StreamCut] = []  # applied to the next streams, one each
        self._lock = threading.Lock()

    def streams(self) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.is_stream]

    def gets_of(self, execution_id: str) -> list[Exchange]:
        return [
            exchange
            for exchange in self.exchanges
            if exchange.method == "GET"
            and urlsplit(exchange.path).path.endswith(f"/executions/{execution_id}")
        ]

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in HOP_BY_HOP}
        exchange = Exchange(
            handler.command, handler.path, {name.lower(): value for name, value in headers.items()}
        )
        with self._lock:
            self.exchanges.append(exchange)
            cut = self.stream_cuts.pop(0) if exchange.is_stream and self.stream_cuts else None
        if exchange.is_stream and self.refuse_streams_with:
            exchange.status = self.refuse_streams_with
            self._answer(
                handler, exchange.status, b'{"error":{"code":"unavailable","message":"refused by the proxy"}}'
            )
            return
        with self.upstream.stream(handler.command, handler.path, headers=headers, content=body) as response:
            exchange.status = response.status_code
            handler.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in HOP_BY_HOP | {"content-encoding"}:
                    handler.send_header(name, value)
            if exchange.is_stream and response.status_code == 200:
                handler.end_headers()  # HTTP/1.0: the body ends when the connection does
                self._relay_events(handler, response, exchange, cut)
                return
            content = response.read()
            handler.send_header("Content-Length", str(len(content)))
            handler.end_headers()
            handler.wfile.write(content)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    @staticmethod
    def _relay_events(
        handler: BaseHTTPRequestHandler, response: httpx.Response, exchange: Exchange, cut: StreamCut | None
    ) -> None:
        buffer = ""
        for text in response.iter_text():
            buffer += text
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                carries_data = "\ndata:" in f"\n{block}"
                if cut is not None and carries_data and len(exchange.event_ids) >= cut.after_events:
                    handler.wfile.write(block[: len(block) // 2].encode())
                    handler.wfile.flush()
                    if cut.how == "reset":  # RST instead of FIN: the client's read fails
                        handler.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                    return
                handler.wfile.write(f"{block}\n\n".encode())
                handler.wfile.flush()
                event_id = next(
                    (line[3:].strip() for line in block.splitlines() if line.startswith("id:")), None
                )
                if carries_data and event_id is not None:
                    exchange.event_ids.append(event_id)


@contextmanager
def recording_proxy(upstream: str) -> Iterator[Proxy]:
    proxy = Proxy(upstream)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            # A client that stops watching goes away mid-stream: nothing to answer then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proxy.forward(self)

        do_POST = do_PUT = do_GET

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        proxy.upstream.close()


def established_connections_to(port: int) -> int:
    """Open TCP connections (this machine, any process) whose remote end is `port`: a client that
    closed its connections has none left ESTABLISHED."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for row in path.read_text().splitlines()[1:]:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":  # 01 = ESTABLISHED
                count += 1
    return count
