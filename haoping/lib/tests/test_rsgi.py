"""serve_asgi answers an RSGI request with an ASGI application, as an ASGI server would."""

from __future__ import annotations

import asyncio
from typing import Any

from haoping.lib.rsgi import serve_asgi
from haoping.lib.tests.rsgi_support import Headers, Protocol, Scope


def test_the_asgi_application_sees_the_request_and_its_answer_is_sent() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["scope"] = scope
        body, more = b"", True
        while more:
            message = await receive()
            body += message["body"]
            more = message["more_body"]
        seen["body"] = body
        # After the body, receive waits for the client to go: it must not end the request early.
        listener = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        seen["waiting"] = not listener.done()
        listener.cancel()
        await send({"type": "http.response.start", "status": 202, "headers": [(b"x-answer", b"yes")]})
        await send({"type": "http.response.body", "body": b"ok:" + body})

    scope = Scope(
        "PUT",
        "/a b/c",
        Headers([("Host", "example.org"), ("X-Twice", "1"), ("X-Twice", "2")]),
        query_string="q=%E4%B8%AD&x=1",
        client="[::1]:5123",
    )
    protocol = Protocol(b"0123456789", chunk=3)
    asyncio.run(serve_asgi(app, scope, protocol))
    asgi = seen["scope"]
    assert asgi["type"] == "http" and asgi["method"] == "PUT" and asgi["path"] == "/a b/c"
    assert asgi["query_string"] == b"q=%E4%B8%AD&x=1"
    assert asgi["headers"] == [(b"host", b"example.org"), (b"x-twice", b"1"), (b"x-twice", b"2")]
    assert asgi["client"] == ("::1", 5123) and asgi["server"] == ("testserver", 80)
    assert seen["body"] == b"0123456789" and seen["waiting"]
    assert protocol.status == 202 and protocol.headers == [("x-answer", "yes")]
    assert protocol.answer() == b"ok:0123456789" and protocol.stream is None


def test_a_body_read_already_is_given_once_and_a_streamed_answer_is_streamed() -> None:
    received: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"a", b"b", b""):
            await send({"type": "http.response.body", "body": part, "more_body": part != b""})

    protocol = Protocol(b"never read again")
    asyncio.run(serve_asgi(app, Scope("POST", "/", Headers([])), protocol, body=b"read"))
    assert received == [{"type": "http.request", "body": b"read", "more_body": False}]
    assert protocol.stream is not None and protocol.stream.sent == [b"a", b"b"]
    assert protocol.answer() == b"ab"


def test_websockets_are_refused() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("not for a WebSocket")

    protocol = Protocol()
    asyncio.run(serve_asgi(app, Scope("GET", "/ws", Headers([]), proto="ws"), protocol))
    assert protocol.closed == 404


def test_a_client_that_leaves_ends_the_request_as_an_asgi_server_would() -> None:
    """Sending to a client that has gone raises in granian; Django does not catch that, and would
    skip closing its response (and giving back its database connection). The adapter swallows it
    and drops what follows, as ASGI servers do."""
    finished: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"a", b"b", b"c"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        finished.append("closed")

    protocol = Protocol(gone=True)
    asyncio.run(serve_asgi(app, Scope("GET", "/export", Headers([])), protocol))
    assert finished == ["closed"]
    assert protocol.stream is not None and protocol.stream.sent == []


def test_a_body_cut_short_is_a_disconnect_not_a_request() -> None:
    """Granian ends a body cut short as if it were whole; the declared length tells them apart."""
    messages: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while not messages or messages[-1].get("more_body"):
            messages.append(await receive())

    protocol = Protocol(b"0123456789", chunk=4, gone=True)
    asyncio.run(serve_asgi(app, Scope("POST", "/form", Headers([("content-length", "1000")])), protocol))
    assert [m["type"] for m in messages] == ["http.request"] * 3 + ["http.disconnect"]
    assert protocol.status is None


def test_over_http2_the_authority_is_the_host() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await send({"type": "http.response.start", "status": 204})
        await send({"type": "http.response.body"})

    h2 = Scope("GET", "/", Headers([("accept", "*/*")]), http_version="2", authority="haoping.example.gov.cn")
    asyncio.run(serve_asgi(app, h2, Protocol()))
    assert seen == [[(b"host", b"haoping.example.gov.cn"), (b"accept", b"*/*")]]
