"""The hotline's key press (R22): after a call, the hotline platform posts the keys pressed."""

from __future__ import annotations

from typing import Annotated

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from haoping.apidocs import doc
from haoping.channels.services import keypress_rate
from haoping.schemas import ApiRequest, Code, ErrorOut, ShortText, StrictSchema

router = Router(tags=["hotline"])


class KeypressIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"record_no": "12345-20261204-000317", "digits": "1", "call_ref": "c-88213"}]}
    )

    record_no: Annotated[Code, Field(description=doc("The record the hotline registered for the call."))]
    digits: Annotated[
        ShortText,
        Field(
            max_length=8,
            description=doc(
                "The keys pressed after the call, as the voice menu read them out; the region's key map "
                "turns the key into a level. Empty: no key was pressed, and nothing is recorded."
            ),
        ),
    ]
    call_ref: Annotated[
        ShortText,
        Field(max_length=64, description=doc("The hotline's id of the call; a retry with the same one counts once.")),
    ] = ""


class KeypressOut(Schema):
    record_no: str = Field(description=doc("The record rated."))
    level: int = Field(description=doc("The level the key stands for (R1)."))
    receipt: str = Field(description=doc("The receipt code (回执码) of the rating."))


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 410, 415, 422)}


@router.post(
    "/keypress", response={200: KeypressOut, 201: KeypressOut, **ERRORS}, summary="Rate a call by its key press"
)
def keypress(request: ApiRequest, payload: KeypressIn) -> Status:
    submission, level = keypress_rate(
        client=request.auth, record_no=payload.record_no, digits=payload.digits, call_ref=payload.call_ref
    )
    body = {"record_no": payload.record_no, "level": level, "receipt": submission.receipt}
    return Status(200 if submission.replayed else 201, body)
