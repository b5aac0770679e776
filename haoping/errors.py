"""One domain error type; the API maps it to `{"error": code, "detail": text}`."""

from __future__ import annotations

from collections.abc import Mapping


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


def error_labelled(error: DomainError, labels: Mapping[str, object]) -> DomainError:
    """The error as a page shows it: the field it names by the label the form gives it.

    A service names a field as the API knows it ("note: this field is required"), which is what an
    integrator needs; a person filling in a form knows the field only by its label (说明).
    """
    field = error.extra.get("field")
    if not isinstance(field, str) or field not in labels:
        return error
    for separator in (":", "："):
        if error.detail.startswith(field + separator):
            rest = error.detail[len(field) + 1 :].lstrip()
            return type(error)(error.code, f"{labels[field]}：{rest}", status=error.status, **error.extra)
    return error
