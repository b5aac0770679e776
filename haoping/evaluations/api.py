from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from haoping.apidocs import code_list, doc
from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.errors import NotFound
from haoping.evaluations.models import LEVEL_LABELS, Evaluation
from haoping.evaluations.questionnaire_defaults import default_labels
from haoping.evaluations.rules import QUESTION, QUESTIONNAIRE_KINDS, REASON, Option
from haoping.evaluations.selectors import questionnaire_for, rated_kinds
from haoping.evaluations.services import PLACE_VALUES, evaluation_submit, rated_place
from haoping.records.api import ERRORS as RECORD_ERRORS
from haoping.records.api import Completion, LinkOut, RecordNoPath
from haoping.records.models import ServiceRecord
from haoping.records.selectors import record_for_client, record_links
from haoping.schemas import (
    MAX_BIGINT,
    ApiRequest,
    Code,
    ErrorOut,
    Id,
    JsonObject,
    ShortText,
    StrictInt,
    StrictSchema,
    Text,
)

router = Router(tags=["evaluations"])

Channel = Literal["pc", "mobile", "qrcode", "pad", "kiosk", "phone", "sms", "paper"]


class EvaluationIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_no": "320102-2026-000123",
                    "level": 2,
                    "channel": "pad",
                    "reasons": ["efficiency"],
                    "comment": "排队等了一个多小时",
                    "rated_at": "2026-05-06T10:40:00+08:00",
                    "client_ref": "pad-0517-20260506-0042",
                }
            ]
        }
    )

    token: Annotated[
        Code | None,
        Field(description=doc("The token of a rating link (the last part of its path), to rate what it names.")),
    ] = None
    record_no: Annotated[Code | None, Field(description=doc("The record number, to rate a completed record."))] = None
    visit_id: Annotated[Id | None, Field(description=doc("The id of a window visit, to rate that visit."))] = None
    bundle_no: Annotated[
        Code | None, Field(description=doc("The bundle number, to rate a batch or theme at once."))
    ] = None
    level: Annotated[
        StrictInt,
        Field(description=code_list(doc("The level (R1)."), LEVEL_LABELS), json_schema_extra={"enum": [5, 4, 3, 2, 1]}),
    ]
    channel: Annotated[
        Channel, Field(description=code_list(doc("The channel the rating was given through."), Evaluation.Channel))
    ]
    rated_by: Annotated[
        Literal["applicant", "agent"],
        Field(
            description=code_list(doc("Who rated; with an agent, only one of the two may (R7)."), Evaluation.RatedBy)
        ),
    ] = "applicant"
    answers: Annotated[
        JsonObject,
        Field(
            description=code_list(
                doc(
                    "The questionnaire (R8, R9): each question's key with an answer from 1 to 5, and "
                    "`suggestion` as text. The questions depend on the region and on what is rated "
                    "(unit, platform, staff member, on-site service); the default ones are listed."
                ),
                default_labels(QUESTION),
            )
        ),
    ] = {}
    reasons: Annotated[
        list[Text],
        Field(
            max_length=20,
            description=code_list(
                doc(
                    "Reason tags of a bad rating (R8, R9); a bad rating needs a reason or a comment. The tags "
                    "offered depend on the region and on what is rated; the default ones are listed, and a tag "
                    "not offered for the service is refused (422) naming it."
                ),
                default_labels(REASON),
            ),
        ),
    ] = []
    comment: Annotated[
        Text, Field(description=doc("The evaluator's own words; phone and ID numbers in it are masked where shown."))
    ] = ""
    rated_at: Annotated[
        dt.datetime | None,
        Field(
            description=doc(
                "Paper forms only: the date and time on the form. A form filled in while the service "
                "could be rated may be entered until the region's grace period after that ended, and "
                "then replaces the default rating (once; never a rating the applicant gave)."
            )
        ),
    ] = None
    # A client's own id for this submission; a retry with the same value is not counted twice.
    client_ref: Annotated[
        ShortText,
        Field(
            max_length=64,
            description=doc("Your own id of this submission; a retry with the same value is not counted twice."),
        ),
    ] = ""


class EvaluationOut(Schema):
    record_no: str = Field(description=doc("The record rated."))
    visit_id: int | None = Field(description=doc("The visit rated; null for a rating of the whole record."))
    level: int = Field(
        description=code_list(doc("The level (R1)."), LEVEL_LABELS), json_schema_extra={"enum": [5, 4, 3, 2, 1]}
    )


class SubmissionOut(Schema):
    evaluations: list[EvaluationOut] = Field(
        description=doc("One rating per record the submission applies to (several for a batch or theme).")
    )
    receipt: str = Field(description=doc("The receipt code (回执码) to give the evaluator."))


ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 410, 415, 422)}


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


@router.post("", response={200: SubmissionOut, 201: SubmissionOut, **ERRORS}, summary="Submit a rating")
def submit(request: ApiRequest, payload: EvaluationIn) -> Status:
    submission = evaluation_submit(client=request.auth, **payload.dict())
    first = submission.evaluations[0]
    replaced = first.supersedes
    if replaced is not None and not submission.replayed:
        # As the console's paper forms: each replacement of a default rating leaves an audit row.
        facts = {"date": timezone.localdate(first.rated_at).isoformat(), "id": replaced.pk, "level": replaced.level}
        audit_record(
            actor=_("API client %(name)s") % {"name": request.auth.name},
            action=AuditEntry.Action.REPLACE_DEFAULT,
            target=_("record %(no)s") % {"no": first.record.record_no},
            reason=_("paper form dated %(date)s replaced default rating #%(id)d (level %(level)d)") % facts,
        )
    body = {
        "receipt": submission.receipt,
        "evaluations": [
            {"record_no": ev.record.record_no, "visit_id": ev.visit_id, "level": ev.level}
            for ev in submission.evaluations
        ],
    }
    return Status(200 if submission.replayed else 201, body)


# A record as its business system reads it back, with its ratings: records registers it, this app
# holds its ratings. Mounted at /records after records' own router, whose batch endpoints (`/batch`)
# this path would otherwise take for a record number.
records_router = Router(tags=["records"])


@records_router.get(
    "/{record_no}",
    response={200: RecordOut, **RECORD_ERRORS},
    summary="A record with its evaluations",
    operation_id="haoping_records_api_get_record",  # as when records served it: clients keep their names
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


class OptionOut(Schema):
    key: str = Field(description=doc("The option's key, as a rating sends it (in `answers` or `reasons`)."))
    label: str = Field(description=doc("The option's label in Chinese, as the rating pages show it."))
    kind: str = Field(
        description=doc("The set it comes from: what is rated (R9)."),
        json_schema_extra={"enum": list(QUESTIONNAIRE_KINDS)},
    )
    eval_detail_code: str = Field(
        description=doc("Its evalDetail code in the national content catalogue; empty when none is set.")
    )
    catalogue_version: str = Field(description=doc("The catalogue version of that code; empty without a code."))


class QuestionnaireOut(Schema):
    kinds: list[str] = Field(
        description=doc("What the service rates, in order: the sets whose options apply (R9)."),
        json_schema_extra={"items": {"type": "string", "enum": list(QUESTIONNAIRE_KINDS)}},
    )
    questions: list[OptionOut] = Field(description=doc("The questions offered, each answered 1 to 5 (R8)."))
    reasons: list[OptionOut] = Field(description=doc("The reason tags offered for a bad rating (R8)."))


class QuestionnaireQuery(Schema):
    # A query string's number is text: not the JSON bodies' strict integer.
    visit_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)] | None = Field(
        None, description=doc("A window visit of the record: the questionnaire of that visit, not of the completion.")
    )


def _option_out(option: Option) -> dict[str, str]:
    return {
        "key": option.key,
        "label": option.label,
        "kind": option.kind,
        "eval_detail_code": option.code,
        "catalogue_version": option.version,
    }


@records_router.get(
    "/{record_no}/questionnaire",
    response={200: QuestionnaireOut, **RECORD_ERRORS},
    summary="What a rating of the record is asked",
    description=doc(
        "The questions and reason tags a rating of the record (or of one of its visits) may carry: the options "
        "of its region's sets for what it rates (R8, R9). A rating with an option not listed is refused (422)."
    ),
)
def get_questionnaire(
    request: ApiRequest, record_no: RecordNoPath, query: Query[QuestionnaireQuery]
) -> dict[str, object]:
    record = record_for_client(client=request.auth, record_no=record_no)
    visit = None
    if query.visit_id is not None:
        visit = record.visits.select_related("window").filter(pk=query.visit_id).first()
        if visit is None:
            raise NotFound(
                "not_found",
                _("visit %(visit)s of record %(no)s not found") % {"visit": query.visit_id, "no": record_no},
            )
    values = {path: None for path in PLACE_VALUES} | {
        "record__institution_id": record.institution_id,
        "record__platform_id": record.platform_id,
        "record__window_id": record.window_id,
        "record__staff_id": record.staff_id,
    }
    if visit is not None:
        values |= {
            "visit_id": visit.pk,
            "visit__window_id": visit.window_id,
            "visit__window__institution_id": visit.window.institution_id if visit.window else None,
            "visit__staff_id": visit.staff_id,
        }
    asked = questionnaire_for(record.region.path, rated_kinds(rated_place(values)))
    return {
        "kinds": list(asked.kinds),
        "questions": [_option_out(o) for o in asked.questions],
        "reasons": [_option_out(o) for o in asked.reasons],
    }
