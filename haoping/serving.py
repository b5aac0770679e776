"""What the served entry points that answer before Django (the request gate, the rating fast path)
share: the headers of a JSON answer, the API key of a request, and database work off the request
cycle bracketed as Django brackets a request."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from csp.utils import build_policy
from django.conf import settings
from django.db import close_old_connections
from django_permissions_policy import PermissionsPolicyMiddleware

from haoping.accounts.selectors import api_client_for_key

# The headers the middleware stack puts on a JSON answer (checked against it by the tests).
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("X-Frame-Options", "DENY"),
    ("Vary", "Accept-Language"),
    ("Content-Language", "zh-hans"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    # As django-csp and django-permissions-policy build them from the settings for Django's answers.
    ("Content-Security-Policy", build_policy()),
    (
        "Permissions-Policy",
        PermissionsPolicyMiddleware.compute_header_value(getattr(settings, "PERMISSIONS_POLICY", {}), name=""),
    ),
]


def bearer_key(authorization: str) -> str:
    """The key of an `Authorization: Bearer <key>` header; empty for anything else."""
    scheme, _sep, key = authorization.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def api_client_of(authorization: str) -> Any:
    """The API client whose key an `Authorization` header carries, else None."""
    key = bearer_key(authorization)
    return api_client_for_key(key) if key else None


@contextlib.contextmanager
def as_a_request() -> Iterator[None]:
    """Database work on a worker thread, bracketed as Django brackets a request: a broken or old
    connection is dropped first, and the connection goes back to the pool after."""
    close_old_connections()
    try:
        yield
    finally:
        close_old_connections()


def api_client_looked_up(authorization: str) -> Any:
    """`api_client_of` on a worker thread: the event loop never waits for the database."""
    with as_a_request():
        return api_client_of(authorization)
