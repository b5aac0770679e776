"""Large text and high contrast (适老化) for the pages applicants use: the rating page, its
receipt, the revisit page, the pad and the hall's page. A link on each page switches it on or off;
a cookie keeps the choice on that device (no JavaScript needed)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

COOKIE = "haoping_large"
COOKIE_AGE = 365 * 24 * 3600


def large_text(request: HttpRequest) -> dict[str, bool]:
    """Template context: whether this device asked for large text and high contrast."""
    return {"large_text": request.COOKIES.get(COOKIE) == "1"}


@require_http_methods(["GET", "HEAD"])
def text_size(request: HttpRequest) -> HttpResponse:
    """Switch large text on (?large=1) or off (?large=0), then back to the page (?next=, a path here)."""
    target = request.GET.get("next", "/")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.GET.get("large") == "1":
        response.set_cookie(
            COOKIE, "1", max_age=COOKIE_AGE, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
