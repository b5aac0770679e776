"""An ASGI application served over RSGI, granian's native interface.

RSGI hands a request to Python with less machinery per request than ASGI (one awaited body, one
call for the answer), which the rating fast path takes directly. Every other request goes to
Django's ASGI application through `serve_asgi`, which turns the RSGI scope and protocol into an
ASGI scope, `receive` and `send`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from granian.rsgi import ProtocolClosed

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

# A body must arrive within a few seconds plus its size at a slow mobile uplink's rate: a client
# trickling its body can hold a request open only that long.
MIN_BODY_RATE = 32 * 1024  # bytes per second
TIMED_OUT = [("connection", "close")]


def body_time_limit(length: int | None, base: float) -> float:
    """Seconds allowed to read a body of `length` bytes (None: unknown, chunked)."""
    return base + (length or 0) / MIN_BODY_RATE


def content_length(scope: Any) -> int | None:
    length = scope.headers.get("content-length", "")
    return int(length) if length.isdigit() else None


async def read_body(protocol: Any, limit: float) -> bytes | None:
    """The whole body within `limit` seconds; None, with a 408 answered, when it does not arrive in time."""
    try:
        async with asyncio.timeout(limit):
            body: bytes = await protocol()
            return body
    except TimeoutError:
        protocol.response_empty(408, TIMED_OUT)
        return None


def _raw(text: str) -> bytes:
    """Bytes of a header value or query string as they came. Granian passes request header values
    in ASCII only (it drops others), so this is ASCII in practice; answers' header values go out
    as granian encodes them, which is the same for the ASCII that Django's headers hold."""
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


def header_fields(scope: Any) -> list[tuple[str, str]]:
    """The request's header fields, names in lower case, each occurrence of a repeated header;
    over HTTP/2 the host comes as the authority, and is given as the Host header (as granian's
    ASGI interface does)."""
    fields: list[tuple[str, str]] = scope.headers.items()
    if scope.authority and "host" not in scope.headers:
        fields = [("host", scope.authority), *fields]
    return fields


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
        "headers": [(name.encode("latin-1"), _raw(value)) for name, value in header_fields(scope)],
        "client": _address(scope.client),
        "server": _address(scope.server),
    }


async def serve_asgi(
    app: ASGIApp, scope: Any, protocol: Any, body: bytes | None = None, *, body_timeout: float | None = None
) -> None:
    """Answer an RSGI request with an ASGI application; `body` if it was read already.

    With `body_timeout` (seconds, see `body_time_limit`), a body not all read by then ends the
    request as if the client had left, and the client gets a 408.
    """
    if scope.proto != "http":
        protocol.close(404)  # no WebSocket endpoints
        return
    chunks: AsyncIterator[bytes] | None = None
    read, gone, timed_out = False, False, False
    expected = content_length(scope)
    received = 0
    deadline: float | None = None

    async def receive() -> dict[str, Any]:
        nonlocal chunks, read, body, received, gone, timed_out, deadline
        if body is not None:
            whole, body, read = body, None, True
            return {"type": "http.request", "body": whole, "more_body": False}
        if not read and not gone:
            chunks = chunks or protocol.__aiter__()
            if body_timeout is not None and deadline is None:
                deadline = asyncio.get_running_loop().time() + body_timeout
            try:
                async with asyncio.timeout_at(deadline):
                    chunk = await chunks.__anext__()
                received += len(chunk)
                return {"type": "http.request", "body": chunk, "more_body": True}
            except TimeoutError:
                gone = timed_out = True
            except StopAsyncIteration:
                read = True
                # Granian ends a body cut short as if it were whole: the client is gone.
                gone = expected is not None and received < expected
                if not gone:
                    return {"type": "http.request", "body": b"", "more_body": False}
            except ProtocolClosed:
                gone = True
        if not gone:
            await protocol.client_disconnect()
        return {"type": "http.disconnect"}

    status = 500
    headers: list[tuple[str, str]] = []
    stream: Any = None
    started = False

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers, stream, gone, started
        if gone:
            return  # as an ASGI server does once the client has left: the application ends as usual
        try:
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                fields = message.get("headers", [])
                headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in fields]
            elif message["type"] == "http.response.body":
                content = message.get("body", b"")
                if stream is None:
                    if not message.get("more_body", False):
                        protocol.response_bytes(status, headers, content)
                        return
                    stream = protocol.response_stream(status, headers)
                if content:
                    await stream.send_bytes(content)
        except ProtocolClosed:
            # Django would not catch it, and would skip closing the response and giving back its
            # database connection.
            gone = True

    await app(asgi_scope(scope), receive, send)
    if timed_out and not started:
        protocol.response_empty(408, TIMED_OUT)
