"""R12 deadlines by region policy, on the 2026 calendar, read back from the case.

The 2026 facts used, as published: 9/25–27 中秋 and 10/1–7 国庆 are rest days; Sun 9/20 and Sat 10/10
are worked. 2027 is not published: its days come from the weekends-only fallback, so 1/1 (a Friday)
counts as a working day and any deadline reaching into 2027 is provisional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act,
    act_ok,
    at,
    bad_case,
    detail,
    eod,
    parse,
    set_policy,
    to_handling,
)

OPENED = at(2026, 9, 29, 10)  # a Tuesday, the day before the National Day holiday
CLASSIFIED = at(2026, 9, 30, 10)

# preset: contact due, then the handling deadline of a case classified simple, general, complex at CLASSIFIED.
PRESETS = {
    # 48 clock hours; the end of the same day; 5 and 15 working days.
    "default": (at(2026, 10, 1, 10), eod(2026, 9, 30), eod(2026, 10, 13), eod(2026, 10, 27)),
    # 48 clock hours; 5 and 15 natural days.
    "ezhou_rules": (at(2026, 10, 1, 10), eod(2026, 9, 30), eod(2026, 10, 5), eod(2026, 10, 15)),
    # 1 working day (9/30); 5 and 15 working days.
    "ezhou_plan": (eod(2026, 9, 30), eod(2026, 9, 30), eod(2026, 10, 13), eod(2026, 10, 27)),
    # 48 clock hours; 15 natural days, whatever the category.
    "siping": (at(2026, 10, 1, 10), eod(2026, 9, 30), eod(2026, 10, 15), eod(2026, 10, 15)),
}


@pytest.mark.parametrize("preset", list(PRESETS))
def test_each_preset_sets_the_contact_and_handling_deadlines(
    world: dict[str, Any], record_payload: Any, clock: Clock, preset: str
) -> None:
    set_policy(world["district"], case_deadlines=preset)
    api = world["api"]
    contact_due, *handling_due = PRESETS[preset]
    for category, expected in zip(("simple", "general", "complex"), handling_due, strict=True):
        clock.set(OPENED)
        case = bad_case(world, record_payload)
        assert case.deadline_rules == preset
        assert case.contact_due == case.due_at == contact_due, category
        clock.set(CLASSIFIED)
        to_handling(api, case.pk, category)
        case.refresh_from_db()
        assert case.resolve_due == case.due_at == expected, (preset, category)
        assert case.contact_due == contact_due  # a stored deadline is not recomputed later
        assert case.provisional is False


def test_a_general_case_classified_on_30_september_is_due_on_13_october(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    """10/1–7 are rest days; 10/8, 10/9, Sat 10/10 (worked), 10/12, 10/13."""
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(at(2026, 9, 30, 17, 45))
    to_handling(api, case.pk, "general")
    body = detail(api, case.pk)
    assert parse(body["resolve_due"]) == parse(body["due_at"]) == at(2026, 10, 13, 23, 59, 59)
    assert body["provisional"] is False


def test_a_48_hour_contact_deadline_counts_clock_hours(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    # Through the holiday…
    clock.set(at(2026, 9, 30, 10, 15))
    assert bad_case(world, record_payload).contact_due == at(2026, 10, 2, 10, 15)
    # …and into the unpublished year: hours do not depend on the calendar, so nothing is provisional.
    clock.set(at(2026, 12, 31, 20))
    case = bad_case(world, record_payload)
    assert (case.contact_due, case.provisional) == (at(2027, 1, 2, 20), False)


def test_a_one_working_day_contact_deadline_skips_the_holiday(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    set_policy(world["district"], case_deadlines="ezhou_plan")
    clock.set(at(2026, 9, 30, 10))
    assert bad_case(world, record_payload).contact_due == eod(2026, 10, 8)


def test_a_deadline_reaching_into_2027_is_provisional(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    clock.set(at(2026, 12, 18, 9))
    general = bad_case(world, record_payload)
    complex_ = bad_case(world, record_payload)
    clock.set(at(2026, 12, 20, 10))  # a Sunday
    to_handling(api, general.pk, "general")
    to_handling(api, complex_.pk, "complex")
    # 12/21–25: confirmed days only.
    assert (detail(api, general.pk)["provisional"], parse(detail(api, general.pk)["resolve_due"])) == (
        False,
        eod(2026, 12, 25),
    )
    # 12/21–25, 12/28–31 (9), then the fallback: Fri 1/1 (10), 1/4–1/8 (15).
    body = detail(api, complex_.pk)
    assert (body["provisional"], parse(body["resolve_due"])) == (True, eod(2027, 1, 8))
    listed = {c["id"]: c["provisional"] for c in api.get("/cases").json()}
    assert listed == {general.pk: False, complex_.pk: True}


@pytest.mark.parametrize(
    ("preset", "resolve_due", "extended_due"),
    [
        # 5 working days after 9/30 → 10/13; 3 more working days → 10/16.
        ("default", eod(2026, 10, 13), eod(2026, 10, 16)),
        # 5 natural days → 10/5; 3 more natural days → 10/8.
        ("ezhou_rules", eod(2026, 10, 5), eod(2026, 10, 8)),
        # 15 natural days → 10/15; 3 more → 10/18, a Sunday, because natural days are counted.
        ("siping", eod(2026, 10, 15), eod(2026, 10, 18)),
    ],
)
def test_an_approved_extension_moves_the_deadline_in_the_unit_of_the_step(
    world: dict[str, Any],
    record_payload: Any,
    clock: Clock,
    preset: str,
    resolve_due: dt.datetime,
    extended_due: dt.datetime,
) -> None:
    set_policy(world["district"], case_deadlines=preset)
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(api, case.pk, "general")
    assert parse(detail(api, case.pk)["resolve_due"]) == resolve_due
    # Only from handling, and the days are a whole number from 1 to 30.
    assert act(api, case.pk, "request_extension", days=0, reason="需协调").json()["field"] == "days"
    assert act(api, case.pk, "request_extension", days=31, reason="需协调").json()["field"] == "days"
    requested = act_ok(api, case.pk, "request_extension", days=3, reason="需协调第三方")
    assert requested["state"] == "extension_requested"
    assert act(api, case.pk, "rectify", description="已整改").status_code == 409
    assert act_ok(world["manager_api"], case.pk, "approve_extension", note="同意延期")["state"] == "handling"
    body = detail(api, case.pk)
    assert parse(body["resolve_due"]) == parse(body["due_at"]) == extended_due
    unit = "days" if preset in ("ezhou_rules", "siping") else "workdays"
    assert body["history"][-1]["data"] == {"days": 3, "unit": unit, "resolve_due": extended_due.isoformat()}
    assert BadReviewCase.objects.get(pk=case.pk).extension_days is None


def test_a_rejected_extension_keeps_the_deadline(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(api, case.pk, "general")
    act_ok(api, case.pk, "request_extension", days=5, reason="需协调")
    assert act_ok(world["manager_api"], case.pk, "reject_extension", note="理由不足")["state"] == "handling"
    case.refresh_from_db()
    assert (case.resolve_due, case.due_at, case.extension_days) == (eod(2026, 10, 13), eod(2026, 10, 13), None)


def test_a_simple_case_cannot_be_extended(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, "simple")
    res = act(api, case.pk, "request_extension", days=1, reason="x")
    assert res.status_code == 409 and "request_extension" not in res.json()["allowed_actions"]


def test_reclassifying_never_buys_time(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(api, case.pk, "general")
    clock.set(at(2026, 10, 12, 9))
    act_ok(api, case.pk, "classify", category="complex")
    case.refresh_from_db()
    # Counted from the first classification (9/30), not from today: 15 working days → 10/27.
    assert (case.resolve_due, case.step_started_at, case.classified_at) == (eod(2026, 10, 27), CLASSIFIED, CLASSIFIED)


def test_reclassifying_keeps_the_extensions_granted(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    clock.set(CLASSIFIED)
    to_handling(api, case.pk, "general")
    act_ok(api, case.pk, "request_extension", days=3, reason="需协调第三方")
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意延期")
    act_ok(api, case.pk, "request_extension", days=2, reason="仍需协调")
    act_ok(world["manager_api"], case.pk, "approve_extension", note="同意")
    case.refresh_from_db()
    # 5 working days after 9/30 → 10/13, then 3 + 2 more working days → 10/20.
    assert (case.resolve_due, case.extended_days) == (eod(2026, 10, 20), 5)
    clock.set(at(2026, 10, 14, 9))
    act_ok(api, case.pk, "classify", category="complex")
    case.refresh_from_db()
    # 15 working days from 9/30 → 10/27, and the 5 days granted → 11/3.
    assert case.resolve_due == case.due_at == eod(2026, 11, 3)
    assert detail(api, case.pk)["history"][-1]["data"]["resolve_due"] == eod(2026, 11, 3).isoformat()
