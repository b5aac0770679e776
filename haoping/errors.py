"""One domain error type; the API maps it to `{"error": code, "detail": text}`."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, detail: str, *, status: int | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class Invalid(DomainError):
    status = 422


class Busy(DomainError):
    """The database stayed busy past every retry; nothing was stored, and the same request may be
    sent again (the API answers 503)."""

    status = 503
