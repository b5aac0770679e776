"""Writes for bad-review handling. Every change of a case goes through `_transition`, which checks
the workflow table, locks the case, stores the new fields and appends the history row."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from haoping.accounts.access import (
    Actor,
    access_case_act,
    access_case_region,
    access_decide,
    access_identity,
    actor_system,
    manages,
    within_region,
)
from haoping.accounts.models import Membership
from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.directory.models import Department, Region
from haoping.directory.selectors import policy_for_region, region_contains
from haoping.errors import Conflict, Forbidden, Invalid, NotFound
from haoping.evaluations.models import BlockedEvaluator, Evaluation
from haoping.evaluations.services import blocked_evaluator_add as registry_add
from haoping.evaluations.services import blocked_evaluator_remove as registry_remove
from haoping.fields import seal_free_text
from haoping.lib.masking import mask_id_number, mask_name, mask_phone, redact_text
from haoping.ops.rollups import rollups_soon
from haoping.records.links import new_public_id
from haoping.rectification import sms
from haoping.rectification.deadlines import (
    APPEAL_DECIDE,
    APPEAL_FILE,
    IMPORTED_RULES,
    MAX_EXTENSION_DAYS,
    Span,
    rules_for,
    step_of,
)
from haoping.rectification.links import revisit_url
from haoping.rectification.messaging import message_send, message_to_evaluator
from haoping.rectification.models import (
    Appeal,
    BadReviewCase,
    CaseEvent,
    Consultation,
    Evidence,
    Message,
    MessageRead,
    SpotCheck,
    SpotCheckItem,
    evidence_path,
)
from haoping.rectification.selectors import case_step_name
from haoping.rectification.workflow import (
    ACTIONS,
    INVALID_CATEGORIES,
    WORKFLOW,
    action_label,
    allowed_actions,
)
from haoping.workdays.selectors import Due, add_days, add_workdays

MAX_NOTE = 2000
MAX_FILES = 5
HEAD_BYTES = 8192  # what filetype reads to recognise a file


@dataclass(frozen=True)
class FileType:
    """An evidence file's type: what it is served as, its kind (the size limits of
    settings.HAOPING_EVIDENCE_MAX_BYTES are per kind), and the types filetype may read from its content."""

    content_type: str
    kind: str
    signatures: frozenset[str]


def _type(content_type: str, kind: str, *signatures: str) -> FileType:
    return FileType(content_type, kind, frozenset(signatures or (content_type,)))


# Evidence is what people actually have: photos and scans, call recordings, short video clips
# (监控). Extension → type; an animated PNG is still a PNG, and a phone's recorder often writes
# an .m4a under the generic MPEG-4 brands.
FILE_TYPES = {
    ".jpg": _type("image/jpeg", "image"),
    ".jpeg": _type("image/jpeg", "image"),
    ".png": _type("image/png", "image", "image/png", "image/apng"),
    ".pdf": _type("application/pdf", "document"),
    ".mp3": _type("audio/mpeg", "audio"),
    ".m4a": _type("audio/mp4", "audio", "audio/mp4", "video/mp4"),
    ".aac": _type("audio/aac", "audio"),
    ".wav": _type("audio/wav", "audio", "audio/x-wav"),
    ".amr": _type("audio/amr", "audio"),
    ".mp4": _type("video/mp4", "video"),
    ".webm": _type("video/webm", "video"),
}
# What a browser plays in an <audio> or <video> element (AMR, the old phone format, it does not).
PLAYABLE = frozenset({"audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "video/mp4", "video/webm"})


def evidence_player(content_type: str) -> str:
    """ "audio" or "video" for a file the browser can play where it is listed; "" for one to download."""
    return content_type.split("/")[0] if content_type in PLAYABLE else ""


def evidence_limits() -> dict[str, int]:
    """The largest file of each kind, in MB (settings.HAOPING_EVIDENCE_MAX_BYTES)."""
    return {kind: size // 2**20 for kind, size in settings.HAOPING_EVIDENCE_MAX_BYTES.items()}


S = BadReviewCase.State


# ---------------------------------------------------------------------------------------------
# Opening


def case_open(
    *, evaluations: Sequence[Evaluation], region: Region, evaluator_id: int | None, now: dt.datetime
) -> BadReviewCase:
    """R12: a bad active rating opens a case at the unit that handled the service (谁办理谁负责).

    Called inside the rating's transaction, so that an acknowledged bad rating always has its case.
    """
    lead = evaluations[0]
    policy = policy_for_region(region)
    contact = rules_for(policy.case_deadlines).contact.after(now)
    case = BadReviewCase.objects.create(
        region_id=lead.region_id,
        evaluation=lead,
        receipt=lead.receipt,
        record_id=lead.record_id,
        item_id=lead.item_id,
        unit_id=lead.department_id,
        institution_id=lead.institution_id,
        window_id=lead.window_id,
        staff_id=lead.staff_id,
        level=lead.level,
        evaluator_id=evaluator_id,
        deadline_rules=policy.case_deadlines,
        opened_at=now,
        dispatched_at=now,
        contact_due=contact.at,
        step_started_at=now,
        due_at=contact.at,
        warn_at=_warn_at(now, contact.at, policy.warn_percent),
        provisional=contact.provisional,
        public_id=new_public_id(),
    )
    CaseEvent.objects.create(
        case=case,
        at=now,
        action="open",
        to_state=S.OPEN,
        actor_label=_("the system"),
        data={"records": len(evaluations)},
    )
    message_send(
        at=now,
        kind=Message.Kind.DISPATCH,
        case=case,
        to_unit_id=case.unit_id,
        text=_("A new bad review (case %(id)s) is in your queue; contact the evaluator by %(due)s.")
        % {"id": case.pk, "due": _fmt(contact.at)},
    )
    return case


# ---------------------------------------------------------------------------------------------
# Notices to the rated staff member. R10: nothing in them identifies the rater: no record number,
# no channel, no time finer than the day, and the comment with every personal detail removed.


def _staff_users(case: BadReviewCase) -> list[int]:
    """The console users of the rated staff member (none when the rating names no one, or they have no login)."""
    if case.staff_id is None:
        return []
    return list(
        Membership.objects.filter(role=Membership.Role.STAFF, staff_id=case.staff_id).values_list("user_id", flat=True)
    )


def _for_staff(case: BadReviewCase, text: str) -> str:
    """Free text as the rated staff member may read it (R10)."""
    record = case.record
    names = [p.name for p in (record.applicant, record.agent, case.evaluator) if p is not None and p.name]
    return redact_text(text, names=names)


def _tell_staff(case: BadReviewCase, users: list[int], *, kind: str, text: str, at: dt.datetime) -> None:
    for user_id in users:
        message_send(at=at, kind=kind, case=case, to_user_id=user_id, text=text)


def _day(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d")


def _tell_staff_of_review(case: BadReviewCase, evaluation: Evaluation, now: dt.datetime) -> bool:
    """The rated staff member learns of the bad review, and until when they may appeal it (R14).
    Sent by the sweep, so that the rating's request stays as short as it is; False when there is
    no one to tell (no staff member named, or no console login)."""
    users = _staff_users(case)
    if not users:
        return False
    values = {
        "item": case.item.name,
        "level": evaluation.get_level_display(),
        "day": _day(case.opened_at),
        "due": _day(appeal_window(case).at),
    }
    comment = _for_staff(case, evaluation.comment.strip())
    if comment:
        text = _(
            "A bad review (%(level)s) of your service of %(item)s came in on %(day)s. What was written: "
            "%(comment)s You may appeal it until the end of %(due)s."
        ) % {**values, "comment": comment}
    else:
        text = (
            _(
                "A bad review (%(level)s) of your service of %(item)s came in on %(day)s. "
                "You may appeal it until the end of %(due)s."
            )
            % values
        )
    _tell_staff(case, users, kind=Message.Kind.REVIEW, text=text, at=now)
    return True


def _tell_staff_of_closing(case: BadReviewCase, now: dt.datetime) -> None:
    users = _staff_users(case)
    if not users:
        return
    if case.invalid:
        outcome = _("the rating is not adopted (%(why)s)") % {"why": case.get_invalid_reason_display()}
    elif case.satisfied:
        outcome = _("it was rectified and the evaluator is satisfied")
    else:
        outcome = _("the rating stands")
    text = _("The bad review of your service of %(item)s (case %(id)s) is closed: %(outcome)s.") % {
        "item": case.item.name,
        "id": case.pk,
        "outcome": outcome,
    }
    _tell_staff(case, users, kind=Message.Kind.CLOSED, text=text, at=now)


def _fmt(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _warn_at(start: dt.datetime, due: dt.datetime, percent: int) -> dt.datetime:
    return start + (due - start) * percent / 100


# ---------------------------------------------------------------------------------------------
# Transitions


@dataclass
class Change:
    """What a transition writes besides the state: fields, a note, details for the timeline."""

    fields: dict[str, Any]
    note: str = ""
    data: dict[str, Any] | None = None


def _event(
    case: BadReviewCase,
    *,
    actor: Actor,
    action: str,
    at: dt.datetime,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    # The counts of the evaluations this case answers may change (haoping.indicators).
    rollups_soon()
    note, note_sealed = seal_free_text(note)
    return CaseEvent.objects.create(
        case=case,
        at=at,
        action=action,
        from_state=from_state,
        to_state=to_state,
        user=actor.user,
        api_client=actor.client,
        actor_label=str(actor.label)[:150],
        note=note,
        note_sealed=note_sealed,
        data=data or {},
    )


def _locked(case: BadReviewCase) -> BadReviewCase:
    return BadReviewCase.objects.select_for_update().select_related("region").get(pk=case.pk)


def _check_allowed(case: BadReviewCase, actor: Actor, action: str) -> None:
    transition = WORKFLOW[action]
    allowed = allowed_actions(
        state=case.state,
        category=case.category,
        roles=actor.roles,
        escalated=case.escalated_at is not None,
        api=actor.client is not None,
        offered=False,
    )
    if action not in allowed:
        if case.state in transition.sources and not (transition.roles & actor.roles):
            raise Forbidden(
                "forbidden", _("%(action)s: not allowed for your role") % {"action": action}, allowed_actions=allowed
            )
        raise Conflict(
            "action_not_allowed",
            _("%(action)s is not allowed while the case is %(state)s")
            % {"action": action, "state": case.get_state_display()},
            allowed_actions=allowed,
        )
    role = next(iter(sorted(transition.roles & actor.roles)))
    access_case_act(actor, case, role)


def _check_decider(case: BadReviewCase, actor: Actor, action: str) -> None:
    """R12: invalidations and extensions are decided by a second person, not by who asked."""
    request = case.events.filter(action=ACTIONS[action].decides).order_by("-id").first()
    access_decide(
        actor,
        region=case.region,
        requested_by_id=request.user_id if request else None,
        requested_by_client_id=request.api_client_id if request else None,
    )


def _transition(
    case: BadReviewCase, *, actor: Actor, action: str, target: str, change: Change, now: dt.datetime
) -> BadReviewCase:
    """Apply one row of the workflow table to a locked case."""
    if target not in WORKFLOW[action].targets:
        raise AssertionError(f"{action} cannot lead to {target}")
    source = case.state
    case.state = target
    for name, value in change.fields.items():
        setattr(case, name, value)
    case.save(update_fields=["state", *change.fields])
    _event(
        case, actor=actor, action=action, at=now, from_state=source, to_state=target, note=change.note, data=change.data
    )
    return case


def _note(value: Any, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid("invalid", _("%(field)s: must be text") % {"field": field}, field=field)
    value = value.strip()
    if "\x00" in value:
        raise Invalid("invalid", _("%(field)s: must not contain the NUL character") % {"field": field}, field=field)
    if len(value) > MAX_NOTE:
        raise Invalid(
            "too_long", _("%(field)s: at most %(max)d characters") % {"field": field, "max": MAX_NOTE}, field=field
        )
    if required and not value:
        raise Invalid("required", _("%(field)s: this field is required") % {"field": field}, field=field)
    return value


def _step(case: BadReviewCase, *, start: dt.datetime, due: Due | None) -> dict[str, Any]:
    """The fields that start a new timed step (or an untimed one, when `due` is None)."""
    policy = policy_for_region(case.region)
    fields: dict[str, Any] = {
        "step_started_at": start,
        "due_at": due.at if due else None,
        "warn_at": _warn_at(start, due.at, policy.warn_percent) if due else None,
        "warned_at": None,
        "overdue_at": None,
        "escalated_at": None,
    }
    # An untimed step has no deadline to be provisional about.
    fields["provisional"] = due.provisional if due is not None else False
    return fields


def _named(fields: dict[str, Any], name: str) -> Any:
    """An action's text under its own name, or under `note` (the console's and the API's common field)."""
    value = fields.get(name)
    return value if isinstance(value, str) and value.strip() else fields.get("note", value)


def _handling_span(case: BadReviewCase, category: str) -> Span:
    return rules_for(case.deadline_rules).handling(category)


@transaction.atomic
def case_act(
    *,
    actor: Actor,
    case: BadReviewCase,
    action: str,
    fields: dict[str, Any],
    files: Iterable[UploadedFile] = (),
    now: dt.datetime | None = None,
) -> BadReviewCase:
    """Take one workflow action on a case; `fields` are the action's own inputs.

    `now` is for replaying history (the demo); requests always act at the current time.
    """
    if action not in HANDLERS:
        raise Invalid("invalid", _("action: unknown action %(action)s") % {"action": action}, field="action")
    case = _locked(case)
    if ACTIONS[action].decides:
        _check_decider(case, actor, action)
    _check_allowed(case, actor, action)
    now = now or timezone.now()
    handler = HANDLERS[action]
    change, target = handler(case, actor, fields, now)
    files = list(files)
    if files and not ACTIONS[action].files:
        raise Invalid("invalid", _("evidence: files go with contact, rectification or explanation"), field="evidence")
    checked = _check_files(files)
    _transition(case, actor=actor, action=action, target=target, change=change, now=now)
    if checked:
        event = case.events.order_by("-id").first()
        _store_files(case, checked, event=event, appeal=None, now=now)
    _after(case, action, now)
    return case


def _dispatch(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    code = fields.get("unit")
    if not isinstance(code, str) or not code:
        raise Invalid("required", _("unit: the code of the unit to send the case to"), field="unit")
    unit = Department.objects.select_related("region").filter(code=code).first()
    if unit is None:
        raise Invalid("unknown_code", _("unit: unknown unit %(code)s") % {"code": code}, field="unit")
    if actor.region is not None and not region_contains(actor.region, unit.region):
        raise Invalid("invalid", _("unit: %(code)s is outside your region") % {"code": code}, field="unit")
    if unit.pk == case.unit_id:
        raise Invalid("invalid", _("unit: the case is already with this unit"), field="unit")
    contact = rules_for(case.deadline_rules).contact.after(now)
    change = Change(
        fields={
            "unit_id": unit.pk,
            "dispatched_at": now,
            "contact_due": contact.at,
            # The new unit classifies again and gets its own handling deadline then.
            "classify_due": None,
            "category": "",
            "resolve_due": None,
            **_step(case, start=now, due=contact),
        },
        note=_note(fields.get("note"), "note", required=False),
        data={"from_unit": case.unit.code, "to_unit": unit.code},
    )
    return change, S.OPEN


def _contact(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    note = _note(fields.get("note"), "note", required=True)
    span = rules_for(case.deadline_rules).classify
    if span is None:
        # R12 as these rules read it: one deadline for contact and classification, still running.
        return Change(fields={"contacted_at": now}, note=note), S.CONTACTED
    # R12: classification is a step of its own; a contact made on time is never late for it.
    due = span.after(now)
    step = {"contacted_at": now, "classify_due": due.at, **_step(case, start=now, due=due)}
    return Change(fields=step, note=note), S.CONTACTED


def _classify(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    category = fields.get("category")
    if category not in BadReviewCase.Category.values:
        raise Invalid(
            "invalid",
            _("category: must be one of %(choices)s") % {"choices": "、".join(BadReviewCase.Category.values)},
            field="category",
        )
    # A reclassification keeps the time the handling started and the extensions granted: it never
    # buys more time, and never takes back what was granted.
    start = now if case.state == S.CONTACTED else case.step_started_at
    span = _handling_span(case, category)
    due = span.after(start)
    if case.extended_days:
        due = _granted(case, due, span)
    step = _step(case, start=start, due=due)
    if case.state == S.HANDLING and due.at == case.due_at:
        # Same deadline: a warning or an overdue mark already given stands.
        step = {k: v for k, v in step.items() if k not in ("warned_at", "overdue_at", "escalated_at")}
    change = Change(
        fields={"category": category, "classified_at": case.classified_at or now, "resolve_due": due.at, **step},
        note=_note(fields.get("note"), "note", required=False),
        data={"category": category, "resolve_due": due.at.isoformat()},
    )
    return change, S.HANDLING


def _rectify(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    note = _note(_named(fields, "description"), "description", required=True)
    return Change(fields={"rectified_at": now}, note=note), S.RESOLVED


def _explain(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    note = _note(_named(fields, "explanation"), "explanation", required=True)
    return Change(fields={"rectified_at": now}, note=note), S.RESOLVED


def _request_invalidation(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    note = _note(_named(fields, "reason"), "reason", required=True)
    return Change(fields={}, note=note, data={"category": case.category}), S.INVALIDATION_REQUESTED


def _approve_invalidation(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    # R12: mistaken or malicious ratings are not adopted.
    change = Change(
        fields={"invalid": True, "invalid_reason": case.category, "closed_at": now, **_step(case, start=now, due=None)},
        note=_note(fields.get("note"), "note", required=False),
    )
    return change, S.CLOSED


def _reject_invalidation(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    return Change(fields={}, note=_note(fields.get("note"), "note", required=True)), S.HANDLING


def _request_extension(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    days = fields.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise Invalid(
            "invalid", _("days: a whole number from 1 to %(max)d") % {"max": MAX_EXTENSION_DAYS}, field="days"
        )
    unit = fields.get("days_unit") or extension_unit_by_policy(case)
    if unit not in BadReviewCase.DayUnit.values:
        raise Invalid(
            "invalid",
            _("days_unit: workdays (working days) or days (natural days)"),
            field="days_unit",
        )
    note = _note(_named(fields, "reason"), "reason", required=True)
    fields = {"extension_days": days, "extension_unit": unit}
    return Change(fields=fields, note=note, data={"days": days, "unit": unit}), S.EXTENSION_REQUESTED


def extension_unit_by_policy(case: BadReviewCase) -> str:
    """R12: an extension counts in the unit of the step it extends, unless the request says otherwise."""
    return "workdays" if _handling_span(case, case.category).unit == "workdays" else "days"


@dataclass(frozen=True)
class ExtensionOutcome:
    """What approving a pending extension does to the deadline, shown to the manager before they decide."""

    days: int
    unit: str
    current: dt.datetime
    new: Due

    @property
    def amount(self) -> str:
        """The days asked with their unit, as a manager reads them (3 个工作日)."""
        label = BadReviewCase.DayUnit(self.unit).label
        return pgettext("days and their unit", "%(days)d %(unit)s") % {"days": self.days, "unit": label}


def extension_outcome(case: BadReviewCase) -> ExtensionOutcome | None:
    """The pending extension and the deadline it would set; None without one."""
    if case.state != S.EXTENSION_REQUESTED or not case.extension_days or case.resolve_due is None:
        return None
    unit = case.extension_unit or extension_unit_by_policy(case)
    days = case.extension_days
    new = extended_due(Due(case.resolve_due, case.provisional), days, unit)
    return ExtensionOutcome(days=days, unit=unit, current=case.resolve_due, new=new)


def _approve_extension(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    outcome = extension_outcome(case)
    assert outcome is not None
    due = outcome.new
    policy = policy_for_region(case.region)
    change = Change(
        fields={
            "extension_days": None,
            "extension_unit": "",
            "extended_days": case.extended_days + outcome.days,
            "resolve_due": due.at,
            "due_at": due.at,
            "warn_at": _warn_at(case.step_started_at, due.at, policy.warn_percent),
            "warned_at": None,
            "overdue_at": None if due.at > now else case.overdue_at,
            "provisional": due.provisional,
        },
        note=_note(fields.get("note"), "note", required=False),
        data={"days": outcome.days, "unit": outcome.unit, "resolve_due": due.at.isoformat()},
    )
    return change, S.HANDLING


def extended_due(due: Due, days: int, unit: str) -> Due:
    """R12: a deadline moved by an extension, counted in working or natural days."""
    moved = add_workdays(due.at, days) if unit == "workdays" else add_days(due.at, days)
    return Due(moved.at, moved.provisional or due.provisional)


def _granted(case: BadReviewCase, due: Due, span: Span) -> Due:
    """A deadline with every extension granted so far, each in the unit it was granted in (one
    granted before units were recorded counts in the unit of the step)."""
    grants = case.events.filter(action="approve_extension").order_by("id").values_list("data", flat=True)
    for grant in grants:
        days = grant.get("days") if isinstance(grant, dict) else None
        if isinstance(days, int) and days > 0:
            due = extended_due(due, days, grant.get("unit") or span.unit)
    return due


def _reject_extension(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    note = _note(fields.get("note"), "note", required=True)
    return Change(fields={"extension_days": None, "extension_unit": ""}, note=note), S.HANDLING


def _start_consultation(
    case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime
) -> tuple[Change, str]:
    codes = fields.get("units")
    if isinstance(codes, str):
        codes = [c.strip() for c in codes.replace("，", ",").split(",") if c.strip()]
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes) or len(codes) > 20:
        raise Invalid("required", _("units: the codes of the units to consult"), field="units")
    units = {u.code: u for u in Department.objects.select_related("region").filter(code__in=codes)}
    for code in codes:
        if code not in units:
            raise Invalid("unknown_code", _("units: unknown unit %(code)s") % {"code": code}, field="units")
        if units[code].pk == case.unit_id:
            raise Invalid("invalid", _("units: %(code)s is the unit working the case") % {"code": code}, field="units")
        # The units involved are those of the case's region, or of the levels above it (a city bureau
        # in a district's case); another district's units would learn of a case that is not theirs.
        home = units[code].region
        if not (region_contains(home, case.region) or region_contains(case.region, home)):
            raise Invalid(
                "invalid", _("units: %(code)s is outside the region of the case") % {"code": code}, field="units"
            )
    note = _note(fields.get("note"), "note", required=True)
    for unit in units.values():
        _consultation, created = Consultation.objects.get_or_create(case=case, unit=unit, defaults={"started_at": now})
        if created:
            message_send(
                at=now,
                kind=Message.Kind.CONSULTATION,
                case=case,
                to_unit=unit,
                text=_("You are asked to join the consultation on case %(id)s.") % {"id": case.pk},
            )
    return Change(fields={}, note=note, data={"units": sorted(units)}), S.HANDLING


def _reply(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    text = _note(_named(fields, "answer"), "answer", required=True)
    return Change(fields={"replied_at": now, **_step(case, start=now, due=None)}, note=text), S.REPLIED


def _revisit(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    satisfied = fields.get("satisfied")
    if not isinstance(satisfied, bool):
        raise Invalid("required", _("satisfied: true or false"), field="satisfied")
    note = _note(fields.get("note"), "note", required=False)
    done = {"revisited_at": now, "satisfied": satisfied}
    if satisfied or not policy_for_region(case.region).reopen_when_unsatisfied:
        return Change(fields={**done, "closed_at": now}, note=note, data={"satisfied": satisfied}), S.CLOSED
    # Not satisfied: back to the unit, with a fresh handling deadline.
    due = _handling_span(case, case.category).after(now)
    change = Change(
        fields={**done, "rectified_at": None, "resolve_due": due.at, **_step(case, start=now, due=due)},
        note=note,
        data={"satisfied": False, "reopened": True},
    )
    return change, S.HANDLING


def _close(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    return Change(fields={"closed_at": now}, note=_note(fields.get("note"), "note", required=True)), S.CLOSED


def _reopen(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    if case.deadline_rules == IMPORTED_RULES:
        # R21: the lower system that sent the rating works its case; here it is only counted.
        raise Conflict(
            "imported", _("this case is worked by the lower-level system that sent it; it cannot be reopened here")
        )
    if case.invalid_reason == BadReviewCase.Invalidity.APPEAL:
        # R14: an upheld appeal is a decision on the rating itself; reopening would quietly adopt it again.
        raise Conflict("appeal_upheld", _("an appeal against this case was upheld; the case cannot be reopened"))
    due = _handling_span(case, case.category).after(now)
    change = Change(
        fields={
            "closed_at": None,
            "invalid": False,
            "invalid_reason": "",
            "rectified_at": None,
            "resolve_due": due.at,
            **_step(case, start=now, due=due),
        },
        note=_note(fields.get("note"), "note", required=True),
    )
    return change, S.HANDLING


MAX_SUPERVISION_DAYS = 90


def _supervise(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    """督办: the manager's instruction to the unit on an overdue case, with the day it must be done by."""
    instruction = _note(_named(fields, "instruction"), "instruction", required=True)
    value = fields.get("by")
    try:
        by = dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        by = None
    if by is None:
        raise Invalid("invalid", _("by: the day it must be done by (YYYY-MM-DD)"), field="by")
    today = timezone.localdate(now)
    if not today <= by <= today + dt.timedelta(days=MAX_SUPERVISION_DAYS):
        raise Invalid(
            "invalid",
            _("by: from today to %(max)d days ahead") % {"max": MAX_SUPERVISION_DAYS},
            field="by",
        )
    return Change(fields={}, note=instruction, data={"by": by.isoformat()}), case.state


def _reassign(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    """An overdue case sent by the manager to another unit, with the reason: a dispatch that must say why."""
    _note(fields.get("note"), "note", required=True)
    change, target = _dispatch(case, actor, fields, now)
    return Change(fields=change.fields, note=change.note, data={**(change.data or {}), "reassigned": True}), target


def _comment(case: BadReviewCase, actor: Actor, fields: dict[str, Any], now: dt.datetime) -> tuple[Change, str]:
    return Change(fields={}, note=_note(fields.get("note"), "note", required=True)), case.state


Handler = Callable[[BadReviewCase, Actor, dict[str, Any], dt.datetime], tuple[Change, str]]
# Each action's function, as its row of the workflow table names it.
HANDLERS: dict[str, Handler] = {name: globals()[a.handler] for name, a in WORKFLOW.items() if a.handler}


def _after(case: BadReviewCase, action: str, now: dt.datetime) -> None:
    """Who is told about a transition."""
    last = case.events.order_by("-id").first()
    note = last.note if last else ""
    if case.state == S.CLOSED:
        _tell_staff_of_closing(case, now)
    if action in ("supervise", "comment"):
        data = last.data if last else {}
        text = (
            _("Case %(id)s: the manager's instruction, to be done by %(by)s: %(note)s")
            % {"id": case.pk, "by": data.get("by", ""), "note": note}
            if action == "supervise"
            else _("Case %(id)s: the manager commented: %(note)s") % {"id": case.pk, "note": note}
        )
        message_send(at=now, kind=Message.Kind.SUPERVISION, case=case, to_unit_id=case.unit_id, text=text)
    elif action in ("dispatch", "reassign"):
        message_send(
            at=now,
            kind=Message.Kind.DISPATCH,
            case=case,
            to_unit_id=case.unit_id,
            text=_("Case %(id)s was dispatched to your unit; contact the evaluator by %(due)s.")
            % {"id": case.pk, "due": _fmt(case.contact_due)},
        )
    elif action in ("request_invalidation", "request_extension"):
        message_send(
            at=now,
            kind=Message.Kind.INVALIDATION if action == "request_invalidation" else Message.Kind.EXTENSION,
            case=case,
            to_region=case.region,
            text=_("Case %(id)s awaits your decision.") % {"id": case.pk},
        )
    elif action in ("approve_invalidation", "reject_invalidation", "approve_extension", "reject_extension"):
        message_send(
            at=now,
            kind=Message.Kind.INVALIDATION if "invalidation" in action else Message.Kind.EXTENSION,
            case=case,
            to_unit_id=case.unit_id,
            text=_("Case %(id)s: %(decision)s.") % {"id": case.pk, "decision": action_label(action)},
        )
        if action == "approve_invalidation":
            # R12: a rating found mistaken or malicious is reported to the management above.
            parent = case.region.parent
            if parent is not None:
                message_send(
                    at=now,
                    kind=Message.Kind.INVALIDATION,
                    case=case,
                    to_region=parent,
                    text=_("Case %(id)s in %(region)s: the rating was found %(category)s and is not adopted.")
                    % {"id": case.pk, "region": case.region.name, "category": case.get_category_display()},
                )
    elif action == "reply" and case.evaluator_id:
        # The answer itself waits on the revisit page: the SMS only says where.
        message_to_evaluator(
            at=now,
            kind=Message.Kind.ANSWER,
            case=case,
            template=sms.ANSWER_READY,
            item=case.item.name,
            link=revisit_url(case.public_id),
        )
    elif action == "revisit" and case.state == S.HANDLING:
        message_send(
            at=now,
            kind=Message.Kind.DISPATCH,
            case=case,
            to_unit_id=case.unit_id,
            text=_("Case %(id)s is back with your unit: the evaluator is not satisfied. Resolve it by %(due)s.")
            % {"id": case.pk, "due": _fmt(case.resolve_due or now)},
        )


@transaction.atomic
def case_revisit_by_evaluator(*, public_id: str, satisfied: bool, note: str = "") -> BadReviewCase:
    """The evaluator's answer through the revisit link."""
    from haoping.accounts.access import actor_evaluator

    case = BadReviewCase.objects.filter(public_id=public_id).first()
    if case is None:
        raise NotFound("not_found", _("no such link"))
    return case_act(actor=actor_evaluator(), case=case, action="revisit", fields={"satisfied": satisfied, "note": note})


# ---------------------------------------------------------------------------------------------
# Evidence


@dataclass
class CheckedFile:
    upload: UploadedFile
    name: str
    content_type: str
    extension: str
    size: int
    sha256: str


def _check_files(files: Sequence[UploadedFile]) -> list[CheckedFile]:
    if len(files) > MAX_FILES:
        raise Invalid("too_many", _("evidence: at most %(max)d files") % {"max": MAX_FILES}, field="evidence")
    limits: dict[str, int] = settings.HAOPING_EVIDENCE_MAX_BYTES
    checked = []
    for upload in files:
        name = (upload.name or "").rsplit("/", 1)[-1][-200:]
        extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        kind = FILE_TYPES.get(extension)
        if kind is None:
            raise Invalid(
                "file_type",
                _(
                    "evidence: %(name)s is not a photo (JPEG, PNG), a PDF, a recording (MP3, M4A, AAC, WAV, AMR) "
                    "or a video clip (MP4, WebM)"
                )
                % {"name": name},
                field="evidence",
            )
        size = upload.size or 0
        if size > limits[kind.kind]:
            raise Invalid(
                "file_too_large",
                _("evidence: %(name)s is larger than %(max)d MB") % {"name": name, "max": limits[kind.kind] // 2**20},
                field="evidence",
            )
        if size == 0:
            raise Invalid("file_empty", _("evidence: %(name)s is empty") % {"name": name}, field="evidence")
        upload.seek(0)
        if filetype.guess_mime(upload.read(HEAD_BYTES)) not in kind.signatures:
            raise Invalid(
                "file_type",
                _("evidence: %(name)s is not really a %(ext)s file") % {"name": name, "ext": extension},
                field="evidence",
            )
        digest = hashlib.sha256()
        upload.seek(0)
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        checked.append(CheckedFile(upload, name, kind.content_type, extension, size, digest.hexdigest()))
    total = sum(f.size for f in checked)
    if total > settings.HAOPING_EVIDENCE_MAX_TOTAL_BYTES:
        raise Invalid(
            "files_too_large",
            _("evidence: %(size)d MB together; at most %(max)d MB in one step")
            % {"size": math.ceil(total / 2**20), "max": settings.HAOPING_EVIDENCE_MAX_TOTAL_BYTES // 2**20},
            field="evidence",
        )
    return checked


def _store_files(
    case: BadReviewCase,
    files: Sequence[CheckedFile],
    *,
    event: CaseEvent | None,
    appeal: Appeal | None,
    now: dt.datetime,
) -> None:
    """The rows now, the files once the step commits: a step rolled back leaves nothing on disk.

    The stored name is fixed by the case and the content's digest (models.evidence_path), so the row
    can name its file before the file exists.
    """
    for f in files:
        evidence = Evidence(
            case=case,
            event=event,
            appeal=appeal,
            name=f.name,
            content_type=f.content_type,
            extension=f.extension,
            size=f.size,
            sha256=f.sha256,
            uploaded_at=now,
        )
        evidence.file.name = evidence_path(evidence, f.name)
        evidence.save()
        # The content is held (at most HAOPING_EVIDENCE_MAX_TOTAL_BYTES) because the upload's own file
        # may be closed by the time the outermost transaction commits. robust: a failed write is
        # logged and leaves the committed step as it is; the download then answers 404.
        f.upload.seek(0)
        transaction.on_commit(_file_writer(evidence.file.name, f.upload.read()), robust=True)


def _file_writer(name: str, content: bytes) -> Callable[[], None]:
    def write_evidence_file() -> None:
        storage = default_storage
        if storage.exists(name):
            return  # the same content for the same case, stored before
        stored = storage.save(name, ContentFile(content))
        if stored != name:
            # Another request stored the same content under this name meanwhile; keep one copy.
            storage.delete(stored)

    return write_evidence_file


# ---------------------------------------------------------------------------------------------
# Appeals (R14)


def appeal_window(case: BadReviewCase) -> Due:
    """R14: when the time to appeal a case ends, 2 working days after its unit received it."""
    return APPEAL_FILE.after(case.dispatched_at)


@transaction.atomic
def appeal_file(*, actor: Actor, case: BadReviewCase, reasons: str, files: Iterable[UploadedFile] = ()) -> Appeal:
    """The rated staff member or unit asks for review within 2 working days of receiving the case."""
    case = _locked(case)
    access_case_region(actor, case.region)
    own_staff = actor.staff_id is not None and actor.staff_id == case.staff_id
    own_unit = actor.has("handler") and (actor.unit_id is None or actor.unit_id == case.unit_id)
    if not (own_staff or own_unit):
        raise Forbidden("forbidden", _("only the rated staff member or the unit may appeal"))
    if case.state == S.CLOSED:
        raise Conflict("case_closed", _("the case is closed; it can no longer be appealed"))
    if case.appeals.exists():
        raise Conflict("already_appealed", _("this case has been appealed already"))
    reasons = _note(reasons, "reasons", required=True)
    now = timezone.now()
    deadline = appeal_window(case)
    if now > deadline.at:
        raise Conflict(
            "appeal_too_late",
            _("an appeal must be filed within 2 working days of receiving the bad review, that is by %(due)s")
            % {"due": _fmt(deadline.at)},
        )
    checked = _check_files(list(files))
    decide = APPEAL_DECIDE.after(now)
    stored_reasons, reasons_sealed = seal_free_text(reasons)
    appeal = Appeal.objects.create(
        case=case,
        region_id=case.region_id,
        reasons=stored_reasons,
        reasons_sealed=reasons_sealed,
        filed_by=actor.user,
        filed_by_client=actor.client,
        filed_by_label=str(actor.label)[:150],
        filed_at=now,
        decide_due=decide.at,
        provisional=decide.provisional,
    )
    event = _event(case, actor=actor, action="appeal", at=now, note=reasons, data={"appeal": appeal.pk})
    _store_files(case, checked, event=event, appeal=appeal, now=now)
    message_send(
        at=now,
        kind=Message.Kind.APPEAL,
        case=case,
        to_region=case.region,
        text=_("An appeal against case %(id)s awaits your decision by %(due)s.")
        % {"id": case.pk, "due": _fmt(decide.at)},
    )
    return appeal


@transaction.atomic
def appeal_decide(*, actor: Actor, appeal: Appeal, upheld: bool, note: str = "") -> Appeal:
    """A second person, a manager, decides; upheld → the rating is not adopted and the case
    closes as such."""
    appeal = Appeal.objects.select_for_update().select_related("region").get(pk=appeal.pk)
    # R14: never the one who filed it.
    access_decide(
        actor,
        region=appeal.region,
        requested_by_id=appeal.filed_by_id,
        requested_by_client_id=appeal.filed_by_client_id,
    )
    if appeal.state != Appeal.State.PENDING:
        raise Conflict("already_decided", _("this appeal has been decided already"))
    if not isinstance(upheld, bool):
        raise Invalid("required", _("upheld: true or false"), field="upheld")
    note = _note(note, "note", required=False)
    now = timezone.now()
    case = _locked(appeal.case)
    appeal.state = Appeal.State.UPHELD if upheld else Appeal.State.REJECTED
    appeal.decided_at = now
    appeal.decided_by_label = str(actor.label)[:150]
    appeal.decision_note, appeal.decision_note_sealed = seal_free_text(note)
    appeal.save(update_fields=["state", "decided_at", "decided_by_label", "decision_note", "decision_note_sealed"])
    late = now > appeal.decide_due
    data = {"appeal": appeal.pk, "late": late}
    if upheld and case.state != S.CLOSED:
        change = Change(
            fields={
                "invalid": True,
                "invalid_reason": BadReviewCase.Invalidity.APPEAL,
                "closed_at": now,
                **_step(case, start=now, due=None),
            },
            note=note,
            data=data,
        )
        _transition(case, actor=actor, action="uphold_appeal", target=S.CLOSED, change=change, now=now)
        _tell_staff_of_closing(case, now)
    elif upheld:
        # R14: upheld means not adopted, even when the case was closed while the appeal waited.
        case.invalid = True
        case.invalid_reason = BadReviewCase.Invalidity.APPEAL
        case.save(update_fields=["invalid", "invalid_reason"])
        _event(case, actor=actor, action="uphold_appeal", at=now, note=note, data=data)
    else:
        _event(case, actor=actor, action="reject_appeal", at=now, note=note, data=data)
    # Both sides are told: the appellant and the evaluator.
    decision = _("upheld: the rating is not adopted") if upheld else _("rejected: the case goes on")
    text = _("The appeal against case %(id)s was %(decision)s.") % {"id": case.pk, "decision": decision}
    if appeal.decision_note:
        text = _("The appeal against case %(id)s was %(decision)s. The decision says: %(note)s") % {
            "id": case.pk,
            "decision": decision,
            "note": appeal.decision_note,
        }
    if appeal.filed_by_id is not None and appeal.filed_by_id in _staff_users(case):
        # The rated staff member's own appeal: told as they may read it (R10).
        text = _for_staff(case, text)
    message_send(
        at=now,
        kind=Message.Kind.APPEAL,
        case=case,
        to_user=appeal.filed_by,
        to_unit_id=None if appeal.filed_by else case.unit_id,
        text=text,
    )
    if case.evaluator_id:
        message_to_evaluator(
            at=now,
            kind=Message.Kind.APPEAL,
            case=case,
            template=sms.APPEAL_DECIDED,
            item=case.item.name,
            decision="not_adopted" if upheld else "kept",
        )
    return appeal


# ---------------------------------------------------------------------------------------------
# Personal data


def case_reveal_evaluator(*, actor: Actor, case: BadReviewCase, reason: str) -> dict[str, str]:
    """The evaluator's contact in full, for a handler who must call them; always audited (R10)."""
    if not access_identity(actor):
        raise Forbidden("forbidden", _("staff members never see who rated them"))
    # Only the responsible unit (a consulted one does not call the evaluator) or the region's management.
    access_case_act(actor, case, "handler" if actor.has("handler") else "manager")
    reason = _note(reason, "reason", required=True)
    person = case.evaluator
    if person is None:
        raise NotFound("not_found", _("this rating has no evaluator contact"))
    audit_record(
        actor=actor.user or actor.client or actor.label,
        action=AuditEntry.Action.REVEAL_PERSONAL_DATA,
        target=f"case {case.pk} evaluator",
        reason=reason,
    )
    return {"name": person.name or "", "phone": person.phone or "", "id_number": person.id_number or ""}


def case_evaluator_masked(case: BadReviewCase) -> dict[str, str]:
    person = case.evaluator
    if person is None:
        return {"name": "", "phone": "", "id_number": ""}
    return {
        "name": mask_name(person.name or ""),
        "phone": mask_phone(person.phone or ""),
        "id_number": mask_id_number(person.id_number or ""),
    }


# ---------------------------------------------------------------------------------------------
# The registry of malicious evaluators (R15)


@transaction.atomic
def blocked_evaluator_add(*, actor: Actor, case: BadReviewCase, reason: str) -> BlockedEvaluator:
    if not actor.has("manager"):
        raise Forbidden("forbidden", _("only a manager may add to the registry"))
    # Decide on the stored case, not on whatever copy the caller holds.
    case = _locked(case)
    access_case_region(actor, case.region)
    # R15: "found malicious" is the manager's approved invalidation, not the handler's classification,
    # which the manager may still reject.
    if not (case.invalid and case.invalid_reason == BadReviewCase.Invalidity.MALICIOUS):
        raise Conflict("not_malicious", _("only an evaluator whose rating was found malicious may be added"))
    person = case.evaluator
    if person is None:
        raise Conflict("no_identity", _("this rating has no phone or ID number to match"))
    reason = _note(reason, "reason", required=True)
    now = timezone.now()
    entry = registry_add(
        region_id=case.region_id,
        phone_digest=person.phone_digest,
        id_digest=person.id_digest,
        cert_digest=person.cert_digest,
        case_id=case.pk,
        reason=reason,
        added_by_label=str(actor.label),
        now=now,
    )
    _event(case, actor=actor, action="block_evaluator", at=now, note=reason, data={"entry": entry.pk})
    audit_record(
        actor=actor.user or actor.client or actor.label,
        action=AuditEntry.Action.BLOCK_EVALUATOR,
        target=f"blocked evaluator {entry.pk} (case {case.pk})",
        reason=reason,
    )
    return entry


@transaction.atomic
def blocked_evaluator_remove(*, actor: Actor, entry: BlockedEvaluator, reason: str) -> BlockedEvaluator:
    if not actor.has("manager"):
        raise Forbidden("forbidden", _("only a manager may remove from the registry"))
    access_case_region(actor, BlockedEvaluator.objects.select_related("region").get(pk=entry.pk).region)
    reason = _note(reason, "reason", required=True)
    entry = registry_remove(entry=entry, reason=reason, removed_by_label=str(actor.label), now=timezone.now())
    audit_record(
        actor=actor.user or actor.client or actor.label,
        action=AuditEntry.Action.UNBLOCK_EVALUATOR,
        target=f"blocked evaluator {entry.pk}",
        reason=reason,
    )
    return entry


# ---------------------------------------------------------------------------------------------
# Spot checks (R13)


@transaction.atomic
def spot_check_draw(
    *,
    actor: Actor,
    region: Region,
    closed_from: dt.date,
    closed_to: dt.date,
    share: float | None = None,
    count: int | None = None,
    rng: random.Random | None = None,
) -> SpotCheck:
    if not manages(actor, region):
        raise Forbidden("forbidden", _("a manager may spot-check only their own region"))
    if closed_from > closed_to:
        raise Invalid("invalid", _("closed_to: must not be before closed_from"), field="closed_to")
    if (share is None) == (count is None):
        raise Invalid("invalid", _("give either a share or a count"), field="share")
    if share is not None and not 0 < share <= 1:
        raise Invalid("invalid", _("share: a fraction above 0 and at most 1"), field="share")
    if count is not None and not 1 <= count <= 1000:
        raise Invalid("invalid", _("count: from 1 to 1000"), field="count")
    start = timezone.make_aware(dt.datetime.combine(closed_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(closed_to + dt.timedelta(days=1), dt.time.min))
    pool = list(
        BadReviewCase.objects.filter(within_region(region), state=S.CLOSED, closed_at__gte=start, closed_at__lt=end)
        # R13 checks the units' verification and rectification; an upheld appeal was management's own
        # decision, and such a case cannot be reopened. A lower system's case is checked there.
        .exclude(invalid_reason=BadReviewCase.Invalidity.APPEAL)
        .exclude(deadline_rules=IMPORTED_RULES)
        # A fixed order, so that a seeded generator draws the same sample every time.
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not pool:
        raise Conflict("nothing_to_check", _("no case was closed in this region in that period"))
    # At least the share asked for: 50% of 5 is 3. (round() would give 2 here but 4 for 50% of 7.)
    size = count if count is not None else max(1, math.ceil(Decimal(str(share)) * len(pool)))
    chosen = (rng or random.SystemRandom()).sample(pool, min(size, len(pool)))
    check = SpotCheck.objects.create(
        region=region,
        drawn_by_label=str(actor.label)[:150],
        drawn_at=timezone.now(),
        closed_from=closed_from,
        closed_to=closed_to,
        population=len(pool),
    )
    SpotCheckItem.objects.bulk_create([SpotCheckItem(spot_check=check, case_id=pk) for pk in sorted(chosen)])
    return check


@transaction.atomic
def spot_check_record(*, actor: Actor, item: SpotCheckItem, passed: bool, note: str) -> SpotCheckItem:
    """A check result; a failed check reopens the case at its unit."""
    if not manages(actor, item.spot_check.region):
        raise Forbidden("forbidden", _("a manager may spot-check only their own region"))
    item = SpotCheckItem.objects.select_for_update().select_related("case").get(pk=item.pk)
    if item.result != SpotCheckItem.Result.PENDING:
        raise Conflict("already_checked", _("this case has been checked already"))
    note = _note(note, "note", required=not passed)
    item.result = SpotCheckItem.Result.PASSED if passed else SpotCheckItem.Result.FAILED
    item.note, item.note_sealed = seal_free_text(note)
    item.checked_by_label = str(actor.label)[:150]
    item.checked_at = timezone.now()
    item.save(update_fields=["result", "note", "note_sealed", "checked_by_label", "checked_at"])
    case = item.case
    _event(
        case,
        actor=actor,
        action="spot_check",
        at=item.checked_at,
        note=note,
        data={"passed": passed, "check": item.spot_check_id},
    )
    if not passed and case.state == S.CLOSED:
        case_act(actor=actor, case=case, action="reopen", fields={"note": note})
        # The outbox keeps no free text: the reasons are in the case's history, masked like every note.
        message_send(
            kind=Message.Kind.ESCALATION,
            case=case,
            to_unit_id=case.unit_id,
            text=_("Case %(id)s failed a spot check and was reopened; the reasons are in its history.")
            % {"id": case.pk},
        )
    return item


# ---------------------------------------------------------------------------------------------
# Messages


def messages_mark_read(*, actor: Actor, user: Any, message_ids: Sequence[int]) -> int:
    """Mark messages of the user's inbox read for them; others' messages are left alone. Returns
    how many were newly marked."""
    from haoping.rectification.selectors import messages_for

    mine = messages_for(actor=actor, user=user).filter(pk__in=list(message_ids)[:200]).exclude(reads__user=user)
    now = timezone.now()
    created = MessageRead.objects.bulk_create(
        [MessageRead(message_id=pk, user=user, read_at=now) for pk in mine.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )
    return len(created)


# ---------------------------------------------------------------------------------------------
# The deadline sweep


@dataclass
class SweepResult:
    warned: int = 0
    overdue: int = 0
    # Rated staff members told of a new bad review.
    told: int = 0


def cases_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Tell rated staff members of new bad reviews, warn handlers whose time is mostly used, mark
    overdue cases and escalate them to the manager.

    Idempotent and safe to run concurrently: each case is claimed with a conditional update.
    """
    now = now or timezone.now()
    result = SweepResult()
    system = actor_system()
    untold = BadReviewCase.objects.filter(staff_told_at__isnull=True, staff__isnull=False, opened_at__lte=now)
    for case in untold.select_related("item", "evaluation", "record__applicant", "record__agent", "evaluator"):
        with transaction.atomic():
            if not BadReviewCase.objects.filter(pk=case.pk, staff_told_at__isnull=True).update(staff_told_at=now):
                continue
            result.told += _tell_staff_of_review(case, case.evaluation, now)
    warn = BadReviewCase.objects.filter(warn_at__lte=now, warned_at__isnull=True, due_at__gt=now).exclude(
        state=S.CLOSED
    )
    for case in warn.select_related("region").iterator():
        with transaction.atomic():
            if not BadReviewCase.objects.filter(pk=case.pk, warned_at__isnull=True, due_at=case.due_at).update(
                warned_at=now
            ):
                continue
            step = case_step_name(case)
            _event(
                case,
                actor=system,
                action="warned",
                at=now,
                data={"due_at": case.due_at.isoformat() if case.due_at else None, "step": step_of(case.state)},
            )
            message_send(
                at=now,
                kind=Message.Kind.WARNING,
                case=case,
                to_unit_id=case.unit_id,
                text=_("Case %(id)s: %(step)s is due at %(due)s.")
                % {"id": case.pk, "step": step, "due": _fmt(case.due_at or now)},
            )
            result.warned += 1
    # R12: `due_at` is the deadline of the step the case is in (each step stores its own when it
    # starts), so a step done on time never makes the case late; the claim below checks that it is
    # still the same step's deadline.
    late = BadReviewCase.objects.filter(due_at__lt=now, overdue_at__isnull=True).exclude(state=S.CLOSED)
    for case in late.select_related("region", "unit").iterator():
        with transaction.atomic():
            claimed = BadReviewCase.objects.filter(
                pk=case.pk, overdue_at__isnull=True, due_at=case.due_at, state=case.state
            ).update(overdue_at=now, escalated_at=now, was_overdue=True)
            if not claimed:
                continue
            due = _fmt(case.due_at or now)
            step = case_step_name(case)
            _event(case, actor=system, action="overdue", at=now, data={"due_at": due, "step": step_of(case.state)})
            message_send(
                at=now,
                kind=Message.Kind.OVERDUE,
                case=case,
                to_unit_id=case.unit_id,
                text=_("Case %(id)s is overdue: %(step)s was due %(due)s.") % {"id": case.pk, "step": step, "due": due},
            )
            _event(case, actor=system, action="escalated", at=now)
            message_send(
                at=now,
                kind=Message.Kind.ESCALATION,
                case=case,
                to_region=case.region,
                text=_("Case %(id)s at %(unit)s is overdue: %(step)s was due %(due)s.")
                % {"id": case.pk, "unit": case.unit.name, "step": step, "due": due},
            )
            result.overdue += 1
    return result


__all__ = [
    "INVALID_CATEGORIES",
    "appeal_decide",
    "appeal_file",
    "blocked_evaluator_add",
    "blocked_evaluator_remove",
    "case_act",
    "case_open",
    "case_reveal_evaluator",
    "case_revisit_by_evaluator",
    "cases_sweep",
    "spot_check_draw",
    "spot_check_record",
]
