"""The JSON API root: bearer-key auth and one error shape, `{"error": code, "detail": text}`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from haoping.accounts.models import ApiClient
from haoping.accounts.selectors import api_client_for_key
from haoping.errors import DomainError


class ApiKeyAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> ApiClient | None:
        # The base class logs a bad header in full; keys never reach a log here.
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiClient | None:
        return api_client_for_key(token)


api = NinjaAPI(
    title="好差评 API",
    version="1",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    docs_url="/docs",
)


def error_response(request: HttpRequest, status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"error": code, "detail": detail, **extra}, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra = {k: v for k, v in exc.extra.items() if k != "field"}
    if "field" in exc.extra:
        extra["field"] = exc.extra["field"]
    return error_response(request, exc.status, exc.code, exc.detail, **extra)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    first_field = None
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        field = ".".join(loc) or "body"
        first_field = first_field or field
        problems.append(f"{field}: {err.get('msg', 'invalid')}")
    return error_response(request, 422, "invalid", "; ".join(problems) or "invalid request", field=first_field)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "error", str(exc))


api.add_router("/records", "haoping.records.api.router")
api.add_router("/evaluations", "haoping.evaluations.api.router")
