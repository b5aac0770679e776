"""Error pages (400, 403, 404, 405, 413, 429, 500 and a refused CSRF check) for their audience.

Staff working in /console/ or /admin/ are told how to get back to their work; applicants on a rating
or revisit link are told what to do with the link they were given. Both in Chinese, phone-sized,
on the public page's layout. Paths under /api/ keep the API's JSON shape (haoping.middleware).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django_ratelimit import ALL
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

from haoping.middleware import API_PREFIX
from haoping.throttle import GROUP, public_rate

STAFF_PREFIXES = ("/console/", "/admin/")


def for_staff(request: HttpRequest) -> bool:
    return request.path.startswith(STAFF_PREFIXES)


def error_page(request: HttpRequest, status: int, **context: object) -> HttpResponse:
    """The page for `status`, rendered without the database (a 500 may come from it)."""
    staff = for_staff(request)
    admin = request.path.startswith("/admin/")
    context.update(
        status=status,
        staff=staff,
        home="/admin/" if admin else "/console/",
        home_label=_("Back to the administration") if admin else _("Back to the console"),
    )
    return HttpResponse(render_to_string(f"{status}.html", context), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Django reports a body over DATA_UPLOAD_MAX_MEMORY_SIZE as a bad request; a page says what it was.
    if isinstance(exception, RequestDataTooBig) and not request.path.startswith(API_PREFIX):
        return error_page(request, 413)
    return error_page(request, 400)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    usage = get_usage(request, group=GROUP, key="ip", rate=public_rate, method=ALL, increment=False)
    seconds = max(1, int(usage["time_left"])) if usage else 60
    response = error_page(request, 429, seconds=seconds)
    response["Retry-After"] = str(seconds)
    return response


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, Ratelimited):
        return too_many_requests(request)
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403, csrf=True)


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    response = error_page(request, 405)
    response["Allow"] = allowed
    return response
