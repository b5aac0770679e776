from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Router, Schema, Status

from haoping.records import services
from haoping.records.links import link_pair
from haoping.records.models import ServiceRecord
from haoping.records.selectors import record_for_client, record_links
from haoping.schemas import ApiRequest, Code, ErrorOut, ShortText, StrictBool, StrictSchema

router = Router(tags=["records"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut}


class PartyIn(StrictSchema):
    kind: Literal["person", "legal_person", "other"]
    name: ShortText = ""
    phone: ShortText = ""
    id_number: ShortText = ""


class BundleIn(StrictSchema):
    kind: Literal["batch", "theme"]
    bundle_no: Code


class RecordIn(StrictSchema):
    record_no: Code
    item_code: Code
    institution_code: Code | None = None
    platform_code: Code | None = None
    window_code: Code | None = None
    staff_no: Code | None = None
    mode: Literal["onsite", "online", "mixed"]
    on_the_spot: StrictBool = False
    applicant: PartyIn
    agent: PartyIn | None = None
    bundle: BundleIn | None = None
    accepted_at: dt.datetime
    completed_at: dt.datetime | None = None


class LinkOut(Schema):
    evaluation_url: str
    qr_url: str


class RecordCreatedOut(Schema):
    record_no: str
    status: str
    completion: LinkOut | None = None
    theme: LinkOut | None = None


class VisitIn(StrictSchema):
    window_code: Code
    staff_no: Code | None = None
    at: dt.datetime


class VisitOut(Schema):
    visit_id: int
    evaluation_url: str | None
    qr_url: str | None
    ratable: bool


class CompleteIn(StrictSchema):
    completed_at: dt.datetime


class CompleteOut(Schema):
    record_no: str
    status: str
    completion: LinkOut
    theme: LinkOut | None = None


class EvaluationBrief(Schema):
    level: int
    source: str
    channel: str | None
    visit_id: int | None
    rated_by: str | None
    rated_at: dt.datetime


class RecordOut(Schema):
    record_no: str
    status: str
    mode: str
    on_the_spot: bool
    item_code: str
    accepted_at: dt.datetime
    completed_at: dt.datetime | None
    completion: LinkOut | None = None
    theme: LinkOut | None = None
    evaluations: list[EvaluationBrief]


def _party(data: PartyIn | None) -> services.PartyData | None:
    if data is None:
        return None
    return services.PartyData(kind=data.kind, name=data.name, phone=data.phone, id_number=data.id_number)


@router.post("", response={201: RecordCreatedOut, **ERRORS}, summary="Register a service record")
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
    "/{record_no}/visits", response={200: VisitOut, 201: VisitOut, **ERRORS}, summary="Register a window visit"
)
def create_visit(request: ApiRequest, record_no: Code, payload: VisitIn) -> Status:
    """A repeated visit (same window and time) returns the first one with 200."""
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


@router.post("/{record_no}/complete", response={200: CompleteOut, **ERRORS}, summary="Mark a record completed")
def complete_record(request: ApiRequest, record_no: Code, payload: CompleteIn) -> dict[str, object]:
    slot = services.record_complete(client=request.auth, record_no=record_no, completed_at=payload.completed_at)
    assert slot.record is not None
    return {"record_no": record_no, "status": ServiceRecord.Status.COMPLETED, **record_links(slot.record)}


@router.get("/{record_no}", response={200: RecordOut, **ERRORS}, summary="A record with its evaluations")
def get_record(request: ApiRequest, record_no: Code) -> dict[str, object]:
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
