"""Sessions that end after a spell without use (等保 2.0: idle timeout on the console and admin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

REFRESHED = "_haoping_refreshed"


def _now() -> int:
    return int(timezone.now().timestamp())


def session_started(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """Signing in saves the session with a fresh expiry: count that as its first refresh, so the
    first page after it writes nothing."""
    request.session[REFRESHED] = _now()


class SessionIdleMiddleware:
    """A used session expires SESSION_COOKIE_AGE after its last request, give or take
    HAOPING_SESSION_REFRESH_SECONDS: saving on every request (SESSION_SAVE_EVERY_REQUEST) would be a
    database write per console page, which the SQLite demo cannot spare."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        # Only sessions this request used and that hold something (a signed-in user): the public
        # rating pages never get a session row from here.
        if session.accessed and not session.is_empty() and response.status_code < 500:
            now = _now()
            if now - int(session.get(REFRESHED, 0)) >= settings.HAOPING_SESSION_REFRESH_SECONDS:
                session[REFRESHED] = now  # marks it modified: SessionMiddleware saves it with a new expiry
        return response
