"""Every error under /api/ answers in the API's JSON shape, whoever produced it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from haoping.schemas import CONTROL_IN_TEXT

API_PREFIX = "/api/v1/"


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: ("bad_request", _("the request could not be read (too large or malformed)")),
        404: ("not_found", _("no such API path")),
        405: ("method_not_allowed", _("this method is not allowed on this path")),
        413: ("too_large", _("the request body is too large")),
    }


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, detail = _messages().get(response.status_code, ("error", _("the request failed")))
            shaped = JsonResponse({"error": code, "detail": detail}, status=response.status_code)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class HtmlErrorPageMiddleware:
    """A 405 from Django's method decorators comes with no body; pages get the branded Chinese one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not request.path.startswith(API_PREFIX) and not response.content:
            from haoping.error_pages import method_not_allowed

            return method_not_allowed(request, response.get("Allow", ""))
        return response


class HeadWithoutBodyMiddleware:
    """HEAD answers with GET's status and headers and no body, whatever server runs the app.

    Outermost, so that Content-Length (set by CommonMiddleware) still gives GET's length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "HEAD" and not response.streaming:
            if not response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
            length = response["Content-Length"]
            response.content = b""
            response["Content-Length"] = length
        return response


class ControlCharactersRefusedMiddleware:
    """A page's query (filters, searches) with control characters is a 400 naming the parameter.

    Text with a NUL cannot be compared in PostgreSQL; no field of a page holds one, so the whole
    request is refused before a view sees it. The API names such fields in its own 422s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            for name, values in request.GET.lists():
                if CONTROL_IN_TEXT.search(name) or any(CONTROL_IN_TEXT.search(v) for v in values):
                    from haoping.error_pages import error_page

                    shown = CONTROL_IN_TEXT.sub("", name)[:40]
                    return error_page(
                        request,
                        400,
                        detail=_("The parameter “%(name)s” holds control characters, which no field accepts.")
                        % {"name": shown},
                    )
        return self.get_response(request)
