"""The demo's bad-review cases (差评工单), opened and worked through the rectification services.

History's ratings are bulk-inserted, so no case was opened for them. Here every bad submission
gets its case through `case_open`, at the moment the rating was stored, and is played forward
through `case_act` with a `now` in the past: contact, classification, rectification, answer,
revisit. Old cases end closed, by several paths; the newest are left in every open state. The
deadline sweep runs on the replayed clock, as huey would have, so that late steps were warned,
marked overdue and escalated when they happened.

Appeals, the registry of malicious evaluators and spot checks act at the current time only, so
they come last: appeals on cases opened just now by bad ratings through `evaluation_submit`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from haoping.accounts.access import Actor, actor_evaluator, actor_for_user
from haoping.accounts.models import ApiClient
from haoping.demo import catalog as words
from haoping.demo.catalog import CITY_CODE, GIVEN_CHARS, SURNAMES
from haoping.demo.ratings import KEEP_OPEN
from haoping.directory.models import Department, Region, path_within
from haoping.directory.selectors import policy_for_region
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.rules import Party, RecordParties
from haoping.evaluations.services import blocked_exists, evaluation_submit
from haoping.records.links import token_for
from haoping.records.models import RatingSlot, ServiceRecord
from haoping.rectification.deadlines import Rules, rules_for
from haoping.rectification.models import BadReviewCase
from haoping.rectification.selectors import overdue_q
from haoping.rectification.services import (
    appeal_decide,
    appeal_file,
    blocked_evaluator_add,
    case_act,
    case_open,
    cases_sweep,
    spot_check_draw,
    spot_check_record,
)
from haoping.workdays.selectors import add_days, add_workdays

S = BadReviewCase.State
C = BadReviewCase.Category

# The sweep runs every few minutes under huey; on the hour is close enough for history.
SWEEP_EVERY = dt.timedelta(hours=1)
# How the cases old enough to have closed went, by weight.
STORIES: dict[str, float] = {
    "rectified": 58,
    "unsatisfied": 8,
    "unreachable": 5,
    "no_legal_basis": 9,
    "extension": 6,
    "dispatched": 4,
    "mistaken": 2,
    "invalidation_rejected": 2,
    "malicious": 0.3,
}
# Each told at least once, on old cases, so that the demo shows every path.
REQUIRED_STORIES = (
    "malicious",
    "mistaken",
    "invalidation_rejected",
    "no_legal_basis",
    "unsatisfied",
    "unreachable",
    "consulted",
    "extension",
    "dispatched",
)
# The newest cases are left in these states (newest first), with the story that leads there.
SHOWN_STATES: tuple[tuple[str, str], ...] = (
    (S.OPEN, "rectified"),
    (S.CONTACTED, "rectified"),
    (S.HANDLING, "rectified"),
    (S.INVALIDATION_REQUESTED, "mistaken"),
    (S.EXTENSION_REQUESTED, "extension"),
    (S.RESOLVED, "rectified"),
    (S.REPLIED, "rectified"),
)
# Where each action leaves a case (revisit: where a satisfied one goes).
RESULTS = {
    "dispatch": S.OPEN,
    "contact": S.CONTACTED,
    "classify": S.HANDLING,
    "rectify": S.RESOLVED,
    "explain": S.RESOLVED,
    "request_invalidation": S.INVALIDATION_REQUESTED,
    "approve_invalidation": S.CLOSED,
    "reject_invalidation": S.HANDLING,
    "request_extension": S.EXTENSION_REQUESTED,
    "approve_extension": S.HANDLING,
    "reject_extension": S.HANDLING,
    "start_consultation": S.HANDLING,
    "reply": S.REPLIED,
    "revisit": S.CLOSED,
    "close": S.CLOSED,
}
SPOT_CHECK_SIZE = 6
SPOT_CHECK_PERIOD = dt.timedelta(days=30)


@dataclass
class CaseReport:
    cases: int
    by_state: dict[str, int]
    overdue: int


@dataclass
class Step:
    at: dt.datetime
    action: str
    by: str  # "handler", "manager" or "evaluator"
    fields: dict[str, Any]


@dataclass
class Plan:
    """One bad submission: its rows (lead first), who rated, and how its case goes."""

    rows: list[Evaluation]
    evaluator_id: int | None
    story: str = "rectified"
    steps: list[Step] = field(default_factory=list)
    case: BadReviewCase | None = None

    @property
    def lead(self) -> Evaluation:
        return self.rows[0]

    @property
    def opened_at(self) -> dt.datetime:
        # As evaluation_submit: the case opens when the rating is stored (paper forms are keyed in later).
        return self.lead.created_at


def cases_load(*, rng: random.Random, client: ApiClient, usernames: list[str]) -> CaseReport:
    """Open and work a case for every bad submission, then the appeals, registry and spot check."""
    now = timezone.now()
    units = Units()
    cast = Cast(rng, units, usernames)
    plans = _plans()
    Storyteller(rng, units, now).tell(plans)
    with _quiet_outbox():
        _replay(plans, cast, now)
        _block_one(plans, cast)
        _appeals(rng, client, cast)
        _spot_check(rng, cast)
        cases_sweep(now=timezone.now())
    return _report()


@contextmanager
def _quiet_outbox() -> Iterator[None]:
    """The outbox logs each message it hands to the gateway: thousands of lines would bury the logins."""
    logger = logging.getLogger("haoping.messages")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- who is who ------------------------------------------------------------------------------


class Units:
    """Departments and regions, looked up once."""

    def __init__(self) -> None:
        self.regions = {r.pk: r for r in Region.objects.all()}
        self.units = {d.pk: d for d in Department.objects.all()}
        self.by_code = {d.code: d for d in self.units.values()}
        self.in_region: dict[int, list[Department]] = defaultdict(list)
        for unit in sorted(self.units.values(), key=lambda d: d.code):
            self.in_region[unit.region_id].append(unit)

    def city(self) -> Region:
        return next(r for r in self.regions.values() if r.code == CITY_CODE)


class Cast:
    """The actors of the replay: the demo's console users, and a handler for every other unit."""

    def __init__(self, rng: random.Random, units: Units, usernames: list[str]) -> None:
        self.rng = rng
        self.units = units
        self.handlers: dict[int, Actor] = {}
        self.managers: list[Actor] = []
        self.staff: dict[int, Actor] = {}
        users = get_user_model().objects.filter(username__in=usernames).select_related("membership__region")
        for user in users:
            actor = actor_for_user(user)
            if actor is None:
                continue
            if actor.has("manager"):
                self.managers.append(actor)
            elif actor.unit_id is not None:
                self.handlers[actor.unit_id] = actor
            elif actor.staff_id is not None:
                self.staff[actor.staff_id] = actor
        # The deepest region first, so that a district's manager answers for their district.
        self.managers.sort(key=lambda a: -len(a.region.path if a.region else ""))

    def handler(self, unit_id: int) -> Actor:
        if unit_id not in self.handlers:
            unit = self.units.units[unit_id]
            given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(2))
            name = f"{self.rng.choice(SURNAMES)}{given}"
            self.handlers[unit_id] = Actor(label=f"{unit.name} {name}", roles=frozenset({"handler"}), unit_id=unit_id)
        return self.handlers[unit_id]

    def manager(self, region_id: int) -> Actor:
        path = self.units.regions[region_id].path
        return next(a for a in self.managers if a.region is not None and path_within(path, a.region.path))

    def city_manager(self) -> Actor:
        return self.manager(self.units.city().pk)

    def acting(self, step: Step, case: BadReviewCase) -> Actor:
        if step.by == "evaluator":
            return actor_evaluator()
        if step.by == "handler":
            return self.handler(case.unit_id)
        if step.action == "dispatch":
            # Whoever may send it there: the manager over the receiving unit.
            return self.manager(self.units.by_code[step.fields["unit"]].region_id)
        return self.manager(case.region_id)


# --- what happened ---------------------------------------------------------------------------


def _plans() -> list[Plan]:
    """Every active, non-blocked bad submission without a case: its rows grouped by receipt (R5, R6)."""
    taken = set(BadReviewCase.objects.values_list("region_id", "receipt"))
    grouped: dict[tuple[int, str], list[Evaluation]] = defaultdict(list)
    rows = (
        Evaluation.objects.filter(rules.bad_q(), source=Evaluation.Source.ACTIVE, blocked=False)
        .select_related("record")
        .order_by("pk")
    )
    for row in rows:
        if (row.region_id, row.receipt) not in taken:
            grouped[(row.region_id, row.receipt)].append(row)
    plans = []
    for members in grouped.values():
        lead = members[0]  # the lowest id, as case_open's caller passes them
        # R7: whoever rated is the evaluator to contact.
        record = lead.record
        agent = None if record.agent_id is None else Party(record.agent_id, blocked=False)
        served = RecordParties(applicant=Party(record.applicant_id, blocked=False), agent=agent)
        evaluator = rules.evaluator(lead.rated_by, [served]).person_id
        plans.append(Plan(rows=members, evaluator_id=evaluator))
    plans.sort(key=lambda p: (p.opened_at, p.lead.pk))
    return plans


class Storyteller:
    """Decides each case's story and writes its steps, at plausible moments.

    It follows the deadlines as the services will compute them, so that handlers are late only
    when the story says so; the replayed sweep then marks those cases overdue.
    """

    def __init__(self, rng: random.Random, units: Units, now: dt.datetime) -> None:
        self.rng = rng
        self.units = units
        self.now = now
        self.rules: dict[int, Rules] = {}

    def tell(self, plans: list[Plan]) -> None:
        # The newest are left in each open state, a few rounds of them in a big demo.
        rounds = max(1, len(plans) // 150)
        shown = plans[-len(SHOWN_STATES) * rounds :][::-1]  # newest first
        older = plans[: len(plans) - len(shown)]
        # The required stories go to the oldest half, which has had time to close.
        pool = older[: max(len(REQUIRED_STORIES), len(older) // 2)]
        chosen = self.rng.sample(range(len(pool)), min(len(pool), len(REQUIRED_STORIES)))
        required = dict(zip(chosen, REQUIRED_STORIES, strict=False))
        names, weights = list(STORIES), list(STORIES.values())
        for index, plan in enumerate(older):
            plan.story = required.get(index) or self.rng.choices(names, weights)[0]
            self._write(plan)
            # What has not happened yet by now, does not happen.
            plan.steps = [s for s in plan.steps if s.at < self.now - dt.timedelta(minutes=1)]
        for index, plan in enumerate(shown):
            state, plan.story = SHOWN_STATES[index % len(SHOWN_STATES)]
            self._write(plan)
            plan.steps = _until(plan.steps, state)
            self._squeeze(plan)

    def _squeeze(self, plan: Plan) -> None:
        """Fit a case left in a given state into the time it has had, keeping the order of its steps."""
        limit = self.now - dt.timedelta(minutes=30)
        if not plan.steps or plan.steps[-1].at <= limit:
            return
        start = plan.opened_at
        span = plan.steps[-1].at - start
        room = max(limit - start, dt.timedelta(minutes=len(plan.steps)))
        previous = start
        for step in plan.steps:
            step.at = max(start + (step.at - start) * (room / span), previous + dt.timedelta(seconds=30))
            previous = step.at

    # --- the stories ---------------------------------------------------------------------

    def _write(self, plan: Plan) -> None:
        self.plan = plan
        self.at = plan.opened_at
        self.unit = self.units.units[plan.lead.department_id]  # 谁办理谁负责, until dispatched elsewhere
        region = plan.lead.region_id
        if region not in self.rules:
            self.rules[region] = rules_for(policy_for_region(self.units.regions[region]).case_deadlines)
        self.deadlines = self.rules[region]
        # What the case's current step is due by (None: nothing due), and when handling started.
        self.due: dt.datetime | None = self.deadlines.contact.after(self.at).at
        self.handling_since = self.at
        self.category = ""
        plan.steps = []
        reason = next(iter(plan.lead.reasons), "other")
        self.reason = reason if reason in words.CASE_PROBLEMS else "other"
        story: Callable[[], None] = getattr(self, f"_story_{plan.story}")
        story()

    def _story_rectified(self, category: str | None = None, consult: bool | None = None) -> None:
        category = category or self.rng.choices((C.SIMPLE, C.GENERAL, C.COMPLEX), (35, 45, 20))[0]
        self._contact()
        self._classify(category)
        if category == C.COMPLEX and (consult or (consult is None and self.rng.random() < 0.6)):
            self._consult()
        self._rectify()
        self._reply()
        self._revisit(True)

    def _story_consulted(self) -> None:
        self._story_rectified(C.COMPLEX, consult=True)

    def _story_dispatched(self) -> None:
        others = [u for u in self.units.in_region[self.unit.region_id] if u.pk != self.unit.pk]
        if others:
            self.unit = self.rng.choice(others)
            note = words.CASE_DISPATCH_NOTE.format(unit=self.unit.name)
            self._then("dispatch", "manager", {"unit": self.unit.code, "note": note}, (0.5, 8))
            # The contact step starts again at the new unit.
            self.due = self.deadlines.contact.after(self.at).at
        self._story_rectified()

    def _story_unsatisfied(self) -> None:
        self._contact()
        self._classify(self.rng.choice((C.SIMPLE, C.GENERAL)))
        self._rectify()
        self._reply()
        self._revisit(False)
        self._rectify()
        self._reply()
        if self.rng.random() < 0.7:
            self._revisit(True)
        else:
            self._then("close", "handler", {"note": words.CASE_CLOSE_NOTE}, (48, 96))

    def _story_unreachable(self) -> None:
        self._contact()
        self._classify(self.rng.choice((C.SIMPLE, C.GENERAL)))
        self._rectify()
        self._reply()
        self._then("close", "handler", {"note": words.CASE_CLOSE_NOTE}, (48, 120))

    def _story_no_legal_basis(self) -> None:
        self._contact(confirmed=False)
        self._classify(C.NO_LEGAL_BASIS)
        self._then("explain", "handler", {"explanation": self.rng.choice(words.CASE_EXPLANATIONS)}, (2, 48))
        self._then("reply", "handler", {"answer": words.CASE_EXPLANATION_REPLY}, (0.5, 20))
        self.due = None
        self._revisit(True)

    def _story_extension(self) -> None:
        category = self.rng.choice((C.GENERAL, C.GENERAL, C.COMPLEX))
        self._contact()
        self._classify(category)
        days = self.rng.choice((5, 10)) if category == C.COMPLEX else self.rng.choice((3, 5))
        reason = self.rng.choice(words.CASE_EXTENSION_REASONS)
        self._then("request_extension", "handler", {"days": days, "reason": reason}, (24, 80))
        if self.rng.random() < 0.85:
            self._then("approve_extension", "manager", {"note": words.CASE_EXTENSION_APPROVAL}, (2, 30))
            assert self.due is not None
            span = self.deadlines.for_category(category) or self.deadlines.general
            extend = add_workdays if span.unit == "workdays" else add_days
            self.due = extend(self.due, days).at
            self._then("rectify", "handler", {"description": self._rectification()}, (24, 100))
        else:
            self._then("reject_extension", "manager", {"note": words.CASE_EXTENSION_REJECTION}, (2, 20))
            self._then("rectify", "handler", {"description": self._rectification()}, (4, 30))
        self._reply()
        self._revisit(True)

    def _story_mistaken(self) -> None:
        self._invalidation(C.MISTAKEN)

    def _story_malicious(self) -> None:
        self._invalidation(C.MALICIOUS)

    def _invalidation(self, category: str) -> None:
        self._contact(confirmed=False)
        self._classify(category)
        reason = self.rng.choice(words.CASE_INVALIDATION_REASONS[category])
        self._then("request_invalidation", "handler", {"reason": reason}, (1, 24))
        note = self.rng.choice(words.CASE_INVALIDATION_APPROVALS)
        self._then("approve_invalidation", "manager", {"note": note}, (2, 30))

    def _story_invalidation_rejected(self) -> None:
        self._contact(confirmed=False)
        self._classify(C.MISTAKEN)
        reason = self.rng.choice(words.CASE_INVALIDATION_REASONS[C.MISTAKEN])
        self._then("request_invalidation", "handler", {"reason": reason}, (1, 24))
        self._then("reject_invalidation", "manager", {"note": words.CASE_INVALIDATION_REJECTION}, (2, 30))
        self._classify(C.GENERAL)
        self._rectify()
        self._reply()
        self._revisit(True)

    # --- the steps -----------------------------------------------------------------------

    def _problem(self) -> str:
        return words.CASE_PROBLEMS[self.reason]

    def _rectification(self) -> str:
        return words.CASE_RECTIFICATIONS[self.reason]

    def _handling_due(self, start: dt.datetime) -> dt.datetime:
        # As the services: explaining and invalidating take no longer than a general case.
        span = self.deadlines.for_category(self.category) or self.deadlines.general
        return span.after(start).at

    def _contact(self, confirmed: bool = True) -> None:
        # Mostly within the 48 hours; now and then too late, and the sweep escalates it.
        late = self.rng.random() < 0.06
        if confirmed:
            note = self.rng.choice(words.CASE_CONTACT_NOTES).format(problem=self._problem())
        else:
            note = self.rng.choice(words.CASE_CONTACT_NEUTRAL_NOTES)
        self._then("contact", "handler", {"note": note}, (50, 90) if late else (0.5, 30), late=late)
        if self.deadlines.classify is not None:
            # As the services: classification has its own deadline, from the contact on.
            self.due = self.deadlines.classify.after(self.at).at

    def _classify(self, category: str) -> None:
        fields = {"category": category, "note": words.CASE_CLASSIFY_NOTES[category]}
        reclassified = bool(self.category)
        self._then("classify", "handler", fields, (0.1, 4))
        self.category = category
        if not reclassified:
            self.handling_since = self.at
        # A reclassification keeps the time the handling started.
        self.due = self._handling_due(self.handling_since)

    def _consult(self) -> None:
        own = self.unit
        nearby = [u for u in self.units.in_region[own.region_id] if u.pk != own.pk]
        city = [u for u in self.units.in_region[self.units.city().pk] if u.pk != own.pk]
        pool = list(dict.fromkeys(nearby + city))
        chosen = self.rng.sample(pool, min(len(pool), self.rng.choice((1, 2))))
        fields = {"units": [u.code for u in chosen], "note": words.CASE_CONSULTATION_NOTE}
        self._then("start_consultation", "handler", fields, (2, 30))

    def _rectify(self) -> None:
        late = self.category != C.SIMPLE and self.rng.random() < 0.08
        hours = {
            C.SIMPLE: ((0.2, 2), (0.2, 2)),
            C.GENERAL: ((20, 100), (150, 220)),
            C.COMPLEX: ((60, 300), (420, 520)),
        }[C(self.category)][late]
        self._then("rectify", "handler", {"description": self._rectification()}, hours, late=late)

    def _reply(self) -> None:
        answer = self.rng.choice(words.CASE_REPLIES).format(
            problem=self._problem(), rectification=self._rectification()
        )
        self._then("reply", "handler", {"answer": answer}, (0.5, 20))
        self.due = None

    def _revisit(self, satisfied: bool) -> None:
        if self.rng.random() < 0.5:
            # Through the link in the answer's SMS.
            self._then("revisit", "evaluator", {"satisfied": satisfied, "note": ""}, (1, 72))
        else:
            note = self.rng.choice(words.CASE_REVISIT_SATISFIED) if satisfied else words.CASE_REVISIT_UNSATISFIED
            self._then("revisit", "handler", {"satisfied": satisfied, "note": note}, (4, 72))
        if not satisfied:
            # Back at the unit with a fresh handling deadline (the region's policy reopens it).
            self.handling_since = self.at
            self.due = self._handling_due(self.at)

    def _then(
        self, action: str, by: str, fields: dict[str, Any], hours: tuple[float, float], late: bool = False
    ) -> None:
        at = self.at + dt.timedelta(hours=self.rng.uniform(*hours))
        at = _waking_hours(at, self.rng) if by == "evaluator" else _office_hours(at, self.rng)
        if not late and self.due is not None and at > self.due - dt.timedelta(minutes=10):
            at = self._before(self.due)
        at = max(at, self.at + dt.timedelta(seconds=30))
        self.plan.steps.append(Step(at, action, by, fields))
        self.at = at

    def _before(self, due: dt.datetime) -> dt.datetime:
        """A moment before `due`: deadlines win over office hours, not over sleep if it can be helped."""
        room = due - dt.timedelta(minutes=10) - self.at
        at = self.at
        for _attempt in range(6):
            at = self.at + room * self.rng.uniform(0.1, 1)
            if 8 <= timezone.localtime(at).hour < 21:
                break
        return at


def _until(steps: list[Step], state: str) -> list[Step]:
    """The steps up to the first that leaves the case in `state`."""
    if state == S.OPEN:
        return []
    for index, step in enumerate(steps):
        if RESULTS[step.action] == state:
            return steps[: index + 1]
    raise AssertionError(f"the story never reaches {state}")


def _office_hours(at: dt.datetime, rng: random.Random) -> dt.datetime:
    """`at`, or the next working morning when it falls outside 8:30–17:30 on a weekday."""
    local = timezone.localtime(at)
    minutes = local.hour * 60 + local.minute
    if local.weekday() < 5 and 8 * 60 + 30 <= minutes < 17 * 60 + 30:
        return at
    day = local.date() if local.weekday() < 5 and minutes < 8 * 60 + 30 else local.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(8, 30), tzinfo=local.tzinfo)
    return start + dt.timedelta(minutes=rng.uniform(0, 120))


def _waking_hours(at: dt.datetime, rng: random.Random) -> dt.datetime:
    local = timezone.localtime(at)
    if 8 <= local.hour < 22:
        return at
    day = local.date() if local.hour < 8 else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(8), tzinfo=local.tzinfo) + dt.timedelta(minutes=rng.uniform(0, 180))


# --- the replay ------------------------------------------------------------------------------


class Sweeper:
    """The deadline sweep on the replay's clock: on the hour, when a case's warning time or
    deadline has come since the last run (at other times it would find nothing to do)."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = timezone.localtime(start).replace(minute=0, second=0, microsecond=0) + SWEEP_EVERY
        self.triggers: list[tuple[dt.datetime, int]] = []
        self.cases: dict[int, BadReviewCase] = {}

    def watch(self, case: BadReviewCase) -> None:
        self.cases[case.pk] = case
        for moment in {case.warn_at, case.due_at}:
            if moment is not None:
                heapq.heappush(self.triggers, (moment, case.pk))

    def _due(self) -> bool:
        """Whether a case still has a warning time or deadline that has come (a step since may have moved it)."""
        due = False
        while self.triggers and self.triggers[0][0] <= self.at:
            moment, pk = heapq.heappop(self.triggers)
            case = self.cases[pk]
            due = due or (case.state != S.CLOSED and moment in (case.warn_at, case.due_at))
        return due

    def run_until(self, moment: dt.datetime) -> None:
        while self.at <= moment:
            if self._due():
                cases_sweep(now=self.at)
            self.at += SWEEP_EVERY


def _replay(plans: list[Plan], cast: Cast, now: dt.datetime) -> None:
    """Every opening and step in the order they happened, with the sweep running in between."""
    timeline = [(plan.opened_at, i, -1) for i, plan in enumerate(plans)]
    timeline += [(step.at, i, j) for i, plan in enumerate(plans) for j, step in enumerate(plan.steps)]
    timeline.sort()
    if not timeline:
        return
    sweeper = Sweeper(timeline[0][0])
    regions = cast.units.regions
    for at, i, j in timeline:
        sweeper.run_until(at)
        plan = plans[i]
        if j < 0:
            plan.case = case_open(
                evaluations=plan.rows, region=regions[plan.lead.region_id], evaluator_id=plan.evaluator_id, now=at
            )
        else:
            assert plan.case is not None
            step = plan.steps[j]
            actor = cast.acting(step, plan.case)
            plan.case = case_act(actor=actor, case=plan.case, action=step.action, fields=step.fields, now=at)
        sweeper.watch(plan.case)
    sweeper.run_until(now)


# --- what only happens now -------------------------------------------------------------------


def _block_one(plans: list[Plan], cast: Cast) -> None:
    """R15: a manager adds one evaluator found malicious to the registry."""
    for plan in plans:
        case = plan.case
        if plan.story == "malicious" and case is not None and case.invalid_reason == C.MALICIOUS:
            blocked_evaluator_add(actor=cast.manager(case.region_id), case=case, reason=words.CASE_BLOCK_REASON)
            return


def _appeals(rng: random.Random, client: ApiClient, cast: Cast) -> None:
    """R14: one appeal pending, one decided. An appeal must come within 2 working days of the case
    reaching the unit, so both cases are opened now, by bad ratings through the normal path."""
    slots = _fresh_slots(set(cast.staff))
    if len(slots) < 2:
        return
    pending = _rate_badly(rng, client, slots[0])
    staff_id = _staff_of(slots[0])
    appellant = cast.staff.get(staff_id) if staff_id is not None else None
    appeal_file(
        actor=appellant or cast.handler(pending.unit_id), case=pending, reasons=rng.choice(words.CASE_APPEAL_REASONS)
    )
    decided = _rate_badly(rng, client, slots[1])
    handler = cast.handler(decided.unit_id)
    note = rng.choice(words.CASE_CONTACT_NOTES).format(problem=words.CASE_PROBLEMS["attitude"])
    decided = case_act(actor=handler, case=decided, action="contact", fields={"note": note})
    appeal = appeal_file(actor=handler, case=decided, reasons=rng.choice(words.CASE_APPEAL_REASONS))
    appeal_decide(actor=cast.manager(decided.region_id), appeal=appeal, upheld=False, note=words.CASE_APPEAL_REJECTION)


def _fresh_slots(staff_ids: set[int]) -> list[RatingSlot]:
    """Services still open to rating and not rated, the oldest first (the newest are left for
    people to try), a demo staff member's first so that they can show their own appeal. Never one
    of an applicant in the registry (R15: their rating opens no case): in a small city the person
    blocked just before may well have another service open."""
    now = timezone.now()
    open_slots = (
        RatingSlot.objects.filter(rules.window_open_q(now), evaluations__isnull=True, record__bundle__isnull=True)
        .exclude(kind=RatingSlot.Kind.THEME)
        .exclude(blocked_exists("applicant"))
        .select_related("record", "visit")
        .order_by("opens_at", "pk")
    )
    slots = list(open_slots.filter(opens_at__lte=now - KEEP_OPEN)[:50])
    if len(slots) < 2:
        slots += list(open_slots.filter(opens_at__gt=now - KEEP_OPEN, opens_at__lte=now)[:2])
    slots.sort(key=lambda s: _staff_of(s) not in staff_ids)
    return slots[:2]


def _staff_of(slot: RatingSlot) -> int | None:
    # As evaluation_build: a visit's staff member, else the record's.
    record = slot.record
    assert record is not None
    if slot.visit is not None:
        return slot.visit.staff_id or record.staff_id
    return record.staff_id


def _rate_badly(rng: random.Random, client: ApiClient, slot: RatingSlot) -> BadReviewCase:
    record = slot.record
    assert record is not None
    at_window = slot.visit is not None or record.mode == ServiceRecord.Mode.ONSITE
    reason = rng.choice(words.ONSITE_REASONS if at_window else words.ONLINE_REASONS)
    submission = evaluation_submit(
        client=client,
        token=token_for(slot.public_id),
        level=rng.choice((1, 2)),
        channel=Evaluation.Channel.PAD if at_window else Evaluation.Channel.PC,
        reasons=[reason],
        comment=rng.choice(words.BAD_COMMENTS[reason]),
    )
    lead = submission.evaluations[0]
    return BadReviewCase.objects.select_related("region").get(region_id=lead.region_id, receipt=submission.receipt)


def _spot_check(rng: random.Random, cast: Cast) -> None:
    """R13: the city's manager checks a sample of last month's closed cases; one fails and reopens."""
    closed = BadReviewCase.objects.filter(state=S.CLOSED)
    now = timezone.now()
    since = now - SPOT_CHECK_PERIOD
    if not closed.filter(closed_at__gte=since).exists():
        first = closed.order_by("closed_at").values_list("closed_at", flat=True).first()
        if first is None:
            return
        since = first
    manager = cast.city_manager()
    assert manager.region is not None
    check = spot_check_draw(
        actor=manager,
        region=manager.region,
        closed_from=timezone.localdate(since),
        closed_to=timezone.localdate(now),
        count=SPOT_CHECK_SIZE,
        rng=rng,
    )
    items = list(check.items.select_related("case", "spot_check__region").order_by("pk"))
    # Only a rectified case can fail: reopening one found mistaken would make it count again.
    failable = [item for item in items if not item.case.invalid]
    failed = rng.choice(failable) if len(items) >= 3 and failable else None
    for item in items:
        passed = item is not failed
        note = words.CASE_SPOT_CHECK_PASSED if passed else words.CASE_SPOT_CHECK_FAILED
        spot_check_record(actor=manager, item=item, passed=passed, note=note)


def _report() -> CaseReport:
    counts = {state: 0 for state in S.values}
    for state in BadReviewCase.objects.values_list("state", flat=True):
        counts[state] += 1
    overdue = BadReviewCase.objects.filter(overdue_q(timezone.now())).count()
    return CaseReport(cases=sum(counts.values()), by_state=counts, overdue=overdue)
