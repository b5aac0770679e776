"""Case API for the 12345 hotline and business systems: the console's actions, the same rules,
within the API key's region."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from haoping.accounts.access import actor_for_client
from haoping.rectification.models import Appeal, BadReviewCase
from haoping.rectification.selectors import (
    CaseFilters,
    appeal_get,
    appeal_is_late,
    case_allowed_actions,
    case_get,
    case_is_overdue,
    case_list,
    case_text_shown,
)
from haoping.rectification.services import appeal_decide, appeal_file, case_act
from haoping.schemas import MAX_BIGINT, ApiRequest, Code, ErrorOut, StrictBool, StrictInt, StrictSchema, Text

router = Router(tags=["cases"])
appeals_router = Router(tags=["cases"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut}
Note = Annotated[Text, Field(max_length=2000)]
# Further than any region's cases reach; bounded so that the database is never asked for more.
MAX_OFFSET = 10**9
CaseId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
AppealId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
Action = Literal[
    "dispatch",
    "contact",
    "classify",
    "rectify",
    "explain",
    "request_invalidation",
    "approve_invalidation",
    "reject_invalidation",
    "request_extension",
    "approve_extension",
    "reject_extension",
    "start_consultation",
    "reply",
    "revisit",
    "close",
    "reopen",
]
Category = Literal["simple", "general", "complex", "no_legal_basis", "mistaken", "malicious"]


class CaseSummary(Schema):
    id: int
    state: str
    record_no: str
    level: int
    unit: str
    unit_name: str
    category: str
    opened_at: dt.datetime
    contact_due: dt.datetime
    resolve_due: dt.datetime | None
    due_at: dt.datetime | None
    overdue: bool
    provisional: bool


class HistoryOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    by: str
    note: str
    data: dict[str, Any]


class AppealOut(Schema):
    id: int
    state: str
    filed_at: dt.datetime
    decide_due: dt.datetime
    decided_at: dt.datetime | None
    late: bool


class CaseDetail(CaseSummary):
    item_code: str
    item_name: str
    comment: str
    reasons: list[str]
    invalid: bool
    invalid_reason: str
    replied_at: dt.datetime | None
    rectified_at: dt.datetime | None
    revisited_at: dt.datetime | None
    satisfied: bool | None
    closed_at: dt.datetime | None
    history: list[HistoryOut]
    appeals: list[AppealOut]
    allowed_actions: list[str]


class ActionIn(StrictSchema):
    action: Action
    note: Note | None = None
    unit: Code | None = None
    category: Category | None = None
    description: Note | None = None
    explanation: Note | None = None
    reason: Note | None = None
    answer: Note | None = None
    days: StrictInt | None = None
    units: Annotated[list[Code], Field(max_length=20)] | None = None
    satisfied: StrictBool | None = None


class StateOut(Schema):
    id: int
    state: str
    allowed_actions: list[str]


class AppealIn(StrictSchema):
    reasons: Note


class DecideIn(StrictSchema):
    upheld: StrictBool
    note: Note = ""


def _summary(case: BadReviewCase) -> dict[str, Any]:
    return {
        "id": case.pk,
        "state": case.state,
        "record_no": case.record.record_no,
        "level": case.level,
        "unit": case.unit.code,
        "unit_name": case.unit.name,
        "category": case.category,
        "opened_at": case.opened_at,
        "contact_due": case.contact_due,
        "resolve_due": case.resolve_due,
        "due_at": case.due_at,
        "overdue": case_is_overdue(case),
        "provisional": case.provisional,
    }


def _appeal(appeal: Appeal) -> dict[str, Any]:
    return {
        "id": appeal.pk,
        "state": appeal.state,
        "filed_at": appeal.filed_at,
        "decide_due": appeal.decide_due,
        "decided_at": appeal.decided_at,
        "late": appeal_is_late(appeal),
    }


@router.get("", response={200: list[CaseSummary], **ERRORS}, summary="List cases")
def list_cases(
    request: ApiRequest,
    state: BadReviewCase.State | None = None,
    record_no: Code | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[dict[str, Any]]:
    actor = actor_for_client(request.auth)
    cases = case_list(actor=actor, filters=CaseFilters(state=state, record_no=record_no, overdue=overdue))
    return [_summary(case) for case in cases[offset : offset + limit]]


def _detail(request: ApiRequest, case_id: CaseId) -> dict[str, Any]:
    actor = actor_for_client(request.auth)
    case = case_get(actor=actor, case_id=case_id)
    ev = case.evaluation
    # R10: free text may carry a phone or ID number; the API shows it as the console does.
    shown = case_text_shown(actor=actor, case=case)
    history = [
        {
            "at": e.at,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "by": e.actor_label,
            "note": shown(e.note),
            "data": e.data,
        }
        for e in case.events.all()
    ]
    return {
        **_summary(case),
        "item_code": case.item.code,
        "item_name": case.item.name,
        "comment": shown(ev.comment),
        "reasons": ev.reasons,
        "invalid": case.invalid,
        "invalid_reason": case.invalid_reason,
        "replied_at": case.replied_at,
        "rectified_at": case.rectified_at,
        "revisited_at": case.revisited_at,
        "satisfied": case.satisfied,
        "closed_at": case.closed_at,
        "history": history,
        "appeals": [_appeal(a) for a in case.appeals.order_by("id")],
        "allowed_actions": case_allowed_actions(actor=actor, case=case),
    }


@router.get("/{int:case_id}", response={200: CaseDetail, **ERRORS}, summary="One case with its history")
def get_case(request: ApiRequest, case_id: CaseId) -> dict[str, Any]:
    return _detail(request, case_id)


@router.post("/{int:case_id}/actions", response={200: StateOut, **ERRORS}, summary="Take an action on a case")
def act(request: ApiRequest, case_id: CaseId, payload: ActionIn) -> dict[str, Any]:
    actor = actor_for_client(request.auth)
    case = case_get(actor=actor, case_id=case_id)
    fields = payload.dict(exclude_none=True)
    action = fields.pop("action")
    case = case_act(actor=actor, case=case, action=action, fields=fields)
    return {"id": case.pk, "state": case.state, "allowed_actions": case_allowed_actions(actor=actor, case=case)}


@router.post("/{int:case_id}/appeal", response={201: AppealOut, **ERRORS}, summary="Appeal a bad review")
def appeal(request: ApiRequest, case_id: CaseId, payload: AppealIn) -> Status:
    actor = actor_for_client(request.auth)
    case = case_get(actor=actor, case_id=case_id)
    return Status(201, _appeal(appeal_file(actor=actor, case=case, reasons=payload.reasons)))


@appeals_router.post("/{int:appeal_id}/decide", response={200: AppealOut, **ERRORS}, summary="Decide an appeal")
def decide(request: ApiRequest, appeal_id: AppealId, payload: DecideIn) -> dict[str, Any]:
    actor = actor_for_client(request.auth)
    found = appeal_get(actor=actor, appeal_id=appeal_id)
    return _appeal(appeal_decide(actor=actor, appeal=found, upheld=payload.upheld, note=payload.note))
