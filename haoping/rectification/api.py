"""Case API for the 12345 hotline and business systems: the console's actions, the same rules,
within the API key's region."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from ninja import Path, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from haoping.accounts.access import actor_for_client
from haoping.apidocs import code_list, doc
from haoping.evaluations.models import LEVEL_LABELS
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
from haoping.rectification.workflow import ACTION_LABELS
from haoping.schemas import MAX_BIGINT, ApiRequest, Code, ErrorOut, StrictBool, StrictInt, StrictSchema, Text

router = Router(tags=["cases"])
appeals_router = Router(tags=["cases"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut}
Note = Annotated[Text, Field(max_length=2000)]
# Further than any region's cases reach; bounded so that the database is never asked for more.
MAX_OFFSET = 10**9
CaseId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description=doc("The case's id."))]
AppealId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description=doc("The appeal's id."))]
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
STATES = code_list(doc("The case's state."), BadReviewCase.State)
CATEGORIES = code_list(
    doc("The category found on verification (R12); empty before classification."), BadReviewCase.Category
)
ACTIONS = code_list(
    doc("The step taken; `allowed_actions` lists those open to you now."),
    {action: ACTION_LABELS[action] for action in get_args(Action)},
)
EVENTS = code_list(doc("What happened."), ACTION_LABELS)
APPEAL_STATES = code_list(doc("The appeal's state."), Appeal.State)


class CaseSummary(Schema):
    id: int = Field(description=doc("The case's id."))
    state: str = Field(description=STATES, json_schema_extra={"enum": list(BadReviewCase.State.values)})
    record_no: str = Field(description=doc("The record number of the service rated."))
    level: int = Field(
        description=code_list(doc("The level of the bad rating."), {1: LEVEL_LABELS[1], 2: LEVEL_LABELS[2]})
    )
    unit: str = Field(description=doc("The code of the unit working the case (谁办理谁负责)."))
    unit_name: str = Field(description=doc("The name of that unit."))
    category: str = Field(description=CATEGORIES, json_schema_extra={"enum": ["", *BadReviewCase.Category.values]})
    opened_at: dt.datetime = Field(description=doc("When the case was opened (the bad rating arrived)."))
    contact_due: dt.datetime = Field(description=doc("The deadline to contact the evaluator and verify (R12)."))
    resolve_due: dt.datetime | None = Field(
        description=doc("The deadline to rectify and answer, set on classification by its category (R12).")
    )
    due_at: dt.datetime | None = Field(description=doc("The deadline of the current step; null when none runs."))
    overdue: bool = Field(description=doc("Whether the current step is past its deadline."))
    provisional: bool = Field(
        description=doc("The deadline reaches beyond the working-day calendar and may move when it is extended.")
    )


class HistoryOut(Schema):
    at: dt.datetime = Field(description=doc("When."))
    action: str = Field(description=EVENTS, json_schema_extra={"enum": list(ACTION_LABELS)})
    from_state: str = Field(description=doc("The state before (a state code); empty for events that change none."))
    to_state: str = Field(description=doc("The state after (a state code); empty for events that change none."))
    by: str = Field(
        description=doc("Who: a unit, a manager's role or the system; never the rated staff member's name.")
    )
    note: str = Field(description=doc("The note given, with phone and ID numbers masked."))
    data: dict[str, Any] = Field(description=doc("Details of the step (e.g. the category, the units consulted)."))


class AppealOut(Schema):
    id: int = Field(description=doc("The appeal's id."))
    state: str = Field(description=APPEAL_STATES, json_schema_extra={"enum": list(Appeal.State.values)})
    filed_at: dt.datetime = Field(description=doc("When it was filed."))
    decide_due: dt.datetime = Field(description=doc("The deadline to decide it: 5 working days (R14)."))
    decided_at: dt.datetime | None = Field(description=doc("When it was decided; null while pending."))
    late: bool = Field(description=doc("Decided after the deadline, or still pending past it."))


class CaseDetail(CaseSummary):
    item_code: str = Field(description=doc("The service item's code (事项编码)."))
    item_name: str = Field(description=doc("The service item's name."))
    comment: str = Field(description=doc("The evaluator's comment, with phone and ID numbers masked."))
    reasons: list[str] = Field(
        description=doc("The reason tags of the rating: keys of the questionnaire options of its region (R8, R9)."),
    )
    invalid: bool = Field(description=doc("The rating is not adopted (mistaken, malicious, or an appeal upheld)."))
    invalid_reason: str = Field(
        description=code_list(doc("Why it is not adopted; empty when it is."), BadReviewCase.Invalidity),
        json_schema_extra={"enum": ["", *BadReviewCase.Invalidity.values]},
    )
    replied_at: dt.datetime | None = Field(description=doc("When the answer was sent to the evaluator."))
    rectified_at: dt.datetime | None = Field(description=doc("When the rectification was recorded."))
    revisited_at: dt.datetime | None = Field(description=doc("When the evaluator said whether they were satisfied."))
    satisfied: bool | None = Field(description=doc("Whether the evaluator is satisfied; null before the revisit."))
    closed_at: dt.datetime | None = Field(description=doc("When the case was closed."))
    history: list[HistoryOut] = Field(description=doc("Every step and event, oldest first."))
    appeals: list[AppealOut] = Field(description=doc("The appeals against the bad review (R14)."))
    allowed_actions: list[str] = Field(
        description=doc("The actions your key may take now (see `action`)."),
        json_schema_extra={"items": {"type": "string", "enum": list(get_args(Action))}},
    )


class ActionIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"action": "contact", "note": "已电话联系评价人，情况属实"},
                {"action": "classify", "category": "general"},
                {"action": "rectify", "description": "已约谈窗口人员，增设叫号提醒"},
                {"action": "reply", "answer": "您反映的排队时间过长问题已整改，感谢监督。"},
                {"action": "request_extension", "days": 5, "reason": "需协调住建部门共同核实"},
                {"action": "start_consultation", "units": ["320102-ZJJ"], "note": "涉及多个部门"},
            ]
        }
    )

    action: Annotated[Action, Field(description=ACTIONS)]
    note: Annotated[
        Note | None,
        Field(description=doc("A note for the history; some actions require one (the error then names this field).")),
    ] = None
    unit: Annotated[Code | None, Field(description=doc("dispatch: the code of the unit to send the case to."))] = None
    category: Annotated[Category | None, Field(description=CATEGORIES)] = None
    description: Annotated[Note | None, Field(description=doc("rectify: what was rectified."))] = None
    explanation: Annotated[Note | None, Field(description=doc("explain: why the request has no legal basis."))] = None
    reason: Annotated[Note | None, Field(description=doc("request_invalidation, request_extension: the reason."))] = (
        None
    )
    answer: Annotated[
        Note | None,
        Field(
            description=doc(
                "reply: the answer for the evaluator. It is shown on the revisit page (phone and ID numbers masked); "
                "the SMS only carries the link."
            )
        ),
    ] = None
    days: Annotated[
        StrictInt | None,
        Field(description=doc("request_extension: how many days more, counted as days_unit says.")),
    ] = None
    days_unit: Annotated[
        Literal["workdays", "days"] | None,
        Field(
            description=doc(
                "request_extension: whether the days are working days (workdays) or natural days (days); "
                "by default the unit of the step being extended."
            )
        ),
    ] = None
    units: Annotated[
        Annotated[list[Code], Field(max_length=20)] | None,
        Field(description=doc("start_consultation: the codes of the units to consult (complex cases).")),
    ] = None
    satisfied: Annotated[
        StrictBool | None, Field(description=doc("revisit: whether the evaluator is satisfied (recorded by phone)."))
    ] = None


class StateOut(Schema):
    id: int = Field(description=doc("The case's id."))
    state: str = Field(description=STATES, json_schema_extra={"enum": list(BadReviewCase.State.values)})
    allowed_actions: list[str] = Field(
        description=doc("The actions your key may take now (see `action`)."),
        json_schema_extra={"items": {"type": "string", "enum": list(get_args(Action))}},
    )


class AppealIn(StrictSchema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reasons": "评价当日系统故障导致等候时间过长，非窗口人员原因"}]}
    )

    reasons: Annotated[Note, Field(description=doc("Why the rated unit or staff member asks for review (R14)."))]


class DecideIn(StrictSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"upheld": True, "note": "经核实系统故障，不予采纳"}]})

    upheld: Annotated[
        StrictBool, Field(description=doc("true: the appeal is upheld and the rating not adopted; false: rejected."))
    ]
    note: Annotated[Note, Field(description=doc("The reasons of the decision."))] = ""


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


@router.get(
    "",
    response={200: list[CaseSummary], **ERRORS},
    summary="List cases",
    description=doc("The cases of the key's region and the regions below it, newest first, a page at a time."),
)
def list_cases(
    request: ApiRequest,
    state: Annotated[BadReviewCase.State | None, Query(description=STATES)] = None,
    record_no: Annotated[Code | None, Query(description=doc("Only the cases of this record number."))] = None,
    overdue: Annotated[
        bool | None, Query(description=doc("true: only cases past their current deadline; false: only the others."))
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description=doc("How many cases to return (1–500)."))] = 100,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description=doc("How many cases to skip, for the next page."))
    ] = 0,
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


@router.get(
    "/{int:case_id}",
    response={200: CaseDetail, **ERRORS},
    summary="One case with its history",
    description=doc(
        "The case, its history, appeals and the actions open to the key. Who rated is never shown (R10); "
        "free text is shown with phone and ID numbers masked."
    ),
)
def get_case(request: ApiRequest, case_id: CaseId) -> dict[str, Any]:
    return _detail(request, case_id)


@router.post(
    "/{int:case_id}/actions",
    response={200: StateOut, **ERRORS},
    summary="Take an action on a case",
    description=doc(
        "One step of the case's workflow, with the fields that step needs (see each field). A step not open in "
        "the current state, or to the key's role, is a 409 listing `allowed_actions`; a decision is never taken "
        "by whoever asked for it."
    ),
)
def act(request: ApiRequest, case_id: CaseId, payload: ActionIn) -> dict[str, Any]:
    actor = actor_for_client(request.auth)
    case = case_get(actor=actor, case_id=case_id)
    fields = payload.dict(exclude_none=True)
    action = fields.pop("action")
    case = case_act(actor=actor, case=case, action=action, fields=fields)
    return {"id": case.pk, "state": case.state, "allowed_actions": case_allowed_actions(actor=actor, case=case)}


@router.post(
    "/{int:case_id}/appeal",
    response={201: AppealOut, **ERRORS},
    summary="Appeal a bad review",
    description=doc(
        "The rated unit asks for review within 2 working days of receiving the bad review (R14); a manager "
        "decides within 5 working days."
    ),
)
def appeal(request: ApiRequest, case_id: CaseId, payload: AppealIn) -> Status:
    actor = actor_for_client(request.auth)
    case = case_get(actor=actor, case_id=case_id)
    return Status(201, _appeal(appeal_file(actor=actor, case=case, reasons=payload.reasons)))


@appeals_router.post(
    "/{int:appeal_id}/decide",
    response={200: AppealOut, **ERRORS},
    summary="Decide an appeal",
    description=doc(
        "A manager decides an appeal, never the one who filed it (R14). Upheld: the rating is not adopted and "
        "the case closes; the evaluator is told by SMS."
    ),
)
def decide(request: ApiRequest, appeal_id: AppealId, payload: DecideIn) -> dict[str, Any]:
    actor = actor_for_client(request.auth)
    found = appeal_get(actor=actor, appeal_id=appeal_id)
    return _appeal(appeal_decide(actor=actor, appeal=found, upheld=payload.upheld, note=payload.note))
