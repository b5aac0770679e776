from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from pydantic import Field

from haoping.evaluations.services import evaluation_submit
from haoping.schemas import ApiRequest, Code, ErrorOut, Id, JsonObject, ShortText, StrictInt, StrictSchema, Text

router = Router(tags=["evaluations"])

Channel = Literal["pc", "mobile", "qrcode", "pad", "kiosk", "phone", "sms", "paper"]


class EvaluationIn(StrictSchema):
    token: Code | None = None
    record_no: Code | None = None
    visit_id: Id | None = None
    bundle_no: Code | None = None
    level: StrictInt
    channel: Channel
    rated_by: Literal["applicant", "agent"] = "applicant"
    answers: JsonObject = {}
    reasons: Annotated[list[Text], Field(max_length=20)] = []
    comment: Text = ""
    rated_at: dt.datetime | None = None
    # A client's own id for this submission; a retry with the same value is not counted twice.
    client_ref: Annotated[ShortText, Field(max_length=64)] = ""


class EvaluationOut(Schema):
    record_no: str
    visit_id: int | None
    level: int


class SubmissionOut(Schema):
    evaluations: list[EvaluationOut]
    receipt: str


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 410, 415, 422)}


@router.post("", response={200: SubmissionOut, 201: SubmissionOut, **ERRORS}, summary="Submit a rating")
def submit(request: ApiRequest, payload: EvaluationIn) -> Status:
    submission = evaluation_submit(client=request.auth, **payload.dict())
    body = {
        "receipt": submission.receipt,
        "evaluations": [
            {"record_no": ev.record.record_no, "visit_id": ev.visit_id, "level": ev.level}
            for ev in submission.evaluations
        ],
    }
    return Status(200 if submission.replayed else 201, body)
