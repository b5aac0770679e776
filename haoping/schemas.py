"""Shared schema pieces: strict types so that a wrong type is a 422, not a silent coercion."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

from haoping.accounts.models import ApiClient

Code = Annotated[StrictStr, Field(min_length=1, max_length=64)]
ShortText = Annotated[StrictStr, Field(max_length=100)]


class ApiRequest(HttpRequest):
    """A request that passed the API key check; `auth` is the calling client."""

    auth: ApiClient


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    error: str
    detail: str
    field: str | None = None


__all__ = ["ApiRequest", "Code", "ErrorOut", "ShortText", "StrictBool", "StrictInt", "StrictSchema", "StrictStr"]
