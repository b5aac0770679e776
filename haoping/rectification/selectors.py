"""Reads for bad-review handling. Every query starts from what the acting person may see."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.accounts.access import Actor, access_identity, within_region
from haoping.errors import NotFound
from haoping.evaluations.models import BlockedEvaluator
from haoping.lib.masking import mask_text, redact_text
from haoping.lib.numbers import whole_number
from haoping.records.services import phone_tail_digest
from haoping.rectification.deadlines import (
    CLASSIFY,
    CONTACT,
    HANDLING,
    HANDLING_COVERS,
    IMPORTED_RULES,
    STEP_NAMES,
    rules_for,
    step_of,
)
from haoping.rectification.models import (
    Appeal,
    BadReviewCase,
    CaseEvent,
    Consultation,
    Evidence,
    Message,
    MessageRead,
    SpotCheck,
)
from haoping.rectification.workflow import WORKFLOW, allowed_actions
from haoping.workdays.selectors import workday_hours_between

S = BadReviewCase.State
CASE_RELATED = ("unit", "item", "record", "institution", "window", "staff", "region")


def case_scope(actor: Actor) -> Q:
    """The cases an actor may see: a manager's or client's subtree, a unit's own and consulted
    cases, a staff member's own. Everything else does not exist for them."""
    if actor.region is not None:
        return within_region(actor.region)
    if actor.unit_id is not None:
        # A subquery, not a join, so that a case consulted on twice is still one row.
        consulted = Consultation.objects.filter(case=OuterRef("pk"), unit_id=actor.unit_id)
        return Q(unit_id=actor.unit_id) | Q(Exists(consulted))
    if actor.staff_id is not None:
        return Q(staff_id=actor.staff_id)
    return Q(pk__in=[])


def cases_visible(actor: Actor) -> QuerySet[BadReviewCase]:
    return BadReviewCase.objects.select_related(*CASE_RELATED).filter(case_scope(actor))


def case_text_shown(*, actor: Actor, case: BadReviewCase | None) -> Callable[[str], str]:
    """R10: how free text about a case (comment, notes, explanations, answers, appeals, messages) is
    shown to this actor. Those who may learn who rated see phone and ID numbers masked; anyone else,
    above all the rated staff member, sees them removed, and the evaluator's names with them."""
    if access_identity(actor):
        return mask_text
    names: list[str] = []
    if case is not None:
        record = case.record
        for person in (record.applicant, record.agent, case.evaluator):
            if person is not None and person.name:
                names.append(person.name)
    return functools.partial(redact_text, names=names)


def overdue_q(now: dt.datetime) -> Q:
    return ~Q(state=S.CLOSED) & (Q(overdue_at__isnull=False) | Q(due_at__lt=now))


def nearly_due_q(now: dt.datetime) -> Q:
    """Open, not overdue, and past the moment the handler is warned (as `case_nearly_due`)."""
    return ~Q(state=S.CLOSED) & ~overdue_q(now) & Q(warn_at__lte=now)


@dataclass
class CaseFilters:
    state: str | None = None
    record_no: str | None = None
    overdue: bool | None = None
    nearly_due: bool = False
    open_only: bool = False
    unit: str | None = None
    item: str | None = None
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None
    # One search box: an item's name, a receipt (回执码), a record number, or a phone's last 4 digits.
    search: str | None = None


def case_search_q(text: str, *, identity: bool) -> Q:
    """The cases a search matches. A phone's last four digits are matched through their keyed
    digest (stored at intake), never by decrypting. R10: those who may not learn who rated (the
    rated staff) search by item name only: a receipt, a record number or a phone would tell them."""
    text = text.strip()
    q = Q(item__name__icontains=text)
    if not identity:
        return q
    q |= Q(receipt=text) | Q(record__record_no=text)
    if len(text) == 4 and whole_number(text) is not None:
        tail = phone_tail_digest(text)
        q |= Q(evaluator__phone_tail_digest=tail)
        q |= Q(record__applicant__phone_tail_digest=tail) | Q(record__agent__phone_tail_digest=tail)
    return q


def case_list(*, actor: Actor, filters: CaseFilters, now: dt.datetime | None = None) -> QuerySet[BadReviewCase]:
    """Open cases first, by what is due soonest; closed ones after, newest first."""
    now = now or timezone.now()
    qs = cases_visible(actor)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.record_no:
        qs = qs.filter(record__record_no=filters.record_no)
    if filters.unit:
        qs = qs.filter(unit__code=filters.unit)
    if filters.item:
        qs = qs.filter(item__code=filters.item)
    if filters.search and filters.search.strip():
        qs = qs.filter(case_search_q(filters.search, identity=access_identity(actor)))
    if filters.opened_from:
        qs = qs.filter(opened_at__gte=_day_start(filters.opened_from))
    if filters.opened_to:
        qs = qs.filter(opened_at__lt=_day_start(filters.opened_to + dt.timedelta(days=1)))
    if filters.overdue is True:
        qs = qs.filter(overdue_q(now))
    elif filters.overdue is False:
        qs = qs.exclude(overdue_q(now))
    if filters.nearly_due:
        qs = qs.filter(nearly_due_q(now))
    if filters.open_only:
        qs = qs.exclude(state=S.CLOSED)
    closed_last = Case(When(state=S.CLOSED, then=Value(1)), default=Value(0))
    return qs.order_by(closed_last, F("due_at").asc(nulls_last=True), F("closed_at").desc(nulls_last=True), "-id")


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def case_get(*, actor: Actor, case_id: int) -> BadReviewCase:
    """A case the actor may see; anything else is 404, so that its existence does not leak."""
    case = cases_visible(actor).filter(pk=case_id).first()
    if case is None:
        raise NotFound("not_found", _("case %(id)s not found") % {"id": case_id})
    return case


def case_is_overdue(case: BadReviewCase, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if case.state == S.CLOSED:
        return False
    return case.overdue_at is not None or (case.due_at is not None and case.due_at < now)


def case_nearly_due(case: BadReviewCase, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        case.state != S.CLOSED and not case_is_overdue(case, now) and case.warn_at is not None and case.warn_at <= now
    )


@dataclass(frozen=True)
class TimeLeft:
    """The time left in a case's running step (negative: overdue by that much), in working hours
    when the step is counted in working days, else in clock hours."""

    hours: float
    working: bool

    @property
    def overdue(self) -> bool:
        return self.hours < 0

    @property
    def whole_hours(self) -> int:
        # To the nearest hour (a deadline at 23:59:59 leaves 24 hours of its day, not 23), at least one:
        # "1 hour left" until the deadline, "overdue by 1 hour" just after it.
        return max(1, math.floor(abs(self.hours) + 0.5))


def case_time_left(case: BadReviewCase, now: dt.datetime | None = None) -> TimeLeft | None:
    """R12: how long the handler has left in the current step, by the rules the case follows."""
    now = now or timezone.now()
    if case.state == S.CLOSED or case.due_at is None:
        return None
    span = rules_for(case.deadline_rules).step(case.state, case.category)
    if span is not None and span.unit == "workdays":
        return TimeLeft(workday_hours_between(now, case.due_at), working=True)
    return TimeLeft((case.due_at - now).total_seconds() / 3600, working=False)


@dataclass(frozen=True)
class ConsoleCounts:
    todo: int
    nearly_due: int
    overdue: int
    unread: int


def console_counts(*, actor: Actor, user: Any, now: dt.datetime | None = None) -> ConsoleCounts:
    """What the navigation counts: open cases, those nearly due and overdue, unread messages."""
    now = now or timezone.now()
    late, nearly = overdue_q(now), nearly_due_q(now)
    counts = (
        cases_visible(actor)
        .exclude(state=S.CLOSED)
        .aggregate(
            todo=Count("id"),
            nearly_due=Count("id", filter=nearly),
            overdue=Count("id", filter=late),
        )
    )
    unread = messages_for(actor=actor, user=user).exclude(reads__user=user).count() if user else 0
    return ConsoleCounts(counts["todo"], counts["nearly_due"], counts["overdue"], unread)


def messages_for(*, actor: Actor, user: Any) -> QuerySet[Message]:
    """The messages for the user, their unit, or their region (managers)."""
    mine = Q(to_user=user)
    if actor.unit_id is not None:
        mine |= Q(to_unit_id=actor.unit_id)
    if actor.region is not None:
        mine |= Q(to_region_id=actor.region.pk)
    return Message.objects.filter(mine)


def messages_read(*, user: Any, messages: list[Message]) -> set[int]:
    """Which of these messages the user has read."""
    return set(
        MessageRead.objects.filter(user=user, message__in=[m.pk for m in messages]).values_list("message_id", flat=True)
    )


# The notices that ask a manager to decide, and the timeline actions that decide them.
DECIDING = {
    Message.Kind.INVALIDATION: ("approve_invalidation", "reject_invalidation"),
    Message.Kind.EXTENSION: ("approve_extension", "reject_extension"),
    Message.Kind.APPEAL: ("uphold_appeal", "reject_appeal"),
}


def notices_decided(messages: list[Message]) -> dict[int, bool]:
    """For each notice that asked a region's managers for a decision: whether it has been decided
    (a decision on its case after it was sent). Other messages are left out."""
    asking = [m for m in messages if m.to_region_id is not None and m.kind in DECIDING and m.case_id is not None]
    if not asking:
        return {}
    actions = {a for m in asking for a in DECIDING[Message.Kind(m.kind)]}
    decisions: dict[int, list[tuple[str, dt.datetime]]] = {}
    rows = CaseEvent.objects.filter(case_id__in={m.case_id for m in asking}, action__in=actions)
    for case_id, action, at in rows.values_list("case_id", "action", "at"):
        decisions.setdefault(case_id, []).append((action, at))
    return {
        m.pk: any(
            action in DECIDING[Message.Kind(m.kind)] and at >= m.created_at
            for action, at in decisions.get(m.case_id or 0, [])
        )
        for m in asking
    }


def case_classification_bundled(case: BadReviewCase) -> bool:
    """Whether the contact deadline covers the classification too: the case's rules say so, or (a case
    contacted under earlier rules) no classification deadline was stored when it was contacted."""
    if case.state == S.OPEN or case.contacted_at is None:
        return rules_for(case.deadline_rules).classify is None
    return case.classify_due is None


def case_step_name(case: BadReviewCase) -> str:
    """R12: what the deadline the case is running against is for (empty when nothing is due)."""
    step = step_of(case.state)
    if step is None or case.due_at is None:
        return ""
    if step in (CONTACT, CLASSIFY) and case_classification_bundled(case):
        return str(_BUNDLED_CONTACT)
    return str(STEP_NAMES[step])


_BUNDLED_CONTACT = gettext_lazy("contact, verification and classification")


@dataclass(frozen=True)
class StepDeadline:
    """One timed step of a case as the case page shows it."""

    step: str
    name: str
    due: dt.datetime | None
    done_at: dt.datetime | None
    # running: the case is in this step; done: the case is past it; else not reached yet.
    running: bool
    done: bool
    late: bool
    # When one deadline covers more than one step (by the region's rules), the steps it covers.
    covers: tuple[str, ...] = ()


def case_step_deadlines(case: BadReviewCase, now: dt.datetime | None = None) -> list[StepDeadline]:
    """R12: each step's deadline by name, in order, with whether it was met."""
    now = now or timezone.now()
    current = step_of(case.state)
    order = [CONTACT, CLASSIFY, HANDLING]
    reached = order.index(current) if current else len(order)
    bundled = case_classification_bundled(case)
    rows = []
    for index, step in enumerate(order):
        if step == CLASSIFY and bundled:
            continue
        due, done_at = {
            CONTACT: (case.contact_due, case.classified_at if bundled else case.contacted_at),
            CLASSIFY: (case.classify_due, case.classified_at),
            HANDLING: (case.resolve_due, case.replied_at),
        }[step]
        running = index == reached or (step == CONTACT and bundled and current == CLASSIFY)
        done = not running and index < reached
        if running:
            # The running step's deadline is the case's (an approved extension has moved it).
            due = case.due_at
            late = case.state != S.CLOSED and (case.overdue_at is not None or (due is not None and due < now))
        else:
            late = done and due is not None and done_at is not None and done_at > due
        name = str(STEP_NAMES[step])
        covers: tuple[str, ...] = ()
        if step == CONTACT and bundled:
            name, covers = str(_BUNDLED_CONTACT), (str(STEP_NAMES[CONTACT]), str(STEP_NAMES[CLASSIFY]))
        elif step == HANDLING:
            covers = tuple(str(c) for c in HANDLING_COVERS)
        rows.append(
            StepDeadline(
                step=step,
                name=name,
                due=due if (running or done or step == CONTACT) else None,
                done_at=done_at if done else None,
                running=running,
                done=done,
                late=late,
                covers=covers,
            )
        )
    return rows


def case_allowed_actions(*, actor: Actor, case: BadReviewCase) -> list[str]:
    if case.deadline_rules == IMPORTED_RULES:
        # R21: a lower system's case, worked there; here it is only counted.
        return []
    actions = allowed_actions(
        state=case.state,
        category=case.category,
        roles=actor.roles,
        escalated=case.escalated_at is not None,
        api=actor.client is not None,
    )
    if actor.has("handler") and actor.unit_id is not None and case.unit_id != actor.unit_id:
        # A consulted unit reads the case; only the responsible unit works it. What is left is what
        # the actor may do in a role other than handler (revisit and close name both roles).
        actions = [a for a in actions if (WORKFLOW[a].roles & actor.roles) - {"handler"}]
    return actions


def evidence_visible(*, actor: Actor) -> QuerySet[Evidence]:
    """Evidence of the cases the actor may see. R10: a rated staff member gets only what came with
    their own appeal; the unit's files (a call record, a photo at the counter) may show the rater."""
    files = Evidence.objects.filter(case__in=cases_visible(actor))
    if access_identity(actor):
        return files
    if actor.user is None:
        return files.none()
    return files.filter(appeal__filed_by=actor.user)


def appeal_get(*, actor: Actor, appeal_id: int) -> Appeal:
    appeal = Appeal.objects.select_related("case").filter(pk=appeal_id, case__in=cases_visible(actor)).first()
    if appeal is None:
        raise NotFound("not_found", _("appeal %(id)s not found") % {"id": appeal_id})
    return appeal


def appeal_is_late(appeal: Appeal, now: dt.datetime | None = None) -> bool:
    """Decided after its deadline, or still pending past it (R14: 5 working days)."""
    now = now or timezone.now()
    return (appeal.decided_at or now) > appeal.decide_due


def appeals_pending(*, actor: Actor) -> QuerySet[Appeal]:
    return (
        Appeal.objects.select_related("case", "case__unit", "case__item")
        .filter(state=Appeal.State.PENDING, case__in=cases_visible(actor))
        .order_by("decide_due")
    )


def appeals_filed(*, actor: Actor) -> QuerySet[Appeal]:
    """The appeals this console user filed, newest first: a rated staff member's own (R14)."""
    if actor.user is None:
        return Appeal.objects.none()
    return (
        Appeal.objects.select_related(
            "case", "case__item", "case__record__applicant", "case__record__agent", "case__evaluator"
        )
        .filter(filed_by=actor.user, case__in=cases_visible(actor))
        .order_by("-filed_at", "-id")
    )


def cases_not_appealed(*, actor: Actor) -> QuerySet[BadReviewCase]:
    """The actor's open cases without an appeal (whether the time to appeal is still running is
    rectification.services.appeal_window's to say)."""
    return cases_visible(actor).exclude(state=S.CLOSED).filter(appeals__isnull=True).order_by("-opened_at", "-id")


def blocked_visible(*, actor: Actor) -> QuerySet[BlockedEvaluator]:
    if actor.region is None:
        return BlockedEvaluator.objects.none()
    return BlockedEvaluator.objects.filter(within_region(actor.region)).order_by("-added_at")


def spot_checks_visible(*, actor: Actor) -> QuerySet[SpotCheck]:
    if actor.region is None:
        return SpotCheck.objects.none()
    return SpotCheck.objects.filter(within_region(actor.region))


def case_counts_by_state(*, actor: Actor) -> dict[str, int]:
    rows = cases_visible(actor).values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}
