"""The rating rules on their own (haoping.evaluations.rules): plain facts in, a decision out, no database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from haoping.errors import Conflict, DomainError, Gone, Invalid
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.rules import Content, Party, SlotFacts
from haoping.records.models import Bundle, RatingSlot, ServiceRecord

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SKEW = dt.timedelta(minutes=10)
APPLICANT = Party(person_id=1, blocked=False)
AGENT = Party(person_id=2, blocked=False)


def slot(key: int = 1, **facts: Any) -> SlotFacts:
    values: dict[str, Any] = {
        "key": key,
        "kind": "completion",
        "opens_at": T0,
        "closes_at": T0 + 7 * DAY,
        "rated": False,
        "applicant": APPLICANT,
        "agent": None,
    }
    return SlotFacts(**{**values, **facts})


def content(**given: Any) -> Content:
    values: dict[str, Any] = {
        "level": 5,
        "channel": "pad",
        "rated_by": "applicant",
        "answers": {},
        "reasons": [],
        "comment": "",
    }
    return Content(**{**values, **given})


def outcome(call: Any) -> Any:
    """What a rule decides: its value, or the code of the error it refuses with."""
    try:
        return call()
    except DomainError as exc:
        return type(exc).__name__, exc.code


def test_the_catalogues_match_the_model() -> None:
    assert rules.CHANNELS == set(Evaluation.Channel.values)
    assert rules.RATED_BY == set(Evaluation.RatedBy.values)
    assert rules.SCREEN_CHANNELS < rules.CHANNELS


@pytest.mark.parametrize(
    ("level", "expected"),
    [(1, None), (3, None), (5, None), (0, ("Invalid", "invalid")), (6, ("Invalid", "invalid"))]
    + [(-1, ("Invalid", "invalid")), ("5", ("Invalid", "invalid")), (4.0, ("Invalid", "invalid"))]
    + [(True, ("Invalid", "invalid")), (None, ("Invalid", "invalid"))],
)
def test_r1_level_check(level: Any, expected: Any) -> None:
    assert outcome(lambda: rules.level_check(level)) == expected


@pytest.mark.parametrize(("level", "bad"), [(1, True), (2, True), (3, False), (4, False), (5, False)])
def test_r1_levels_one_and_two_are_bad(level: int, bad: bool) -> None:
    assert rules.is_bad(level) is bad


def questionnaire(
    questions: tuple[str, ...] = (), reasons: tuple[str, ...] = (), **retired: str
) -> rules.Questionnaire:
    """A questionnaire as the selector builds it, by hand: offered keys, and `retired` ones (key=role)."""

    def opt(key: str) -> rules.Option:
        return rules.Option(key=key, label=key, kind=rules.INSTITUTION)

    known = {(rules.QUESTION, k): opt(k) for k in questions} | {(rules.REASON, k): opt(k) for k in reasons}
    known |= {(role, k): opt(k) for k, role in retired.items()}
    return rules.Questionnaire(
        kinds=(rules.INSTITUTION,),
        questions=tuple(opt(k) for k in questions),
        reasons=tuple(opt(k) for k in reasons),
        known=known,
    )


# Three regions' sets: the default unit's, a platform's, and a region that retired 'attitude'.
UNIT = questionnaire(("guide_clear", "procedure_convenient"), ("attitude", "efficiency", "other"))
PLATFORM = questionnaire(("interface_friendly",), ("system",))
RETIRED = questionnaire(("guide_clear",), ("efficiency",), attitude=rules.REASON)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, None),
        ({"level": 7}, ("Invalid", "invalid")),
        ({"channel": "fax"}, ("Invalid", "invalid")),
        ({"rated_by": "neighbour"}, ("Invalid", "invalid")),
        ({"reasons": [""]}, ("Invalid", "invalid")),
        ({"reasons": ["x" * (rules.MAX_OPTION_KEY + 1)]}, ("Invalid", "invalid")),
        # Which tags exist depends on what is rated: `offered_check` holds them to it.
        ({"reasons": ["attitude", "weather"]}, None),
        ({"comment": "x" * rules.MAX_COMMENT}, None),
        ({"comment": "x" * (rules.MAX_COMMENT + 1)}, ("Invalid", "too_long")),
        ({"answers": {"guide_clear": 4, "suggestion": "更快"}}, None),
        ({"answers": {"guide_clear": 6}}, ("Invalid", "invalid")),
    ],
)
def test_r1_r8_content_check(given: dict[str, Any], expected: Any) -> None:
    assert outcome(lambda: rules.content_check(content(**given))) == expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, None),
        ({"guide_clear": 1, "procedure_convenient": 5}, None),
        ({"guide_clear": 0}, ("Invalid", "invalid")),
        ({"guide_clear": 6}, ("Invalid", "invalid")),
        ({"guide_clear": True}, ("Invalid", "invalid")),
        ({"guide_clear": "5"}, ("Invalid", "invalid")),
        ({"mood": 5}, ("Invalid", "invalid")),
        ({"suggestion": "s" * rules.MAX_SUGGESTION}, None),
        ({"suggestion": "s" * (rules.MAX_SUGGESTION + 1)}, ("Invalid", "invalid")),
        ({"suggestion": "a\x00b"}, ("Invalid", "invalid")),
        ({"suggestion": 5}, ("Invalid", "invalid")),
    ],
)
def test_r8_questionnaire_form_and_questions(answers: dict[str, Any], expected: Any) -> None:
    def both() -> None:
        rules.answers_check(answers)
        rules.questionnaire_check(answers, UNIT)

    assert outcome(both) == expected


@pytest.mark.parametrize(
    ("asked", "answers", "reasons", "expected"),
    [
        (UNIT, {"guide_clear": 4}, ["attitude"], None),
        (UNIT, {}, ["efficiency", "other"], None),
        (UNIT, {"interface_friendly": 4}, [], ("Invalid", "invalid", "answers", "interface_friendly")),
        (UNIT, {}, ["system"], ("Invalid", "invalid", "reasons", "system")),
        (PLATFORM, {"interface_friendly": 4}, ["system"], None),
        (PLATFORM, {"guide_clear": 4}, [], ("Invalid", "invalid", "answers", "guide_clear")),
        (PLATFORM, {}, ["attitude"], ("Invalid", "invalid", "reasons", "attitude")),
        # A retired option still reads on stored ratings but is no longer offered.
        (RETIRED, {}, ["attitude"], ("Invalid", "invalid", "reasons", "attitude")),
        (RETIRED, {"guide_clear": 2}, ["efficiency"], None),
        # The suggestion is no option: any questionnaire takes it.
        (PLATFORM, {"suggestion": "多设座椅"}, [], None),
    ],
)
def test_r8_r9_only_the_options_of_what_is_rated(
    asked: rules.Questionnaire, answers: dict[str, Any], reasons: list[str], expected: Any
) -> None:
    try:
        rules.offered_check(content(answers=answers, reasons=reasons), asked)
    except Invalid as exc:
        # The refusal names the field and the option refused.
        unknown = expected[3] if expected else ""
        assert (type(exc).__name__, exc.code, exc.extra["field"], unknown) == expected
        assert unknown in exc.detail
    else:
        assert expected is None
    assert RETIRED.option(rules.REASON, "attitude") is not None


@pytest.mark.parametrize(
    ("rated", "kinds"),
    [
        # The unit is always rated; a platform only without a window; staff at a window or by name;
        # on-site service in a hall.
        ({}, ("institution",)),
        ({"platform": True}, ("institution", "platform")),
        ({"platform": True, "staff": True}, ("institution", "platform", "staff")),
        ({"window": True, "institution": True}, ("institution", "staff", "onsite")),
        ({"window": True, "institution": True, "staff": True}, ("institution", "staff", "onsite")),
        ({"institution": True}, ("institution", "onsite")),
        ({"institution": True, "platform": True}, ("institution", "platform", "onsite")),
        ({"window": True, "platform": True}, ("institution", "staff", "onsite")),
    ],
)
def test_r9_what_is_rated_decides_the_sets(rated: dict[str, bool], kinds: tuple[str, ...]) -> None:
    facts = {"institution": False, "platform": False, "window": False, "staff": False, **rated}
    assert rules.questionnaire_kinds(**facts) == kinds


REASON_REQUIRED = ("Invalid", "reason_required")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"level": 1}, REASON_REQUIRED),
        ({"level": 2, "channel": "mobile"}, REASON_REQUIRED),
        ({"level": 2, "comment": "   "}, REASON_REQUIRED),
        ({"level": 3}, None),
        ({"level": 1, "reasons": ["attitude"]}, None),
        ({"level": 1, "comment": "排队太久"}, None),
        # Key-press, SMS and paper carry a bare level.
        ({"level": 1, "channel": "phone"}, None),
        ({"level": 1, "channel": "sms"}, None),
        ({"level": 1, "channel": "paper"}, None),
    ],
)
def test_r8_a_bad_rating_on_a_screen_says_why(given: dict[str, Any], expected: Any) -> None:
    assert outcome(lambda: rules.bad_rating_reason_check(content(**given))) == expected
    assert outcome(lambda: rules.content_check(content(**given))) == expected


@pytest.mark.parametrize(
    ("at", "facts", "expected"),
    [
        (T0, {}, True),
        (T0 + 7 * DAY, {}, True),
        (T0 - dt.timedelta(seconds=1), {}, False),
        (T0 + 7 * DAY + dt.timedelta(seconds=1), {}, False),
        (T0, {"closes_at": None}, False),
    ],
)
def test_r2_r3_window_open(at: dt.datetime, facts: dict[str, Any], expected: bool) -> None:
    assert rules.window_open(slot(**facts), at) is expected


@pytest.mark.parametrize(
    ("at", "facts", "expected"),
    [
        (T0, {}, None),
        (T0 + 3 * DAY, {}, None),
        (T0 + 7 * DAY, {}, None),
        # R3: no earlier than the service, give or take the clocks' skew.
        (T0 - SKEW, {}, None),
        (T0 - SKEW - dt.timedelta(seconds=1), {}, ("Invalid", "invalid")),
        # R2: past the window the default rating stands...
        (T0 + 7 * DAY + dt.timedelta(seconds=1), {}, ("Gone", "window_closed")),
        # ... or the service was rated already (R4).
        (T0 + 8 * DAY, {"rated": True}, ("Conflict", "already_rated")),
        (T0, {"closes_at": None}, ("Gone", "window_closed")),
    ],
)
def test_r2_r3_window_check(at: dt.datetime, facts: dict[str, Any], expected: Any) -> None:
    assert outcome(lambda: rules.window_check(slot(**facts), at, skew=SKEW)) == expected


@pytest.mark.parametrize(("rated", "expected"), [(False, None), (True, ("Conflict", "already_rated"))])
def test_r4_rated_once(rated: bool, expected: Any) -> None:
    assert outcome(lambda: rules.rated_once_check(rated)) == expected


VISIT = {"kind": "visit", "visit_window_id": 7, "visit_day": T0.date()}


@pytest.mark.parametrize(
    ("rated", "others", "at", "expected"),
    [
        # Alone: the slot itself.
        (slot(1), [], T0, [1]),
        # R5: every unrated, open record of the batch, the rated one first.
        (slot(1), [slot(2), slot(3)], T0, [1, 2, 3]),
        (slot(1), [slot(1), slot(2)], T0, [1, 2]),
        (slot(1), [slot(2, rated=True), slot(3)], T0, [1, 3]),
        (slot(1), [slot(2, opens_at=T0 + DAY), slot(3)], T0, [1, 3]),
        (slot(1), [slot(2, closes_at=T0 - DAY), slot(3)], T0, [1, 3]),
        (slot(1), [slot(2, kind="visit"), slot(3)], T0, [1, 3]),
        # Visits: only those to the same window on the same day.
        (slot(1, **VISIT), [slot(2, **VISIT), slot(3, **{**VISIT, "visit_window_id": 8})], T0, [1, 2]),
        (slot(1, **VISIT), [slot(2, **{**VISIT, "visit_day": (T0 + DAY).date()})], T0, [1]),
        # The slot named must itself be ratable now.
        (slot(1), [slot(2)], T0 + 8 * DAY, ("Gone", "window_closed")),
        (slot(1, rated=True), [slot(2)], T0 + 8 * DAY, ("Conflict", "already_rated")),
        (slot(1), [slot(2)], T0 - DAY, ("Invalid", "invalid")),
    ],
)
def test_r5_batch_targets(rated: SlotFacts, others: list[SlotFacts], at: dt.datetime, expected: Any) -> None:
    assert outcome(lambda: rules.batch_targets(rated, others, at, skew=SKEW)) == expected


@pytest.mark.parametrize(
    ("linked", "at", "expected"),
    [
        ([slot(1), slot(2)], T0, [1, 2]),
        ([slot(1, rated=True), slot(2)], T0, [2]),
        ([slot(1, opens_at=T0 + DAY), slot(2)], T0, [2]),
        ([slot(1, opens_at=T0 + DAY)], T0, ("Invalid", "invalid")),
        ([slot(1, opens_at=T0 + dt.timedelta(minutes=5))], T0, ("Gone", "window_closed")),
        ([slot(1)], T0 + 8 * DAY, ("Gone", "window_closed")),
        ([slot(1, rated=True), slot(2, rated=True)], T0, ("Conflict", "already_rated")),
        ([], T0, ("Conflict", "not_completed")),
    ],
)
def test_r6_theme_targets(linked: list[SlotFacts], at: dt.datetime, expected: Any) -> None:
    assert outcome(lambda: rules.theme_targets(linked, at, skew=SKEW)) == expected


BLOCKED_APPLICANT = Party(person_id=1, blocked=True)
BLOCKED_AGENT = Party(person_id=2, blocked=True)


@pytest.mark.parametrize(
    ("rated_by", "targets", "expected"),
    [
        ("applicant", [slot()], APPLICANT),
        ("applicant", [slot(agent=AGENT)], APPLICANT),
        ("agent", [slot(agent=AGENT)], AGENT),
        ("agent", [slot()], ("Invalid", "invalid")),
        # A theme or batch: the first record an agent handled.
        ("agent", [slot(1), slot(2, agent=AGENT)], AGENT),
        ("applicant", [slot(1, applicant=BLOCKED_APPLICANT), slot(2)], BLOCKED_APPLICANT),
        # R15 through R7: whose registry entry counts is the evaluator's, never the other party's.
        ("agent", [slot(applicant=BLOCKED_APPLICANT, agent=AGENT)], AGENT),
        ("applicant", [slot(agent=BLOCKED_AGENT)], APPLICANT),
        ("agent", [slot(agent=BLOCKED_AGENT)], BLOCKED_AGENT),
    ],
)
def test_r7_evaluator(rated_by: str, targets: list[SlotFacts], expected: Any) -> None:
    assert outcome(lambda: rules.evaluator(rated_by, targets)) == expected


@pytest.mark.parametrize(("who", "counted"), [(APPLICANT, True), (BLOCKED_APPLICANT, False)])
def test_r15_a_blocked_evaluator_counts_nowhere(who: Party, counted: bool) -> None:
    assert rules.counted(who) is counted


@pytest.mark.parametrize(
    ("level", "who", "opens"),
    [(1, APPLICANT, True), (2, APPLICANT, True), (3, APPLICANT, False), (5, APPLICANT, False)]
    + [(1, BLOCKED_APPLICANT, False), (5, BLOCKED_APPLICANT, False)],
)
def test_r12_r15_a_bad_rating_opens_a_case_unless_blocked(level: int, who: Party, opens: bool) -> None:
    assert rules.opens_case(level, who) is opens


def test_refusals_are_the_apis_errors() -> None:
    assert isinstance(outcome_error(lambda: rules.level_check(0)), Invalid)
    assert isinstance(outcome_error(lambda: rules.window_check(slot(), T0 + 8 * DAY, skew=SKEW)), Gone)
    assert isinstance(outcome_error(lambda: rules.rated_once_check(True)), Conflict)


def outcome_error(call: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(("level", "good"), [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_r1_levels_four_and_five_are_good(level: int, good: bool) -> None:
    assert rules.is_good(level) is good


@pytest.mark.parametrize(
    ("at", "facts", "expected"),
    [
        (T0, {}, False),
        # R2: the closing instant still belongs to the window (as `window_open` says)...
        (T0 + 7 * DAY, {}, False),
        # ... and the default rating is due only after it.
        (T0 + 7 * DAY + dt.timedelta(microseconds=1), {}, True),
        (T0 + 30 * DAY, {"closes_at": None}, False),
    ],
)
def test_r2_window_closed(at: dt.datetime, facts: dict[str, Any], expected: bool) -> None:
    assert rules.window_closed(slot(**facts), at) is expected


@pytest.mark.parametrize(
    ("kind", "days", "expected"),
    [
        ("completion", 7, T0 + 7 * DAY),
        ("visit", 7, T0 + 7 * DAY),
        ("completion", 15, T0 + 15 * DAY),
        ("theme", 7, None),
    ],
)
def test_r2_window_closes_at(kind: str, days: int, expected: dt.datetime | None) -> None:
    assert rules.window_closes_at(kind, T0, days) == expected


@pytest.mark.parametrize(
    ("mode", "on_the_spot", "expected"),
    [
        ("mixed", False, True),
        ("mixed", True, True),
        ("onsite", False, True),
        ("onsite", True, False),
        ("online", False, False),
        ("online", True, False),
    ],
)
def test_r4_rated_per_visit(mode: str, on_the_spot: bool, expected: bool) -> None:
    assert rules.rated_per_visit(mode, on_the_spot) is expected


@pytest.mark.parametrize(
    ("bundle_kind", "batch_item", "item", "expected"),
    [
        ("batch", None, 7, None),
        ("batch", 7, 7, None),
        ("batch", 7, 8, ("Invalid", "invalid")),
        # A theme links different items (R6).
        ("theme", 7, 8, None),
    ],
)
def test_r5_batch_item_check(bundle_kind: str, batch_item: int | None, item: int, expected: Any) -> None:
    assert outcome(lambda: rules.batch_item_check(bundle_kind, batch_item, item)) == expected


@pytest.mark.parametrize(
    ("bundle_kind", "given", "expected"),
    [
        ("batch", [], None),
        ("batch", [rules.Given(9, False), rules.Given(4, False)], 4),
        ("theme", [rules.Given(4, False)], None),
        ("theme", [rules.Given(4, False), rules.Given(9, True), rules.Given(6, True)], 6),
    ],
)
def test_r5_r6_inherited_from(bundle_kind: str, given: list[rules.Given], expected: int | None) -> None:
    assert rules.inherited_from(bundle_kind, given) == expected


def test_the_record_rules_are_the_records_own() -> None:
    """Re-exported, not restated: one function each."""
    from haoping.records import rules as record_rules

    for name in ("window_closes_at", "rated_per_visit", "batch_item_check"):
        assert getattr(rules, name) is getattr(record_rules, name)
    assert {record_rules.COMPLETION, record_rules.VISIT, record_rules.THEME} == set(RatingSlot.Kind.values)
    assert {record_rules.BATCH, record_rules.THEME} == set(Bundle.Kind.values)
    assert {record_rules.ONSITE, record_rules.ONLINE, record_rules.MIXED} == set(ServiceRecord.Mode.values)


def _china(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, second, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        # A confirmed number: once a day, whatever the hour (China time), again the next day.
        (("d1", None, _china(16, 8)), ("d1", None, _china(16, 19, 59)), True),
        (("d1", None, _china(16, 0, 0, 1)), ("d1", None, _china(16, 23, 59, 59)), True),
        (("d1", None, _china(16, 23, 59)), ("d1", None, _china(17, 0, 1)), False),
        (("d1", None, _china(16, 10)), ("d2", None, _china(16, 10)), False),
        # A pad without a number: once a minute per pad.
        ((None, 7, _china(16, 10, 0, 10)), (None, 7, _china(16, 10, 0, 50)), True),
        ((None, 7, _china(16, 10, 0, 50)), (None, 7, _china(16, 10, 1, 5)), False),
        ((None, 7, _china(16, 10, 0)), (None, 8, _china(16, 10, 0)), False),
        ((None, 7, _china(16, 10, 0)), (None, 7, _china(16, 11, 0)), False),
        # A number confirmed at a pad counts as the number's, not the pad's.
        (("d1", 7, _china(16, 9)), ("d1", 8, _china(16, 15)), True),
    ],
)
def test_r11_the_hall_is_rated_once_a_day_per_number_or_once_a_minute_per_pad(
    first: tuple[str | None, int | None, dt.datetime], second: tuple[str | None, int | None, dt.datetime], same: bool
) -> None:
    keys = [
        rules.hall_rating_evaluator(phone_digest=digest or "", pad_id=pad, at=when)
        for digest, pad, when in (first, second)
    ]
    assert (keys[0] == keys[1]) is same
    assert keys[0][1] == first[2].date() and keys[1][1] == second[2].date()


def test_r11_a_hall_rating_needs_a_number_or_a_pad() -> None:
    with pytest.raises(Invalid) as refused:
        rules.hall_rating_evaluator(phone_digest="", pad_id=None, at=_china(16, 10))
    assert (refused.value.code, refused.value.extra) == ("phone_required", {"field": "phone"})
