"""Shared schema pieces: strict types so that a wrong type is a 422, not a silent coercion."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from haoping.accounts.models import ApiClient


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    if "\x00" in value:
        raise ValueError(gettext("must not contain the NUL character"))
    return value


Text = Annotated[StrictStr, AfterValidator(_no_nul)]
Code = Annotated[Text, Field(min_length=1, max_length=64)]
ShortText = Annotated[Text, Field(max_length=100)]


class ApiRequest(HttpRequest):
    """A request that passed the API key check; `auth` is the calling client."""

    auth: ApiClient


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    error: str
    detail: str
    field: str | None = None


__all__ = [
    "ApiRequest",
    "Code",
    "ErrorOut",
    "ShortText",
    "StrictBool",
    "StrictInt",
    "StrictSchema",
    "StrictStr",
    "Text",
]
