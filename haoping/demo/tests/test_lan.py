"""Finding the address `./scripts/demo --lan` serves at."""

from __future__ import annotations

import socket
from typing import Any
from unittest import mock

import pytest

from haoping.demo import lan
from haoping.demo.services import site_is_local


class _Probe:
    def __init__(self, address: str | None) -> None:
        self.address = address

    def __enter__(self) -> _Probe:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def connect(self, target: tuple[str, int]) -> None:
        if self.address is None:
            raise OSError("Network is unreachable")

    def getsockname(self) -> tuple[str, int]:
        assert self.address is not None
        return (self.address, 40000)


def _host(*addresses: str) -> list[Any]:
    return [(socket.AF_INET, socket.SOCK_DGRAM, 0, "", (a, 0)) for a in addresses]


def test_the_default_routes_address() -> None:
    with mock.patch.object(lan.socket, "socket", return_value=_Probe("192.168.1.23")):
        assert lan.lan_address() == "192.168.1.23"


def test_without_a_default_route_any_address_of_the_host_but_loopback() -> None:
    with (
        mock.patch.object(lan.socket, "socket", return_value=_Probe(None)),
        mock.patch.object(lan.socket, "getaddrinfo", return_value=_host("127.0.1.1", "10.0.0.7")),
    ):
        assert lan.lan_address() == "10.0.0.7"


def test_none_when_only_loopback() -> None:
    with (
        mock.patch.object(lan.socket, "socket", return_value=_Probe("127.0.0.1")),
        mock.patch.object(lan.socket, "getaddrinfo", return_value=_host("127.0.1.1")),
    ):
        assert lan.lan_address() is None


@pytest.mark.parametrize(
    ("site", "local"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:8000", True),
        ("http://[::1]:8000", True),
        ("http://192.168.1.23:8000", False),
        ("https://haoping.example.gov.cn", False),
    ],
)
def test_site_is_local(settings: Any, site: str, local: bool) -> None:
    settings.SITE_URL = site
    assert site_is_local() is local
