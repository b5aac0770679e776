from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Path, Router, Schema, Status
from ninja.decorators import decorate_view
from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from haoping.apidocs import code_list, doc
from haoping.errors import DomainError, Invalid
from haoping.lib.numbers import whole_number
from haoping.records import services
from haoping.records.links import link_pair
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord
from haoping.records.selectors import record_links
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


def _party(data: PartyIn | None) -> services.PartyData | None:
    if data is None:
        return None
    return services.PartyData(kind=data.kind, name=data.name, phone=data.phone, id_number=data.id_number)


def record_row(payload: RecordIn) -> services.RecordRow:
    """The record a request (or a batch's row) sends, as the services take it."""
    return services.RecordRow(
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


@router.post(
    "",
    response={200: RecordCreatedOut, 201: RecordCreatedOut, **ERRORS},
    summary="Register a service record",
    description=doc(
        "Registers a service record (办件) with its applicant and, if any, agent and bundle. Personal data is "
        "stored encrypted. A record sent already completed gets its rating link at once; otherwise call "
        "`/complete` later. The same record sent again, identical, is answered with 200 and the same links; "
        "a different record under a number already registered is a 409."
    ),
)
def create_record(request: ApiRequest, payload: RecordIn) -> Status:
    result = services.record_register(client=request.auth, row=record_row(payload))
    return Status(*record_answer(result))


def record_answer(result: services.RecordResult) -> tuple[int, dict[str, object]]:
    """What `POST /records` answers for a registration (RecordCreatedOut): 201, or 200 for a replay."""
    return 200 if result.replayed else 201, {"record_no": result.record_no, "status": result.status, **result.links}


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
    return Status(200 if result.replayed else 201, _visit_body(result))


def _visit_body(result: services.VisitResult) -> dict[str, object]:
    slot = result.slot
    links = link_pair(slot.public_id) if slot else {"evaluation_url": None, "qr_url": None}
    return {"visit_id": result.visit.pk, "ratable": slot is not None, **links}


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
    return _completed(slot)


def _completed(slot: RatingSlot) -> dict[str, object]:
    assert slot.record is not None
    return {"record_no": slot.record.record_no, "status": ServiceRecord.Status.COMPLETED, **record_links(slot.record)}


# Batches: a business system catching up, or one that sends what it did every few seconds. Each row
# is checked on its own (a row that fails the schema is that row's 422, naming its field) and
# passes the same rules, through the same services, as the single request does.

# A full batch of records with their applicants is larger than any single request, for which the
# site-wide DATA_UPLOAD_MAX_MEMORY_SIZE is meant: a batch endpoint reads up to this much, and only
# for a valid key (haoping.gate lets no larger body in without one either).
MAX_BATCH_BYTES = 4 * 1024 * 1024


def batch_body(run: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(run)
    def read_then_run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        from haoping.api import ApiKeyAuth

        length = request.META.get("CONTENT_LENGTH") or ""
        if (
            settings.DATA_UPLOAD_MAX_MEMORY_SIZE < (whole_number(length) or 0) <= MAX_BATCH_BYTES
            and ApiKeyAuth()(request) is not None
        ):
            request._body = request.read(int(length))  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return read_then_run


BatchRows = Annotated[
    list[Any],
    Field(
        min_length=1,
        max_length=services.MAX_BATCH,
        description=doc("The rows, at most 1,000; each has the fields of the single request."),
    ),
]


class RecordBatchIn(StrictSchema):
    records: BatchRows


class VisitRowIn(VisitIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_no": "320102-2026-000123",
                    "window_code": "320102-HALL-05",
                    "staff_no": "S0517",
                    "at": "2026-05-06T10:05:00+08:00",
                }
            ]
        }
    )

    record_no: RecordNo


class VisitBatchIn(StrictSchema):
    visits: BatchRows


class CompleteRowIn(CompleteIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"record_no": "320102-2026-000123", "completed_at": "2026-05-08T16:20:00+08:00"}]
        }
    )

    record_no: RecordNo


class CompleteBatchIn(StrictSchema):
    completions: BatchRows


RowIndex = Annotated[int, Field(description=doc("The row's position in the request, from 0."))]
RowStatus = Annotated[
    int,
    Field(
        description=doc(
            "What became of the row, as the single request would answer it: 201 stored; 200 the same row sent "
            "before, answered as then; 409 a conflict with what is stored; 422 invalid, `error` names the field; "
            "404 (visits and completions) no such record for this key."
        ),
        json_schema_extra={"enum": [201, 200, 404, 409, 422]},
    ),
]
RowError = Annotated[
    ErrorOut | None, Field(description=doc("Why the row was refused, as the single request would say; null if stored."))
]
RowRecordNo = Annotated[str, Field(description=doc("The row's record number, as sent (empty if it had none)."))]


# What every batch answers for each row (a docstring would become the schema's English description).
class RowOut(Schema):
    index: RowIndex
    record_no: RowRecordNo
    status: RowStatus
    error: RowError = None


class RecordRowOut(RowOut):
    record_status: str | None = Field(
        None,
        description=code_list(doc("The record's status; null if the row was refused."), ServiceRecord.Status),
        json_schema_extra={"enum": [*ServiceRecord.Status.values, None]},
    )
    completion: Completion = None
    theme: Annotated[
        LinkOut | None, Field(description=doc("For a theme (一件事): the link to rate all its records at once (R6)."))
    ] = None


class RecordBatchOut(Schema):
    results: list[RecordRowOut] = Field(description=doc("One result per row, in the order of the rows."))


class VisitRowOut(RowOut):
    visit: VisitOut | None = Field(None, description=doc("The visit stored (or sent before); null if refused."))


class VisitBatchOut(Schema):
    results: list[VisitRowOut] = Field(description=doc("One result per row, in the order of the rows."))


# A completion's row answers as a record's: its status and rating links.
class CompleteRowOut(RecordRowOut):
    pass


class CompleteBatchOut(Schema):
    results: list[CompleteRowOut] = Field(description=doc("One result per row, in the order of the rows."))


def _rows(items: list[Any], schema: type[Schema], build: Callable[[Any], Any]) -> list[Any]:
    """Each item as its schema reads it and `build` turns it into a row, or the error naming its field."""
    from haoping.api import pydantic_message

    rows: list[Any] = []
    for item in items:
        try:
            rows.append(build(schema.model_validate(item)))
        except PydanticValidationError as exc:
            problems, first = [], None
            for err in exc.errors():
                field = ".".join(str(part) for part in err.get("loc", ())) or "body"
                first = first or field
                problems.append(f"{field}: {pydantic_message(dict(err))}")
            rows.append(Invalid("invalid", "；".join(problems), field=first))
    return rows


def _error(exc: DomainError) -> dict[str, object]:
    return {"error": exc.code, "detail": exc.detail, "field": exc.extra.get("field")}


def _row_out(
    outcome: services.RowOutcome, body: Callable[[Any], dict[str, object]], items: list[Any]
) -> dict[str, object]:
    record_no = outcome.record_no
    if not record_no and isinstance(items[outcome.index], dict):
        sent = items[outcome.index].get("record_no")
        record_no = sent if isinstance(sent, str) else ""
    out: dict[str, object] = {"index": outcome.index, "record_no": record_no, "status": outcome.status}
    if outcome.error is not None:
        out["error"] = _error(outcome.error)
    else:
        out.update(body(outcome.result))
    return out


@decorate_view(batch_body)
@router.post(
    "/batch",
    response={200: RecordBatchOut, **ERRORS},
    summary="Register service records in a batch",
    description=doc(
        "Registers up to 1,000 records at once, each as `POST /records` would, and answers one result per row "
        "in order. Valid rows are stored even when others are refused. A row identical to one registered "
        "before is answered 200 with the same links; a different row under a registered number is 409. "
        "A body that is not JSON or holds more than 1,000 rows is refused as a whole."
    ),
)
def create_records(request: ApiRequest, payload: RecordBatchIn) -> dict[str, object]:
    rows = _rows(payload.records, RecordIn, record_row)
    outcomes = services.records_register(client=request.auth, rows=rows)
    return {
        "results": [_row_out(o, lambda r: {"record_status": r.status, **r.links}, payload.records) for o in outcomes]
    }


@decorate_view(batch_body)
@router.post(
    "/visits/batch",
    response={200: VisitBatchOut, **ERRORS},
    summary="Register window visits in a batch",
    description=doc(
        "Registers up to 1,000 visits at once, each as `POST /records/{record_no}/visits` would, and answers "
        "one result per row in order. Valid rows are stored even when others are refused; the same visit sent "
        "again is answered 200."
    ),
)
def create_visits(request: ApiRequest, payload: VisitBatchIn) -> dict[str, object]:
    def build(row: VisitRowIn) -> services.VisitRow:
        return services.VisitRow(record_no=row.record_no, window_code=row.window_code, staff_no=row.staff_no, at=row.at)

    outcomes = services.visits_register(client=request.auth, rows=_rows(payload.visits, VisitRowIn, build))
    return {"results": [_row_out(o, lambda r: {"visit": _visit_body(r)}, payload.visits) for o in outcomes]}


@decorate_view(batch_body)
@router.post(
    "/complete/batch",
    response={200: CompleteBatchOut, **ERRORS},
    summary="Mark records completed in a batch",
    description=doc(
        "Marks up to 1,000 records completed at once, each as `POST /records/{record_no}/complete` would, and "
        "answers one result per row in order with the rating links. The same completion sent again (same "
        "time) is answered 200; another time for a completed record is 409."
    ),
)
def complete_records(request: ApiRequest, payload: CompleteBatchIn) -> dict[str, object]:
    def build(row: CompleteRowIn) -> services.CompletionRow:
        return services.CompletionRow(record_no=row.record_no, completed_at=row.completed_at)

    outcomes = services.completions_register(client=request.auth, rows=_rows(payload.completions, CompleteRowIn, build))
    return {"results": [_row_out(o, lambda r: _completion_row(r.slot), payload.completions) for o in outcomes]}


def _completion_row(slot: RatingSlot) -> dict[str, object]:
    body = _completed(slot)
    body["record_status"] = body.pop("status")
    return body
