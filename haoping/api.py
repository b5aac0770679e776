"""The JSON API root: bearer-key auth and one error shape, `{"error": code, "detail": text}`."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_replace
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from haoping.accounts.models import ApiClient
from haoping.accounts.selectors import api_client_for_key
from haoping.apidocs import openapi_translated
from haoping.errors import DomainError


class ApiKeyAuth(HttpBearer):
    openapi_description = gettext_noop(
        "The API key issued to your system by the administrator, as `Authorization: Bearer <key>`. "
        "A key belongs to one region and sees only that region and the regions below it."
    )

    def __call__(self, request: HttpRequest) -> ApiClient | None:
        # The base class logs a bad header in full; keys never reach a log here.
        scheme, _sep, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        return api_client_for_key(token)


JSON = "application/json"


class NotJson(Exception):
    """A request body sent as something other than JSON."""


class JsonOnlyParser(Parser):
    """Bodies are JSON and say so: a form or plain text is refused (415), not guessed at."""

    def parse_body(self, request: HttpRequest) -> Any:
        if request.content_type != JSON:
            raise NotJson(request.content_type)
        return super().parse_body(request)


# The operations whose modules carry no description of their own.
OPERATION_DOCS = {
    "haoping_channels_api_keypress": gettext_noop(
        "After a call, the key the caller pressed rates the call's record on channel `phone`, through the "
        "region's key map. No key pressed is no rating (never a default good one); a call unknown or rated "
        "already is answered 404 or 409. Send the same `call_ref` again after a timeout: the first rating is "
        "answered with 200, not counted twice."
    ),
    "haoping_evaluations_api_submit": gettext_noop(
        "A rating taken outside the rating page: by a window pad, the hotline, an SMS reply or a paper form. "
        "Name what was served with exactly one of `token` (from the rating link), `record_no`, `visit_id` or "
        "`bundle_no`. A bad rating (level 1 or 2) needs at least one reason or a comment and opens a case. "
        "Send the same `client_ref` again after a timeout: the first submission is answered with 200, "
        "not counted twice."
    ),
}


class DocumentedApi(NinjaAPI):
    """The API whose OpenAPI document is in the active language (haoping.apidocs)."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return openapi_translated(schema, OPERATION_DOCS)


api = DocumentedApi(
    title="好差评 API",
    description=gettext_noop(
        "The JSON API of the 好差评 system for business systems, the 12345 hotline and the platform above.\n\n"
        "- Authentication: `Authorization: Bearer <API key>`; a key sees only its own region and those below.\n"
        "- Bodies are JSON (`Content-Type: application/json`); times are ISO 8601 with a time zone, "
        "e.g. `2026-05-06T09:30:00+08:00`.\n"
        '- Every error has the same shape: `{"error": code, "detail": explanation, "field": field}`.\n'
        "- Code lists (channels, levels, reasons, states, actions, categories) are listed with their meanings "
        "in each field's description."
    ),
    version="1",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    # Swagger UI from django-ninja's own static files (ninja is an installed app), nothing fetched
    # from elsewhere: no validator badge (it would call validator.swagger.io).
    docs=Swagger(settings={"validatorUrl": None}),
    # The page needs no inline style either: the policy's 'unsafe-inline' for styles is dropped here.
    docs_decorator=csp_replace({"style-src": ["'self'"]}),
    parser=JsonOnlyParser(),
)


def error_response(request: HttpRequest, status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"error": code, "detail": detail, **extra}, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = {k: v for k, v in exc.extra.items() if k != "field"}
    if "field" in exc.extra:
        extra["field"] = exc.extra["field"]
    return error_response(request, exc.status, exc.code, exc.detail, **extra)


def _expected(ctx: dict[str, Any]) -> str:
    """Pydantic's "'a', 'b' or 'c'" as a Chinese enumeration: 'a'、'b'、'c'."""
    expected = str(ctx.get("expected", ""))
    head, sep, last = expected.rpartition(" or ")
    items = [*head.split(", "), last] if sep else [expected]
    return "、".join(item for item in items if item)


def _int_ctx(ctx: dict[str, Any], key: str) -> int | None:
    value = ctx.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pydantic_message(err: dict[str, Any]) -> str:
    """One pydantic error as a translated sentence (without the field prefix).

    Unknown error types keep pydantic's own (English) message.
    """
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])  # our own validators raise translated messages
    if kind == "missing":
        return _("this field is required")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("must be a whole number")
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return _("must be a number")
    if kind in ("string_type", "string_unicode"):
        return _("must be a string")
    if kind in ("bool_type", "bool_parsing"):
        return _("must be true or false")
    if kind in ("literal_error", "enum") and ctx.get("expected"):
        return _("must be one of: %(expected)s") % {"expected": _expected(ctx)}
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid"):
        return _("must be a date and time in ISO 8601 format, e.g. 2024-05-01T09:30:00+08:00")
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return _("must be a date in ISO 8601 format, e.g. 2024-05-01")
    if kind == "timezone_aware":
        return _("give a time zone (e.g. +08:00)")
    if kind == "extra_forbidden":
        return _("unknown field; it is not allowed here")
    if kind == "string_too_long" and _int_ctx(ctx, "max_length") is not None:
        return _("at most %(max)d characters") % {"max": ctx["max_length"]}
    if kind == "string_too_short" and _int_ctx(ctx, "min_length") is not None:
        if ctx["min_length"] == 1:
            return _("must not be empty")
        return _("at least %(min)d characters") % {"min": ctx["min_length"]}
    if kind == "string_pattern_mismatch":
        return _("has an invalid format")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("must be a list")
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return _("must be an object")
    if kind == "too_long" and _int_ctx(ctx, "max_length") is not None:
        return _("at most %(max)d items") % {"max": ctx["max_length"]}
    if kind == "too_short" and _int_ctx(ctx, "min_length") is not None:
        return _("at least %(min)d items") % {"min": ctx["min_length"]}
    if kind in ("json_invalid", "json_type"):
        return _("not valid JSON")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), None)
        if limit is not None:
            templates = {
                "greater_than_equal": _("must be at least %(limit)s"),
                "greater_than": _("must be greater than %(limit)s"),
                "less_than_equal": _("must be at most %(limit)s"),
                "less_than": _("must be less than %(limit)s"),
            }
            return templates[kind] % {"limit": limit}
    if kind in ("none_required",):
        return _("must be empty (null)")
    return str(err.get("msg") or _("invalid"))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    first_field = None
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        field = ".".join(loc) or "body"
        first_field = first_field or field
        problems.append(f"{field}: {pydantic_message(err)}")
    return error_response(request, 422, "invalid", "；".join(problems) or _("invalid request"), field=first_field)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthorized", _("a valid API key is required (Authorization: Bearer <key>)"))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, NotJson):  # ninja wraps every parser error in a 400
        detail = _("the request body must be JSON, sent with Content-Type: %(type)s") % {"type": JSON}
        return error_response(request, 415, "unsupported_media_type", detail, field="Content-Type")
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        message = _("the request body cannot be parsed; send valid JSON")
    elif message.startswith("CSRF check Failed"):
        message = _("the CSRF check failed")
    return error_response(request, exc.status_code, "error", message)


api.add_router("/records", "haoping.records.api.router")
api.add_router("/records", "haoping.evaluations.api.records_router")
api.add_router("/evaluations", "haoping.evaluations.api.router")
api.add_router("/cases", "haoping.rectification.api.router")
api.add_router("/appeals", "haoping.rectification.api.appeals_router")
api.add_router("/indicators", "haoping.indicators.api.router")
api.add_router("/exchange", "haoping.exchange.api.router")
api.add_router("/ivr", "haoping.channels.api.router")
api.add_router("/comments", "haoping.feedback.api.router")
