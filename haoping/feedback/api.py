"""综合点评 from the 12345 hotline (R18): the hotline system posts each comment it takes."""

from __future__ import annotations

from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from haoping.apidocs import code_list, doc
from haoping.errors import Forbidden
from haoping.feedback.models import SocialComment
from haoping.feedback.services import comment_receive
from haoping.schemas import ApiRequest, Code, ErrorOut, ShortText, StrictSchema, Text

router = Router(tags=["hotline"])

TargetCode = Literal["region", "institution", "department", "platform", "item"]
KindCode = Literal["comment", "suggestion", "complaint"]


class CommentIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_no": "12345-20261204-00871",
                    "kind": "suggestion",
                    "target": "institution",
                    "code": "H-XW",
                    "text": "建议大厅周末延长开放时间",
                    "contact": "",
                }
            ]
        }
    )

    ticket_no: Annotated[
        Code, Field(description=doc("The hotline's ticket number; a retry with the same one is stored once."))
    ]
    kind: Annotated[KindCode, Field(description=code_list(doc("What the caller said."), SocialComment.Kind))]
    target: Annotated[TargetCode, Field(description=code_list(doc("What the comment is about."), SocialComment.Target))]
    code: Annotated[
        ShortText,
        Field(
            max_length=64, description=doc("The code of the hall, department, platform or item; empty for the region.")
        ),
    ] = ""
    text: Annotated[
        Text, Field(min_length=1, max_length=2000, description=doc("What the caller said, as the operator wrote it."))
    ]
    contact: Annotated[
        ShortText,
        Field(
            max_length=100, description=doc("A phone number or e-mail address for the answer, if the caller left one.")
        ),
    ] = ""


class CommentOut(Schema):
    id: int = Field(description=doc("The comment's number in the inbox."))
    state: Literal["received", "accepted", "answered", "closed"] = Field(
        description=code_list(doc("The comment's state."), SocialComment.State)
    )
    unit: str = Field(description=doc("The department it was routed to; empty when the region's managers answer it."))
    answer_due: str = Field(description=doc("When it must be answered (ISO 8601)."))


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 415, 422)}


@router.post(
    "",
    response={200: CommentOut, 201: CommentOut, **ERRORS},
    summary="Pass on a social comment",
    description=doc(
        "A comment, suggestion or complaint the hotline took (R18), routed to the unit responsible; "
        "a ticket number sent again is answered with the comment already stored (200)."
    ),
)
def comment_create(request: ApiRequest, payload: CommentIn) -> Status:
    client = request.auth
    if client.role not in ("hotline", "manager"):
        raise Forbidden("forbidden", _("only the 12345 hotline's key may pass on comments"))
    comment, created = comment_receive(
        within=client.region,
        channel=SocialComment.Channel.HOTLINE,
        kind=payload.kind,
        target=payload.target,
        code=payload.code,
        text=payload.text,
        contact=payload.contact,
        source_ref=payload.ticket_no,
        entered_by_label=client.name,
    )
    body = {
        "id": comment.pk,
        "state": comment.state,
        "unit": comment.unit.name if comment.unit else "",
        "answer_due": comment.answer_due.isoformat(),
    }
    return Status(201 if created else 200, body)
