"""What a request must pass before any of its body is read: ASGI middleware in front of the
application that `haoping.asgi` serves.

A client that sends its body slowly holds a request open; enough of them once took every request
slot of the server. So, before reading a body:
- a request to the API without a valid key goes on with no body (Django answers the 401 before it
  would read one), so its body is never read;
- a request without a key may have at most `HAOPING_MAX_PENDING_PER_CLIENT` others with a body
  open from its address in this process (429 beyond);
- a body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (or of unknown length) is read only with a key
  or from a signed-in console user (413 otherwise): Django keeps a large body in a temporary file,
  and nobody unknown may write there;
and every body must arrive within `HAOPING_BODY_TIMEOUT` seconds plus its size at a slow uplink's
rate (408 beyond). Slow headers and idle connections are the server's to bound (README, Serving).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http.cookie import parse_cookie
from django.utils.translation import gettext as _

from haoping import serving
from haoping.accounts.selectors import cached_api_client
from haoping.lib.numbers import whole_number
from haoping.serving import HEADERS

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Message = dict[str, Any]

API_PREFIX = "/api/"
REFUSED = [*((name.lower().encode(), value.encode()) for name, value in HEADERS), (b"connection", b"close")]

# A body must arrive within a few seconds plus its size at a slow mobile uplink's rate: a client
# trickling its body can hold a request open only that long.
MIN_BODY_RATE = 32 * 1024  # bytes per second


def body_time_limit(length: int | None, base: float) -> float:
    """Seconds allowed to read a body of `length` bytes (None: unknown, chunked)."""
    return base + (length or 0) / MIN_BODY_RATE


def _headers(scope: Message) -> dict[str, str]:
    """The request's header fields by lower-case name; the first of a repeated one."""
    fields: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        fields.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return fields


def _content_length(headers: dict[str, str]) -> int | None:
    length = headers.get("content-length", "")
    return whole_number(length)


async def _keyed(headers: dict[str, str]) -> bool:
    """Whether the request carries a valid API key (looked up off the event loop if not cached)."""
    authorization = headers.get("authorization", "")
    key = serving.bearer_key(authorization)
    if not key:
        return False
    known, client = cached_api_client(key)
    if not known:
        client = await sync_to_async(serving.api_client_looked_up, thread_sensitive=False)(authorization)
    return client is not None


def _session_user(session_key: str) -> bool:
    with serving.as_a_request():
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return SESSION_KEY in store


async def _signed_in(headers: dict[str, str]) -> bool:
    session_key = parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    return bool(await sync_to_async(_session_user, thread_sensitive=False)(session_key))


async def _refuse(send: Any, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}, ensure_ascii=False).encode()
    headers = [*REFUSED, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _without_body(receive: Any) -> Any:
    """A `receive` that gives an empty body, then waits (the body that came is never read)."""
    given = False

    async def empty() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # until the application stops listening
        raise AssertionError("unreachable")

    return empty


async def _timed(app: ASGIApp, scope: Message, receive: Any, send: Any, limit: float) -> None:
    """`app` with a body that must all arrive within `limit` seconds of the first read; one that
    does not ends the request as if the client had left, and the client gets a 408."""
    deadline: float | None = None
    read = timed_out = started = False

    async def timed_receive() -> Message:
        nonlocal deadline, read, timed_out
        if read:  # the body is in: the application waits for the client to leave, for as long as it likes
            return await receive()
        if timed_out:
            return {"type": "http.disconnect"}
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + limit
        try:
            async with asyncio.timeout_at(deadline):
                message: Message = await receive()
        except TimeoutError:
            timed_out = True
            return {"type": "http.disconnect"}
        read = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    async def tracked_send(message: Message) -> None:
        nonlocal started
        if timed_out and not started:
            return  # the 408 is the answer
        started = started or message["type"] == "http.response.start"
        await send(message)

    await app(scope, timed_receive, tracked_send)
    if timed_out and not started:
        await send({"type": "http.response.start", "status": 408, "headers": [(b"connection", b"close")]})
        await send({"type": "http.response.body", "body": b""})


class RequestGate:
    """Admits a request to the application (the rating fast path and Django), or answers it itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pending: dict[str, int] = {}  # requests with a body, without a key, per client address

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        length = _content_length(headers)
        if not ((length is not None and length > 0) or "transfer-encoding" in headers):
            return await self.app(scope, receive, send)
        limit = body_time_limit(length, settings.HAOPING_BODY_TIMEOUT)
        if await _keyed(headers):
            return await _timed(self.app, scope, receive, send, limit)
        if scope["path"].startswith(API_PREFIX):
            return await self.app(scope, _without_body(receive), send)
        client = scope.get("client")
        address = str(client[0]) if client else ""
        cap = settings.HAOPING_MAX_PENDING_PER_CLIENT
        if cap and self.pending.get(address, 0) >= cap:
            return await _refuse(send, 429, "too_many_requests", _("too many requests from your address at once"))
        if (length is None or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE) and not await _signed_in(headers):
            return await _refuse(send, 413, "too_large", _("the request body is too large"))
        self.pending[address] = self.pending.get(address, 0) + 1
        try:
            await _timed(self.app, scope, receive, send, limit)
        finally:
            left = self.pending.pop(address) - 1
            if left:
                self.pending[address] = left
