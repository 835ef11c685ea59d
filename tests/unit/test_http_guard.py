"""The http_request SSRF guard: decided on resolved addresses, with configurable allowed networks."""

import socket
from typing import Any

import pytest

from execution_monitor.actions.failure import ActionFailed
from execution_monitor.network import resolve_safe_address
from execution_monitor.settings import reset_settings


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def fake_getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",  # shared address space (carrier-grade NAT, VPC internals)
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",  # the IPv6 instance metadata endpoint
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:a9fe:a9fe::1",  # 6to4 wrapping 169.254.169.254
        "::127.0.0.1",  # IPv4-compatible loopback
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "fec0::1",  # deprecated site-local
    ],
)
def test_given_a_host_resolving_to_a_private_address_then_the_call_is_refused(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    resolving_to(monkeypatch, address)
    with pytest.raises(ActionFailed, match="not a public address"):
        resolve_safe_address("innocent.example.com", 80)


def test_given_one_of_several_addresses_is_private_then_the_call_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(monkeypatch, "93.184.216.34", "10.0.0.5")
    with pytest.raises(ActionFailed):
        resolve_safe_address("rebinding.example.com", 443)


def test_given_a_public_address_then_the_checked_address_is_the_one_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(monkeypatch, "93.184.216.34")
    assert resolve_safe_address("example.com", 443) == "93.184.216.34"


def test_given_loopback_is_allowed_by_configuration_then_loopback_calls_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_ACTION_ALLOWED_NETWORKS", "127.0.0.0/8")
    reset_settings()
    resolving_to(monkeypatch, "127.0.0.1")
    assert resolve_safe_address("localhost", 8080) == "127.0.0.1"
    resolving_to(monkeypatch, "10.0.0.1")
    with pytest.raises(ActionFailed):
        resolve_safe_address("internal", 80)


def test_given_a_slow_dripping_server_then_the_overall_deadline_fails_the_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time as clock
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from execution_monitor.actions.http_request import HttpRequestParams, perform

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(100):  # a byte every 50 ms: each read is quick, the whole is not
                self.wfile.write(b"x")
                self.wfile.flush()
                clock.sleep(0.05)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("HTTP_ACTION_ALLOWED_NETWORKS", "127.0.0.0/8")
    reset_settings()
    try:
        params = HttpRequestParams(url=f"http://127.0.0.1:{server.server_address[1]}/", timeout_seconds=0.5)
        started = clock.monotonic()
        with pytest.raises(ActionFailed, match="did not finish its response in time"):
            perform(params, 10)
        assert clock.monotonic() - started < 2
    finally:
        server.shutdown()
        server.server_close()


def test_given_a_nat64_address_of_a_public_host_then_the_call_is_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolving_to(monkeypatch, "64:ff9b::5db8:d822")  # NAT64 of 93.184.216.34
    assert resolve_safe_address("example.com", 443) == "64:ff9b::5db8:d822"


def test_given_an_allowed_network_then_a_denied_endpoint_inside_it_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The local runtime allows loopback for examples, but never its own unauthenticated services."""
    monkeypatch.setenv("HTTP_ACTION_ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("HTTP_ACTION_DENIED_ENDPOINTS", "127.0.0.1:5000")
    reset_settings()
    resolving_to(monkeypatch, "127.0.0.1")
    assert resolve_safe_address("localhost", 8080) == "127.0.0.1"
    with pytest.raises(ActionFailed, match="not a public address"):
        resolve_safe_address("localhost", 5000)
    resolving_to(monkeypatch, "::ffff:127.0.0.1")
    with pytest.raises(ActionFailed):
        resolve_safe_address("sneaky.example.com", 5000)


def test_given_the_local_runtime_then_actions_may_call_loopback_but_never_its_moto_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from infrastructure.local.aws import Moto, configure_environment

    monkeypatch.setattr(os, "environ", dict(os.environ))  # configure_environment writes the process env
    configure_environment(Moto(server=None, port=40123), jwks_url="http://127.0.0.1:1/jwks.json")  # type: ignore[arg-type]
    reset_settings()
    resolving_to(monkeypatch, "127.0.0.1")

    assert resolve_safe_address("localhost", 8080) == "127.0.0.1"
    with pytest.raises(ActionFailed):
        resolve_safe_address("localhost", 40123)
