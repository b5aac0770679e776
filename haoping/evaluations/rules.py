"""The rating rules (DESIGN.md R1–R9, R15), stated once, over plain facts.

Every path that takes a rating (the API's `evaluation_submit`, the fast path's writer, and any
channel to come) looks up the facts its own way, then asks these functions: none of them reads the
database. A refusal is the domain error the API answers with; a path that cannot answer it (the
fast path) hands the rating to one that can. The rules a record decides when it is registered
(R2's closing time, R4's visits, R5's one item) live in `haoping.records.rules`, which records
reads without this app, and are re-exported here.

Where a query must pick rows by a rule (the sweep, the indicators, the console's lists), it
takes the condition from the `*_q` builders beside the rule, which state the same comparison
over columns; `tests/test_rules.py` holds each builder to its rule on stored rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.errors import Conflict, Gone, Invalid
from haoping.records.rules import BATCH as BATCH
from haoping.records.rules import COMPLETION as COMPLETION
from haoping.records.rules import THEME as THEME
from haoping.records.rules import VISIT as VISIT
from haoping.records.rules import batch_item_check as batch_item_check
from haoping.records.rules import rated_per_visit as rated_per_visit
from haoping.records.rules import window_closes_at as window_closes_at

# R1: the five levels and their names.
LEVEL_LABELS = {
    5: gettext_lazy("Very satisfied"),
    4: gettext_lazy("Satisfied"),
    3: gettext_lazy("Basically satisfied"),
    2: gettext_lazy("Dissatisfied"),
    1: gettext_lazy("Very dissatisfied"),
}

LEVELS = range(1, 6)
DEFAULT_LEVEL = 3  # R2: 基本满意
DEFAULT_SOURCE = "default"
BAD_AT_MOST = 2  # R1: 1–2 are bad (差评)
GOOD_AT_LEAST = 4  # R1: 4–5 are good (好评)
CHANNELS = frozenset({"pc", "mobile", "qrcode", "pad", "kiosk", "phone", "sms", "paper"})
# Channels with a screen, where a bad rating must say why (R8); phone key-press, SMS replies and
# paper forms may carry a bare level.
SCREEN_CHANNELS = frozenset({"pc", "mobile", "qrcode", "pad", "kiosk"})
APPLICANT, AGENT = "applicant", "agent"
RATED_BY = frozenset({APPLICANT, AGENT})
MAX_COMMENT = 1000
MAX_SUGGESTION = 500
SUGGESTION = "suggestion"


@dataclass(frozen=True)
class Content:
    """What a rating says, as submitted (the comment already stripped)."""

    level: Any
    channel: str
    rated_by: str
    answers: Mapping[str, Any]
    reasons: Sequence[str]
    comment: str


@dataclass(frozen=True)
class Party:
    """One person on a record, as the registry sees them."""

    person_id: int | None
    blocked: bool  # R15: in the registry of malicious evaluators


class Parties(Protocol):
    """Who was served: the applicant, and the agent if one handled it (a slot's facts, a record)."""

    @property
    def applicant(self) -> Party: ...

    @property
    def agent(self) -> Party | None: ...


@dataclass(frozen=True)
class RecordParties:
    applicant: Party
    agent: Party | None


class Window(Protocol):
    """A ratable service's rating window: a slot's facts, or the slot itself."""

    @property
    def opens_at(self) -> dt.datetime: ...

    @property
    def closes_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class SlotFacts:
    """A ratable service as a lookup found it."""

    key: int
    kind: str  # completion, visit or theme
    opens_at: dt.datetime
    closes_at: dt.datetime | None  # None for a theme, whose linked records carry the windows
    rated: bool
    applicant: Party
    agent: Party | None  # None: no agent handled the service
    visit_window_id: int | None = None
    visit_day: dt.date | None = None


def level_check(level: Any) -> None:
    """R1: five levels, 1 to 5, as a whole number."""
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        raise Invalid("invalid", _("level: must be a whole number from 1 to 5"), field="level")


def is_bad(level: int) -> bool:
    """R1: levels 1–2 are a bad rating (差评)."""
    return level <= BAD_AT_MOST


def bad_q(field: str = "level") -> Q:
    """R1 over a column: `is_bad`."""
    return Q(**{f"{field}__lte": BAD_AT_MOST})


def is_good(level: int) -> bool:
    """R1: levels 4–5 are a good rating (好评)."""
    return level >= GOOD_AT_LEAST


def good_q(field: str = "level") -> Q:
    """R1 over a column: `is_good`."""
    return Q(**{f"{field}__gte": GOOD_AT_LEAST})


# R9: the kinds of object a rating's questionnaire asks about (what GB/T 39735 6.1 lists for
# each), in the order their options are shown.
INSTITUTION, PLATFORM, STAFF, ONSITE = "institution", "platform", "staff", "onsite"
QUESTIONNAIRE_KINDS = (INSTITUTION, PLATFORM, STAFF, ONSITE)
QUESTION, REASON = "question", "reason"
# The catch-all reason tag: shown after every other tag of the sets merged.
OTHER_REASON = "other"
MAX_OPTION_KEY = 40


@dataclass(frozen=True)
class Option:
    """One option of a questionnaire: a question answered 1–5 (R8), or a reason tag a bad rating
    may carry (R8); `code` is its evalDetail code in the national content catalogue `version`."""

    key: str
    label: str
    kind: str  # one of QUESTIONNAIRE_KINDS: the set it comes from
    code: str = ""
    version: str = ""


@dataclass(frozen=True)
class Questionnaire:
    """R8, R9: what a rating is asked: the options of the sets that apply to what it rates, merged.

    `questions` and `reasons` are what is offered now (active), in the order shown; `known` holds
    every option of those sets, retired ones too, by role and key, so that a stored rating's keys
    still have their label and code. A key offered by two sets is one option (the first set's).
    """

    kinds: tuple[str, ...]
    questions: tuple[Option, ...]
    reasons: tuple[Option, ...]
    known: Mapping[tuple[str, str], Option] = field(default_factory=lambda: MappingProxyType({}))

    def question_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.questions)

    def reason_keys(self) -> frozenset[str]:
        return frozenset(o.key for o in self.reasons)

    def option(self, role: str, key: str) -> Option | None:
        """The option a stored key names, offered now or retired; None for a key no set knows."""
        return self.known.get((role, key))


def questionnaire_kinds(*, institution: bool, platform: bool, window: bool, staff: bool) -> tuple[str, ...]:
    """R9: the sets of options a rating is asked, from what it rates (the ids it copies, as
    `haoping.evaluations.services.rated_ids` reads them off the record or visit):

    - the handling unit (政务服务机构, the item's department): always, every service has one;
    - a platform (政务服务平台): a service on a platform and at no window (online, a kiosk, the hotline);
    - a staff member (工作人员): a service at a window or by a named staff member;
    - on-site service (现场服务): a service in a hall (at a window of it, or the record's hall).
    """
    kinds = [INSTITUTION]
    if platform and not window:
        kinds.append(PLATFORM)
    if window or staff:
        kinds.append(STAFF)
    if institution or window:
        kinds.append(ONSITE)
    return tuple(kinds)


def answers_check(answers: Mapping[str, Any]) -> None:
    """R8: the questionnaire's form: each question answered 1–5, the suggestion as short text."""
    for key, value in answers.items():
        if key == SUGGESTION:
            if not isinstance(value, str) or len(value) > MAX_SUGGESTION or "\x00" in value:
                raise Invalid(
                    "invalid",
                    _("answers.suggestion: text of at most %(max)d characters") % {"max": MAX_SUGGESTION},
                    field="answers",
                )
        elif not isinstance(value, int) or isinstance(value, bool) or value not in LEVELS:
            raise Invalid(
                "invalid", _("answers.%(key)s: must be a whole number from 1 to 5") % {"key": key}, field="answers"
            )


def questionnaire_check(answers: Mapping[str, Any], questionnaire: Questionnaire) -> None:
    """R8, R9: only the questions the questionnaire of what is rated asks are answered."""
    asked = questionnaire.question_keys()
    for key in answers:
        if key != SUGGESTION and key not in asked:
            raise Invalid("invalid", _("answers: unknown question %(key)s") % {"key": key}, field="answers")


def reasons_check(reasons: Sequence[str], questionnaire: Questionnaire) -> None:
    """R8, R9: a rating's reason tags are among those offered for what it rates."""
    offered = questionnaire.reason_keys()
    for reason in reasons:
        if reason not in offered:
            raise Invalid("invalid", _("reasons: unknown reason %(reason)s") % {"reason": reason}, field="reasons")


def bad_rating_reason_check(content: Content) -> None:
    """R8: a bad rating on a screen carries reason tags or text."""
    on_screen = content.channel in SCREEN_CHANNELS
    if is_bad(content.level) and on_screen and not content.reasons and not content.comment.strip():
        raise Invalid("reason_required", _("reasons: a rating of 1 or 2 needs a reason or a comment"), field="reasons")


def content_check(content: Content) -> None:
    """R1, R8: what a rating says, before anything is looked up; what it may be asked depends on
    what it rates, which `offered_check` holds it to once that is found."""
    level_check(content.level)
    if content.channel not in CHANNELS:
        raise Invalid(
            "invalid", _("channel: unknown channel %(channel)s") % {"channel": content.channel}, field="channel"
        )
    if content.rated_by not in RATED_BY:
        raise Invalid(
            "invalid",
            _("rated_by: must be applicant or agent, not %(value)s") % {"value": content.rated_by},
            field="rated_by",
        )
    for reason in content.reasons:
        if not isinstance(reason, str) or not 0 < len(reason) <= MAX_OPTION_KEY:
            raise Invalid("invalid", _("reasons: unknown reason %(reason)s") % {"reason": reason}, field="reasons")
    if len(content.comment) > MAX_COMMENT:
        raise Invalid("too_long", _("comment: at most %(max)d characters") % {"max": MAX_COMMENT}, field="comment")
    answers_check(content.answers)
    bad_rating_reason_check(content)


def offered_check(content: Content, questionnaire: Questionnaire) -> None:
    """R8, R9: the answers and reason tags are the options of the questionnaire that applies."""
    questionnaire_check(content.answers, questionnaire)
    reasons_check(content.reasons, questionnaire)


def window_open(slot: Window, at: dt.datetime) -> bool:
    """R2, R3: whether `at` falls in the service's rating window (from the service to its close,
    both included)."""
    return slot.closes_at is not None and slot.opens_at <= at <= slot.closes_at


def window_open_q(at: dt.datetime, prefix: str = "") -> Q:
    """R2, R3 over a slot's columns (`prefix` leads to the slot): `window_open`."""
    return Q(**{f"{prefix}opens_at__lte": at, f"{prefix}closes_at__gte": at})


def window_closed(slot: Window, at: dt.datetime) -> bool:
    """R2: whether the window closed before `at`, so that an unrated service has its default
    rating; at the closing instant itself it is still open (`window_open`)."""
    return slot.closes_at is not None and at > slot.closes_at


def window_closed_q(at: dt.datetime, prefix: str = "") -> Q:
    """R2 over a slot's columns: `window_closed`."""
    return Q(**{f"{prefix}closes_at__lt": at})


def window_check(slot: SlotFacts, at: dt.datetime, *, skew: dt.timedelta) -> None:
    """R2, R3: a rating within the window, later than the service (by the clocks' `skew` at most);
    past the window the service has its default rating (R2), or was rated already (R4)."""
    if slot.closes_at is None or window_closed(slot, at):
        rated_once_check(slot.rated)
        raise Gone("window_closed", _("the rating period of this service has ended"))
    if at < slot.opens_at - skew:
        raise Invalid("invalid", _("rated_at: earlier than the service it rates"), field="rated_at")


def paper_grace_check(
    slot: SlotFacts, form_at: dt.datetime, now: dt.datetime, *, grace: dt.timedelta, skew: dt.timedelta
) -> None:
    """R2, R3 for paper forms: a form filled in (`form_at`) while the service's window was open
    may be keyed in until `grace` after the window closed; a form dated after the window, or keyed
    in after the grace, rates nothing."""
    if slot.closes_at is None:
        raise Invalid("invalid", _("a paper form rates one record or visit, not a theme as a whole"), field="record_no")
    if form_at < slot.opens_at - skew:
        raise Invalid("invalid", _("rated_at: earlier than the service it rates"), field="rated_at")
    if window_closed(slot, form_at):
        raise Gone("window_closed", _("the form is dated after the rating period of this service ended"))
    if now > slot.closes_at + grace:
        raise Gone("grace_over", _("the period for keying in paper forms of this service has ended"))


def replacement_check(existing_source: str, replaced: bool) -> None:
    """R2 with R4: a paper form in its grace replaces a default rating, once; never an active one."""
    rated_once_check(existing_source != DEFAULT_SOURCE or replaced)


def rated_once_check(rated: bool) -> None:
    """R4 (with R5, R7): each service is rated once, whichever channel or party rates."""
    if rated:
        raise Conflict("already_rated", _("this service has been rated already"))


def batch_targets(slot: SlotFacts, batch: Sequence[SlotFacts], at: dt.datetime, *, skew: dt.timedelta) -> list[int]:
    """R5: one rating of a batch goes to every record of it rated the same way (its completion, or
    its visit to the same window on the same day) that is unrated and open now. `batch` holds the
    batch's slots of the same kind; the keys of the slots rated, `slot` first."""
    window_check(slot, at, skew=skew)
    same = [
        s.key
        for s in batch
        if s.key != slot.key
        and s.kind == slot.kind
        and not s.rated
        and window_open(s, at)
        and (slot.visit_window_id is None or (s.visit_window_id, s.visit_day) == (slot.visit_window_id, slot.visit_day))
    ]
    return [slot.key, *same]


def theme_targets(linked: Sequence[SlotFacts], at: dt.datetime, *, skew: dt.timedelta) -> list[int]:
    """R6: a theme's overall rating goes to every completed linked record not rated on its own and
    open now; `linked` holds those records' completions."""
    unrated = [s for s in linked if not s.rated]
    open_now = [s.key for s in unrated if window_open(s, at)]
    if open_now:
        return open_now
    if unrated and at < min(s.opens_at for s in unrated) - skew:
        raise Invalid("invalid", _("rated_at: earlier than the service it rates"), field="rated_at")
    if unrated:
        raise Gone("window_closed", _("the rating period of this service has ended"))
    if linked:
        rated_once_check(True)
    raise Conflict("not_completed", _("no record of this theme is completed yet"))


@dataclass(frozen=True)
class Given:
    """A rating given to a completion of a bundle's record (key: the evaluation's)."""

    key: int
    overall: bool  # given to the theme as a whole (R6), not to the record on its own


def inherited_from(bundle_kind: str, given: Sequence[Given]) -> int | None:
    """R5, R6: the rating a record takes when it completes after its bundle was rated: a batch's
    first rating (R5); a theme's first overall rating (R6), never one a linked record was given on
    its own. None when there is none to take."""
    taken = [g.key for g in given if bundle_kind != THEME or g.overall]
    return min(taken) if taken else None


def evaluator(rated_by: str, targets: Sequence[Parties]) -> Party:
    """R7 with R15: who rated, and so whose registry entry counts and whom a case answers.

    Agent and applicant share one rating (R7): an agent may rate only what an agent handled, and
    then the agent is the evaluator, never the applicant behind them.
    """
    if rated_by == AGENT:
        agents = [t.agent for t in targets if t.agent is not None]
        if not agents:
            raise Invalid("invalid", _("rated_by: this service had no agent"), field="rated_by")
        return agents[0]
    return targets[0].applicant


def counted(who: Party) -> bool:
    """R15: a rating from someone in the registry is kept for audit and counted nowhere."""
    return not who.blocked


def opens_case(level: int, who: Party) -> bool:
    """R12 with R1, R15: a bad rating opens a case, unless its evaluator is in the registry."""
    return is_bad(level) and counted(who)


def hall_rating_evaluator(*, phone_digest: str, pad_id: int | None, at: dt.datetime) -> tuple[str, dt.date]:
    """R11: a center's overall management is rated at most once a day per evaluator (services, once
    per service: R4). The evaluator is the keyed digest of a mobile number confirmed by an SMS code;
    a rating given without one at a window pad counts as that pad's for the minute, so the people
    queueing at one window may each rate the hall, one a minute. Returns the evaluator's key and the
    day (China time) the limit counts on; a rating with neither is refused."""
    local = timezone.localtime(at)
    if phone_digest:
        return f"phone:{phone_digest}", local.date()
    if pad_id is not None:
        return f"pad:{pad_id}:{local:%H%M}", local.date()
    raise Invalid("phone_required", _("phone: confirm your mobile number with the code sent to it"), field="phone")
