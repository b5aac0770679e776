"""Shared schema pieces: strict types so that a wrong type is a 422, not a silent coercion."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from haoping.accounts.models import ApiClient
from haoping.apidocs import doc

# Every character below 0x20 and DEL..0x9F: never part of a code, a number or a name.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Free text keeps its line breaks and tabs.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Integers the database can hold (bigint); larger ones are refused here, not by PostgreSQL.
MAX_BIGINT = 2**63 - 1
# The earliest and latest dates a period may name: nothing was rated before 2000, and a period
# ending more than a year ahead is a typing mistake (and overflows date arithmetic near 9999).
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_AHEAD = dt.timedelta(days=366)


def storable(value: str) -> str:
    """Refuse text no database or cipher can hold: NUL and lone surrogates (a JSON "\\ud800")."""
    if "\x00" in value:
        raise ValueError(gettext("must not contain the NUL character"))
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError(gettext("must be valid Unicode text (a lone surrogate is not)")) from None
    return value


def _plain_text(value: str) -> str:
    storable(value)
    if CONTROL_IN_TEXT.search(value):
        raise ValueError(gettext("must not contain control characters"))
    return value


def _no_control(value: str) -> str:
    storable(value)
    if CONTROL.search(value):
        raise ValueError(gettext("must not contain control characters"))
    return value


def _storable_values(value: dict[str, Any]) -> dict[str, Any]:
    """Every string key and value of a JSON object, however nested, is storable text."""
    for key, item in value.items():
        storable(key)
        if isinstance(item, str):
            _plain_text(item)
        elif isinstance(item, dict):
            _storable_values(item)
        elif isinstance(item, list):
            _storable_values({str(i): v for i, v in enumerate(item)})
    return value


def _in_period_bounds(value: dt.date) -> dt.date:
    if value < EARLIEST_DATE:
        raise ValueError(gettext("must not be before %(date)s") % {"date": EARLIEST_DATE.isoformat()})
    latest = timezone.localdate() + LATEST_AHEAD
    if value > latest:
        raise ValueError(gettext("must not be after %(date)s") % {"date": latest.isoformat()})
    return value


Text = Annotated[StrictStr, AfterValidator(_plain_text)]
Code = Annotated[StrictStr, AfterValidator(_no_control), Field(min_length=1, max_length=64)]
ShortText = Annotated[StrictStr, AfterValidator(_no_control), Field(max_length=100)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable_values)]
# A database id: a whole number from 1, within bigint.
Id = Annotated[StrictInt, Field(ge=1, le=MAX_BIGINT)]
PeriodDate = Annotated[dt.date, AfterValidator(_in_period_bounds)]


class ApiRequest(HttpRequest):
    """A request that passed the API key check; `auth` is the calling client."""

    auth: ApiClient


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    error: str = Field(description=doc("A stable error code for programs, e.g. `invalid`, `not_found`, `conflict`."))
    detail: str = Field(description=doc("The explanation for people, naming the field and the problem."))
    field: str | None = Field(None, description=doc("The field at fault, when there is one (e.g. `applicant.phone`)."))


__all__ = [
    "CONTROL",
    "CONTROL_IN_TEXT",
    "ApiRequest",
    "Code",
    "ErrorOut",
    "Id",
    "JsonObject",
    "MAX_BIGINT",
    "PeriodDate",
    "ShortText",
    "StrictBool",
    "StrictInt",
    "StrictSchema",
    "StrictStr",
    "Text",
]
