"""Reads for bad-review handling. Every query starts from what the acting person may see."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.accounts.access import Actor, access_identity, case_scope
from haoping.errors import NotFound
from haoping.lib.masking import mask_text, redact_text
from haoping.rectification.deadlines import (
    CLASSIFY,
    CONTACT,
    HANDLING,
    HANDLING_COVERS,
    STEP_NAMES,
    rules_for,
    step_of,
)
from haoping.rectification.models import Appeal, BadReviewCase, BlockedEvaluator, SpotCheck
from haoping.rectification.workflow import WORKFLOW, allowed_actions

S = BadReviewCase.State
CASE_RELATED = ("unit", "item", "record", "institution", "window", "staff", "region")


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


@dataclass
class CaseFilters:
    state: str | None = None
    record_no: str | None = None
    overdue: bool | None = None
    unit: str | None = None
    item: str | None = None
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None


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
    if filters.opened_from:
        qs = qs.filter(opened_at__gte=_day_start(filters.opened_from))
    if filters.opened_to:
        qs = qs.filter(opened_at__lt=_day_start(filters.opened_to + dt.timedelta(days=1)))
    if filters.overdue is True:
        qs = qs.filter(overdue_q(now))
    elif filters.overdue is False:
        qs = qs.exclude(overdue_q(now))
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
    actions = allowed_actions(state=case.state, category=case.category, roles=actor.roles)
    if actor.has("handler") and actor.unit_id is not None and case.unit_id != actor.unit_id:
        # A consulted unit reads the case; only the responsible unit works it. What is left is what
        # the actor may do in a role other than handler (revisit and close name both roles).
        actions = [a for a in actions if (WORKFLOW[a].roles & actor.roles) - {"handler"}]
    return actions


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
    return BlockedEvaluator.objects.filter(region__path__startswith=actor.region.path).order_by("-added_at")


def spot_checks_visible(*, actor: Actor) -> QuerySet[SpotCheck]:
    if actor.region is None:
        return SpotCheck.objects.none()
    return SpotCheck.objects.filter(region__path__startswith=actor.region.path)


def case_counts_by_state(*, actor: Actor) -> dict[str, int]:
    rows = cases_visible(actor).values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}
