"""Shared schema pieces: strict types so that a wrong type is a 422, not a silent coercion."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr

Code = Annotated[StrictStr, Field(min_length=1, max_length=64)]
ShortText = Annotated[StrictStr, Field(max_length=100)]


class StrictSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    error: str
    detail: str
    field: str | None = None


__all__ = ["Code", "ErrorOut", "ShortText", "StrictBool", "StrictInt", "StrictSchema", "StrictStr"]
