"""The http_request SSRF guard: decided on resolved addresses, with configurable allowed networks."""

import socket
from typing import Any

import pytest

from execution_monitor.actions.http_request import ActionFailed, resolve_safe_address
from execution_monitor.settings import get_settings


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
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",
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
    get_settings.cache_clear()
    resolving_to(monkeypatch, "127.0.0.1")
    assert resolve_safe_address("localhost", 8080) == "127.0.0.1"
    resolving_to(monkeypatch, "10.0.0.1")
    with pytest.raises(ActionFailed):
        resolve_safe_address("internal", 80)
