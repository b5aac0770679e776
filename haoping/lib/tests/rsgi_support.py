"""A stand-in for granian's RSGI scope and HTTP protocol, for driving RSGI applications in tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from granian.rsgi import ProtocolClosed


class Headers:
    """As granian's RSGIHeaders: names in lower case, a repeated header once per occurrence."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = [(name.lower(), value) for name, value in pairs]

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _value in self.pairs)

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def keys(self) -> list[str]:
        return list(dict(self.pairs))

    def get(self, key: str, default: Any = None) -> Any:
        return next((value for name, value in self.pairs if name == key), default)


@dataclass
class Scope:
    method: str
    path: str
    headers: Headers
    query_string: str = ""
    proto: str = "http"
    http_version: str = "1.1"
    rsgi_version: str = "1.5"
    scheme: str = "http"
    server: str = "testserver:80"
    client: str = "127.0.0.1:5000"
    authority: str | None = None


@dataclass
class Stream:
    sent: list[bytes] = field(default_factory=list)
    gone: bool = False  # the client left: sending fails as granian's does

    async def send_bytes(self, data: bytes) -> None:
        if self.gone:
            raise ProtocolClosed("Transport is closed")
        self.sent.append(data)


class Protocol:
    """One request's body (in `chunk`-sized pieces when iterated), and what the application answered."""

    def __init__(self, body: bytes = b"", chunk: int = 0, gone: bool = False) -> None:
        self.body = body
        self.gone = gone
        self.chunk = chunk or max(len(body), 1)
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.content = b""
        self.stream: Stream | None = None
        self.closed: int | None = None

    async def __call__(self) -> bytes:
        return self.body

    def __aiter__(self) -> Any:
        async def pieces() -> Any:
            for start in range(0, len(self.body), self.chunk):
                yield self.body[start : start + self.chunk]

        return pieces()

    async def client_disconnect(self) -> None:
        if not self.gone:
            await asyncio.Event().wait()  # the client stays until answered

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.content = status, headers, body

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Stream:
        self.status, self.headers, self.stream = status, headers, Stream(gone=self.gone)
        return self.stream

    def close(self, status: int) -> None:
        self.closed = status

    def answer(self) -> bytes:
        return self.content + b"".join(self.stream.sent if self.stream else [])


class SlowProtocol(Protocol):
    """A client that sends its headers, then its body never (or only after `delay` seconds)."""

    def __init__(self, delay: float | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.read = False  # whether anyone started reading the body

    async def _wait(self) -> None:
        self.read = True
        if self.delay is None:
            await asyncio.Event().wait()
        await asyncio.sleep(self.delay or 0)

    async def __call__(self) -> bytes:
        await self._wait()
        return self.body

    def __aiter__(self) -> Any:
        async def pieces() -> Any:
            await self._wait()
            yield self.body

        return pieces()
