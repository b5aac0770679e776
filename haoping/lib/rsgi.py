"""An ASGI application served over RSGI, granian's native interface.

RSGI hands a request to Python with less machinery per request than ASGI (one awaited body, one
call for the answer), which the rating fast path takes directly. Every other request goes to
Django's ASGI application through `serve_asgi`, which turns the RSGI scope and protocol into an
ASGI scope, `receive` and `send`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _raw(text: str) -> bytes:
    """Bytes of a header value or query string as they came (ASCII in practice)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _address(text: str | None) -> tuple[str, int] | None:
    """'127.0.0.1:8000' or '[::1]:8000' as ASGI's (host, port)."""
    if not text:
        return None
    host, _sep, port = text.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def asgi_scope(scope: Any) -> dict[str, Any]:
    """The ASGI HTTP scope of an RSGI request."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": scope.http_version,
        "method": scope.method,
        "scheme": scope.scheme,
        "path": scope.path,
        "raw_path": None,
        "query_string": _raw(scope.query_string),
        "root_path": "",
        "headers": [(name.encode("latin-1"), _raw(value)) for name, value in scope.headers.items()],
        "client": _address(scope.client),
        "server": _address(scope.server),
    }


async def serve_asgi(app: ASGIApp, scope: Any, protocol: Any, body: bytes | None = None) -> None:
    """Answer an RSGI request with an ASGI application; `body` if it was read already."""
    if scope.proto != "http":
        protocol.close(404)  # no WebSocket endpoints
        return
    chunks: AsyncIterator[bytes] | None = None
    read = False

    async def receive() -> dict[str, Any]:
        nonlocal chunks, read, body
        if body is not None:
            whole, body, read = body, None, True
            return {"type": "http.request", "body": whole, "more_body": False}
        if not read:
            chunks = chunks or protocol.__aiter__()
            try:
                return {"type": "http.request", "body": await chunks.__anext__(), "more_body": True}
            except StopAsyncIteration:
                read = True
                return {"type": "http.request", "body": b"", "more_body": False}
        await protocol.client_disconnect()
        return {"type": "http.disconnect"}

    status = 500
    headers: list[tuple[str, str]] = []
    stream: Any = None

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers, stream
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            content = message.get("body", b"")
            if stream is None:
                if not message.get("more_body", False):
                    protocol.response_bytes(status, headers, content)
                    return
                stream = protocol.response_stream(status, headers)
            if content:
                await stream.send_bytes(content)

    await app(asgi_scope(scope), receive, send)
