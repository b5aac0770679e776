"""The sign-in lockout page (django-axes calls `locked_out` instead of the login view)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """Too many failed attempts for this user name or from this address: say so, in Chinese, and
    for how long, with 429 (AXES_HTTP_RESPONSE_CODE)."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "login_url": settings.LOGIN_URL},
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),  # set by axes.conf
    )
