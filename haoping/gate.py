"""What a request must pass, under RSGI, before any of its body is read (haoping.rsgi).

A client that sends its body slowly holds a request open; enough of them once took every request
slot of the server. So, before reading a body:
- a request to the API without a valid key goes to Django with no body (Django answers the 401
  before it would read one), so its body is never read;
- a request without a key may have at most `HAOPING_MAX_PENDING_PER_CLIENT` others with a body
  open from its address in this process (429 beyond);
- a body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (or of unknown length) is read only with a key
  or from a signed-in console user (413 otherwise): Django keeps a large body in a temporary file,
  and nobody unknown may write there;
and every body must arrive within `HAOPING_BODY_TIMEOUT` seconds plus its size at a slow uplink's
rate (haoping.lib.rsgi; 408 beyond). Slow headers are granian's to bound (README, Serving).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from importlib import import_module
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http.cookie import parse_cookie
from django.utils.translation import gettext as _

from haoping.accounts.selectors import cached_api_client
from haoping.evaluations.fastpath import HEADERS, _as_a_request, _bearer, _client_looked_up
from haoping.lib.rsgi import ASGIApp, content_length, serve_asgi

API_PREFIX = "/api/"
REFUSED = [*HEADERS, ("Connection", "close")]


def _has_body(scope: Any) -> bool:
    length = content_length(scope)
    return (length is not None and length > 0) or "transfer-encoding" in scope.headers


async def _keyed(scope: Any) -> bool:
    """Whether the request carries a valid API key (looked up off the event loop if not cached)."""
    authorization = scope.headers.get("authorization", "")
    key = _bearer(authorization)
    if not key:
        return False
    known, client = cached_api_client(key)
    if not known:
        client = await sync_to_async(_client_looked_up, thread_sensitive=False)(authorization)
    return client is not None


def _session_user(session_key: str) -> bool:
    with _as_a_request():
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return SESSION_KEY in store


async def _signed_in(scope: Any) -> bool:
    session_key = parse_cookie(scope.headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    return bool(await sync_to_async(_session_user, thread_sensitive=False)(session_key))


def _address(client: str) -> str:
    host, _sep, _port = (client or "").rpartition(":")
    return host or client or ""


def _refuse(protocol: Any, status: int, code: str, detail: str) -> None:
    body = json.dumps({"error": code, "detail": detail}, ensure_ascii=False).encode()
    protocol.response_bytes(status, REFUSED, body)


class RequestGate:
    """Admits a request to be answered (the rating fast path and Django), or answers it itself."""

    def __init__(self) -> None:
        self.pending: dict[str, int] = {}  # requests with a body, without a key, per client address

    @contextlib.asynccontextmanager
    async def admit(self, scope: Any, protocol: Any, django: ASGIApp) -> AsyncIterator[bool]:
        """True: answer the request (its body may be read); False: it has been answered here."""
        if scope.proto != "http" or not _has_body(scope) or await _keyed(scope):
            yield True
            return
        if scope.path.startswith(API_PREFIX):
            await serve_asgi(django, scope, protocol, body=b"")
            yield False
            return
        address = _address(scope.client)
        cap = settings.HAOPING_MAX_PENDING_PER_CLIENT
        if cap and self.pending.get(address, 0) >= cap:
            _refuse(protocol, 429, "too_many_requests", _("too many requests from your address at once"))
            yield False
            return
        length = content_length(scope)
        if (length is None or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE) and not await _signed_in(scope):
            _refuse(protocol, 413, "too_large", _("the request body is too large"))
            yield False
            return
        self.pending[address] = self.pending.get(address, 0) + 1
        try:
            yield True
        finally:
            left = self.pending.pop(address) - 1
            if left:
                self.pending[address] = left
