from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Path, Router, Schema, Status
from pydantic import ConfigDict, Field

from haoping.apidocs import code_list, doc
from haoping.evaluations.models import LEVEL_LABELS, Evaluation
from haoping.records import services
from haoping.records.links import link_pair
from haoping.records.models import Applicant, Bundle, ServiceRecord
from haoping.records.selectors import record_for_client, record_links
from haoping.schemas import ApiRequest, Code, ErrorOut, ShortText, StrictBool, StrictSchema

router = Router(tags=["records"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut}


RecordNo = Annotated[Code, Field(description=doc("The record number (办件编号) in the business system, unique."))]
RecordNoPath = Annotated[
    Code, Path(description=doc("The record number (办件编号) given when the record was registered."))
]


class PartyIn(StrictSchema):
    kind: Annotated[
        Literal["person", "legal_person", "other"],
        Field(description=code_list(doc("The kind of party."), Applicant.Kind)),
    ]
    name: Annotated[ShortText, Field(description=doc("Name; stored encrypted, never shown to the rated staff."))] = ""
    phone: Annotated[
        ShortText,
        Field(
            description=doc(
                "Mobile number, for the rating invitation and the answer to a bad review; stored encrypted."
            )
        ),
    ] = ""
    id_number: Annotated[
        ShortText,
        Field(description=doc("ID or unified social credit code; stored encrypted, indexed by a keyed hash.")),
    ] = ""


class BundleIn(StrictSchema):
    kind: Annotated[
        Literal["batch", "theme"],
        Field(
            description=code_list(
                doc(
                    "The kind of bundle: one rating applies to every record of a batch (R5) or of a theme (一件事, R6)."
                ),
                Bundle.Kind,
            )
        ),
    ]
    bundle_no: Annotated[
        Code, Field(description=doc("The bundle number; records sent with the same number form one bundle."))
    ]


class RecordIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_no": "320102-2026-000123",
                    "item_code": "11320102MB0000000X3200000001",
                    "institution_code": "320102-HALL",
                    "window_code": "320102-HALL-05",
                    "staff_no": "S0517",
                    "mode": "onsite",
                    "on_the_spot": False,
                    "applicant": {"kind": "person", "name": "张三", "phone": "13800000000"},
                    "accepted_at": "2026-05-06T09:30:00+08:00",
                }
            ]
        }
    )

    record_no: RecordNo
    item_code: Annotated[Code, Field(description=doc("The service item's code (事项编码) in the directory."))]
    institution_code: Annotated[
        Code | None, Field(description=doc("The code of the hall or centre that served it; for on-site service."))
    ] = None
    platform_code: Annotated[
        Code | None,
        Field(description=doc("The code of the platform (web, app, kiosk…) that served it; for online service.")),
    ] = None
    window_code: Annotated[Code | None, Field(description=doc("The code of the window that accepted it."))] = None
    staff_no: Annotated[
        Code | None, Field(description=doc("The staff number of the person who served the applicant."))
    ] = None
    mode: Annotated[
        Literal["onsite", "online", "mixed"],
        Field(
            description=code_list(
                doc("How the service is delivered; decides what can be rated (R4)."), ServiceRecord.Mode
            )
        ),
    ]
    on_the_spot: Annotated[
        StrictBool, Field(description=doc("Completed on the spot (即办件): one rating after completion only (R4)."))
    ] = False
    applicant: Annotated[PartyIn, Field(description=doc("The applicant (服务对象)."))]
    agent: Annotated[
        PartyIn | None,
        Field(description=doc("The agent (帮办代办人), if any: either the agent or the applicant rates (R7).")),
    ] = None
    bundle: Annotated[BundleIn | None, Field(description=doc("The batch or theme the record belongs to, if any."))] = (
        None
    )
    accepted_at: Annotated[
        dt.datetime, Field(description=doc("When the application was accepted (ISO 8601, with time zone)."))
    ]
    completed_at: Annotated[
        dt.datetime | None,
        Field(description=doc("When it was completed, if it already is; starts the rating period (R2).")),
    ] = None


class LinkOut(Schema):
    evaluation_url: str = Field(description=doc("The rating page's link, signed; send it by SMS or show it on a pad."))
    qr_url: str = Field(description=doc("The link's QR code as an SVG image; add `.png` in place of `.svg` for PNG."))


Completion = Annotated[
    LinkOut | None,
    Field(description=doc("The link and QR code to rate the whole record once it is completed; null before.")),
]


class RecordCreatedOut(Schema):
    record_no: str = Field(description=doc("The record number."))
    status: str = Field(
        description=code_list(doc("The record's status."), ServiceRecord.Status),
        json_schema_extra={"enum": list(ServiceRecord.Status.values)},
    )
    completion: Completion = None
    theme: Annotated[
        LinkOut | None, Field(description=doc("For a theme (一件事): the link to rate all its records at once (R6)."))
    ] = None


class VisitIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"window_code": "320102-HALL-05", "staff_no": "S0517", "at": "2026-05-06T10:05:00+08:00"}]
        }
    )

    window_code: Annotated[Code, Field(description=doc("The code of the window visited."))]
    staff_no: Annotated[Code | None, Field(description=doc("The staff number of the person at the window."))] = None
    at: Annotated[dt.datetime, Field(description=doc("When the visit took place (ISO 8601, with time zone)."))]


class VisitOut(Schema):
    visit_id: int = Field(description=doc("The visit's id, to submit a rating of this visit."))
    evaluation_url: str | None = Field(
        description=doc("The link to rate this visit; null when the visit is not ratable.")
    )
    qr_url: str | None = Field(description=doc("The QR code of that link; null when the visit is not ratable."))
    ratable: bool = Field(
        description=doc(
            "Whether the visit can be rated: not for an online or on-the-spot record, "
            "which is rated once at completion (R4)."
        )
    )


class CompleteIn(StrictSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"completed_at": "2026-05-08T16:20:00+08:00"}]})

    completed_at: Annotated[
        dt.datetime,
        Field(description=doc("When the record was completed (ISO 8601, with time zone); starts the rating period.")),
    ]


class CompleteOut(Schema):
    record_no: str = Field(description=doc("The record number."))
    status: str = Field(
        description=code_list(doc("The record's status."), ServiceRecord.Status),
        json_schema_extra={"enum": list(ServiceRecord.Status.values)},
    )
    completion: LinkOut = Field(description=doc("The link and QR code to rate the completed record."))
    theme: Annotated[
        LinkOut | None, Field(description=doc("For a theme (一件事): the link to rate all its records at once (R6)."))
    ] = None


class EvaluationBrief(Schema):
    level: int = Field(
        description=code_list(doc("The level (R1)."), LEVEL_LABELS), json_schema_extra={"enum": [5, 4, 3, 2, 1]}
    )
    source: str = Field(
        description=code_list(doc("Where the rating came from."), Evaluation.Source),
        json_schema_extra={"enum": list(Evaluation.Source.values)},
    )
    channel: str | None = Field(
        description=code_list(doc("The channel it was given through; null for a default rating."), Evaluation.Channel),
        json_schema_extra={"enum": [*Evaluation.Channel.values, None]},
    )
    visit_id: int | None = Field(description=doc("The visit rated; null for a rating of the whole record."))
    rated_by: str | None = Field(
        description=code_list(doc("Who rated; null for a default rating."), Evaluation.RatedBy),
        json_schema_extra={"enum": [*Evaluation.RatedBy.values, None]},
    )
    rated_at: dt.datetime = Field(description=doc("When it was rated (or defaulted)."))


class RecordOut(Schema):
    record_no: str = Field(description=doc("The record number."))
    status: str = Field(
        description=code_list(doc("The record's status."), ServiceRecord.Status),
        json_schema_extra={"enum": list(ServiceRecord.Status.values)},
    )
    mode: str = Field(
        description=code_list(doc("How the service is delivered."), ServiceRecord.Mode),
        json_schema_extra={"enum": list(ServiceRecord.Mode.values)},
    )
    on_the_spot: bool = Field(description=doc("Completed on the spot (即办件)."))
    item_code: str = Field(description=doc("The service item's code (事项编码)."))
    accepted_at: dt.datetime = Field(description=doc("When the application was accepted."))
    completed_at: dt.datetime | None = Field(description=doc("When it was completed; null while in progress."))
    completion: Completion = None
    theme: Annotated[
        LinkOut | None, Field(description=doc("For a theme (一件事): the link to rate all its records at once (R6)."))
    ] = None
    evaluations: list[EvaluationBrief] = Field(description=doc("The record's ratings, oldest first."))


def _party(data: PartyIn | None) -> services.PartyData | None:
    if data is None:
        return None
    return services.PartyData(kind=data.kind, name=data.name, phone=data.phone, id_number=data.id_number)


@router.post(
    "",
    response={201: RecordCreatedOut, **ERRORS},
    summary="Register a service record",
    description=doc(
        "Registers a service record (办件) with its applicant and, if any, agent and bundle. Personal data is "
        "stored encrypted. A record sent already completed gets its rating link at once; otherwise call "
        "`/complete` later. A record number already registered is a 409."
    ),
)
def create_record(request: ApiRequest, payload: RecordIn) -> Status:
    record = services.record_create(
        client=request.auth,
        record_no=payload.record_no,
        item_code=payload.item_code,
        institution_code=payload.institution_code,
        platform_code=payload.platform_code,
        window_code=payload.window_code,
        staff_no=payload.staff_no,
        mode=payload.mode,
        on_the_spot=payload.on_the_spot,
        applicant=_party(payload.applicant),  # type: ignore[arg-type]
        agent=_party(payload.agent),
        bundle_kind=payload.bundle.kind if payload.bundle else None,
        bundle_no=payload.bundle.bundle_no if payload.bundle else None,
        accepted_at=payload.accepted_at,
        completed_at=payload.completed_at,
    )
    return Status(201, {"record_no": record.record_no, "status": record.status, **record_links(record)})


@router.post(
    "/{record_no}/visits",
    response={200: VisitOut, 201: VisitOut, **ERRORS},
    summary="Register a window visit",
    description=doc(
        "Registers one visit to a window for the record; each visit of an on-site or mixed record can be rated "
        "once (R4). The same visit sent again (same window and time) returns the first one with 200."
    ),
)
def create_visit(request: ApiRequest, record_no: RecordNoPath, payload: VisitIn) -> Status:
    result = services.visit_create(
        client=request.auth,
        record_no=record_no,
        window_code=payload.window_code,
        staff_no=payload.staff_no,
        at=payload.at,
    )
    slot = result.slot
    links = link_pair(slot.public_id) if slot else {"evaluation_url": None, "qr_url": None}
    body = {"visit_id": result.visit.pk, "ratable": slot is not None, **links}
    return Status(200 if result.replayed else 201, body)


@router.post(
    "/{record_no}/complete",
    response={200: CompleteOut, **ERRORS},
    summary="Mark a record completed",
    description=doc(
        "Marks the record completed (办结) and returns the link to rate it. The rating period runs from this "
        "moment; not rated within it, the record gets the default rating (R2)."
    ),
)
def complete_record(request: ApiRequest, record_no: RecordNoPath, payload: CompleteIn) -> dict[str, object]:
    slot = services.record_complete(client=request.auth, record_no=record_no, completed_at=payload.completed_at)
    assert slot.record is not None
    return {"record_no": record_no, "status": ServiceRecord.Status.COMPLETED, **record_links(slot.record)}


@router.get(
    "/{record_no}",
    response={200: RecordOut, **ERRORS},
    summary="A record with its evaluations",
    description=doc("The record, its rating links and its ratings; never who rated (R10)."),
)
def get_record(request: ApiRequest, record_no: RecordNoPath) -> dict[str, object]:
    record = record_for_client(client=request.auth, record_no=record_no)
    return {
        "record_no": record.record_no,
        "status": record.status,
        "mode": record.mode,
        "on_the_spot": record.on_the_spot,
        "item_code": record.item.code,
        "accepted_at": record.accepted_at,
        "completed_at": record.completed_at,
        **record_links(record),
        "evaluations": [
            {
                "level": ev.level,
                "source": ev.source,
                "channel": ev.channel or None,
                "visit_id": ev.visit_id,
                "rated_by": ev.rated_by or None,
                "rated_at": ev.rated_at,
            }
            for ev in record.evaluations.order_by("rated_at", "id")
        ],
    }
