"""The deadline sweep (warn, mark overdue, escalate; idempotent) and R13 spot checks."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from haoping.errors import Conflict, Forbidden, Invalid
from haoping.rectification.models import BadReviewCase, CaseEvent, Message, SpotCheckItem
from haoping.rectification.services import SweepResult, cases_sweep, spot_check_draw, spot_check_record
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act_ok,
    at,
    bad_case,
    console_actor,
    detail,
    eod,
    rate,
    register,
    set_policy,
    to_handling,
    to_replied,
)


def kinds(case: BadReviewCase) -> list[tuple[str, str]]:
    return sorted(
        (m.kind, "unit" if m.to_unit_id else "region" if m.to_region_id else "?")
        for m in Message.objects.filter(case=case).exclude(kind="dispatch")
    )


def test_the_sweep_warns_then_marks_overdue_and_escalates_once(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    # Contact due 10/1 10:00 (48 h); warned once 75% of the time is used: 9/30 22:00.
    assert case.warn_at == at(2026, 9, 30, 22)
    assert cases_sweep(now=at(2026, 9, 30, 21, 59, 59)) == SweepResult(warned=0, overdue=0)
    assert cases_sweep(now=at(2026, 9, 30, 22)) == SweepResult(warned=1, overdue=0)
    case.refresh_from_db()
    assert (case.warned_at, case.overdue_at, case.was_overdue) == (at(2026, 9, 30, 22), None, False)
    assert kinds(case) == [("warning", "unit")]
    assert cases_sweep(now=at(2026, 9, 30, 23)) == SweepResult(warned=0, overdue=0)

    # At the deadline itself it is not late yet.
    assert cases_sweep(now=at(2026, 10, 1, 10)) == SweepResult(warned=0, overdue=0)
    late = at(2026, 10, 1, 10, 0, 1)
    assert cases_sweep(now=late) == SweepResult(warned=0, overdue=1)
    case.refresh_from_db()
    assert (case.overdue_at, case.escalated_at, case.was_overdue) == (late, late, True)
    assert kinds(case) == [("escalation", "region"), ("overdue", "unit"), ("warning", "unit")]
    assert Message.objects.get(case=case, kind="escalation").to_region == world["district"]
    events = list(case.events.values_list("action", flat=True))
    assert events == ["open", "warned", "overdue", "escalated"]

    # Idempotent: running again, now or later, changes nothing more.
    for moment in (late, late + dt.timedelta(hours=1), late + dt.timedelta(days=3)):
        assert cases_sweep(now=moment) == SweepResult(warned=0, overdue=0)
    assert case.events.count() == 4
    assert Message.objects.filter(case=case).count() == 4  # dispatch, warning, overdue, escalation

    clock.set(at(2026, 10, 1, 11))
    assert detail(api, case.pk)["overdue"] is True
    assert [c["id"] for c in api.get("/cases?overdue=true").json()] == [case.pk]
    # The next step has its own deadline: the marks are cleared, the history keeps that it was late.
    to_handling(api, case.pk)
    case.refresh_from_db()
    assert (case.warned_at, case.overdue_at, case.escalated_at, case.was_overdue) == (None, None, None, True)
    assert detail(api, case.pk)["overdue"] is False
    assert api.get("/cases?overdue=true").json() == []
    assert [c["id"] for c in api.get("/cases?overdue=false").json()] == [case.pk]
    # A case awaiting the revisit has no deadline, so it is never overdue.
    act_ok(api, case.pk, "rectify", description="已整改")
    act_ok(api, case.pk, "reply", answer="已整改")
    assert [(c["id"], c["due_at"]) for c in api.get("/cases?overdue=false").json()] == [(case.pk, None)]
    assert cases_sweep(now=at(2026, 12, 1)) == SweepResult(warned=0, overdue=0)


def test_the_warning_share_is_the_regions(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    set_policy(world["district"], warn_percent=50)
    case = bad_case(world, record_payload)
    assert case.warn_at == at(2026, 9, 30, 10)  # half of 48 hours
    assert cases_sweep(now=at(2026, 9, 30, 10)).warned == 1


def test_a_case_found_late_is_not_warned_first_and_closed_cases_are_left_alone(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    late = bad_case(world, record_payload)
    done = bad_case(world, record_payload)
    to_replied(api, done.pk)
    act_ok(api, done.pk, "revisit", satisfied=True)
    assert cases_sweep(now=at(2026, 10, 20)) == SweepResult(warned=0, overdue=1)
    assert list(late.events.values_list("action", flat=True)) == ["open", "overdue", "escalated"]
    assert not CaseEvent.objects.filter(case=done, action__in=["warned", "overdue"]).exists()


def closed_case(world: dict[str, Any], record_payload: Any, api: Any | None = None, **payload: Any) -> BadReviewCase:
    api = api or world["api"]
    body = record_payload(**payload)
    register(api, body)
    assert rate(api, record_no=body["record_no"], level=1).status_code == 201
    case = BadReviewCase.objects.get(record__record_no=body["record_no"])
    to_replied(api, case.pk)
    act_ok(api, case.pk, "revisit", satisfied=True)
    return case


@pytest.fixture
def closed(world: dict[str, Any], record_payload: Any, clock: Clock) -> dict[str, Any]:
    """Five cases closed on 9/29 in the district, one in the other district, one closed on 10/8, one open,
    one closed on 9/29 by an upheld appeal."""
    in_period = [closed_case(world, record_payload) for _ in range(5)]
    elsewhere = closed_case(
        world,
        record_payload,
        api=world["other_api"],
        item_code="ITEM-QH",
        institution_code="H-QH",
        window_code="W-QH-01",
        staff_no="S-QH",
    )
    open_case = bad_case(world, record_payload)
    # Not adopted after an appeal: management's own decision, not the unit's work, so never drawn.
    appealed = bad_case(world, record_payload)
    appeal_id = world["api"].post(f"/cases/{appealed.pk}/appeal", {"reasons": "系统故障"}).json()["id"]
    assert world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": True}).status_code == 200
    clock.set(at(2026, 10, 8, 9))
    later = closed_case(world, record_payload)
    return {"in_period": in_period, "elsewhere": elsewhere, "open": open_case, "later": later}


def test_a_spot_check_draws_a_share_or_a_count_of_the_regions_closed_cases(
    world: dict[str, Any], closed: dict[str, Any]
) -> None:
    manager = console_actor("xw", "manager", region=world["district"])
    pool = sorted(c.pk for c in closed["in_period"])
    period = {"closed_from": dt.date(2026, 9, 29), "closed_to": dt.date(2026, 9, 30)}

    check = spot_check_draw(actor=manager, region=world["district"], share=0.4, rng=random.Random(7), **period)
    assert check.population == 5
    drawn = sorted(check.items.values_list("case_id", flat=True))
    assert drawn == sorted(random.Random(7).sample(pool, 2))  # 40% of 5
    # The same seed draws the same sample.
    again = spot_check_draw(actor=manager, region=world["district"], share=0.4, rng=random.Random(7), **period)
    assert sorted(again.items.values_list("case_id", flat=True)) == drawn

    # At least the share: 50% of 5 is 3, and even 10% is 1.
    for share, size in ((0.5, 3), (0.1, 1), (1.0, 5)):
        sample = spot_check_draw(actor=manager, region=world["district"], share=share, rng=random.Random(1), **period)
        assert sample.items.count() == size, share

    by_count = spot_check_draw(actor=manager, region=world["district"], count=3, rng=random.Random(11), **period)
    assert sorted(by_count.items.values_list("case_id", flat=True)) == sorted(random.Random(11).sample(pool, 3))
    everything = spot_check_draw(actor=manager, region=world["district"], count=50, **period)
    assert sorted(everything.items.values_list("case_id", flat=True)) == pool
    assert set(everything.items.values_list("result", flat=True)) == {"pending"}

    # The city's manager draws over the whole city.
    city = console_actor("city", "manager", region=world["city"])
    wide = spot_check_draw(actor=city, region=world["city"], count=50, **period)
    assert sorted(wide.items.values_list("case_id", flat=True)) == sorted([*pool, closed["elsewhere"].pk])

    with pytest.raises(Conflict):
        spot_check_draw(
            actor=manager,
            region=world["district"],
            closed_from=dt.date(2026, 9, 1),
            closed_to=dt.date(2026, 9, 28),
            count=1,
        )
    for bad in ({"share": 0.0}, {"share": 1.5}, {"count": 0}, {"share": 0.5, "count": 2}, {}):
        with pytest.raises(Invalid):
            spot_check_draw(actor=manager, region=world["district"], **period, **bad)
    handler = console_actor("mkt", "handler", department=closed["later"].unit)
    with pytest.raises(Forbidden):
        spot_check_draw(actor=handler, region=world["district"], count=1, **period)


def test_a_failed_spot_check_reopens_the_case_and_a_passed_one_leaves_it_closed(
    world: dict[str, Any], closed: dict[str, Any], clock: Clock
) -> None:
    manager = console_actor("xw", "manager", region=world["district"])
    check = spot_check_draw(
        actor=manager,
        region=world["district"],
        closed_from=dt.date(2026, 9, 29),
        closed_to=dt.date(2026, 9, 29),
        count=2,
        rng=random.Random(3),
    )
    failing, passing = check.items.order_by("case_id")
    clock.set(at(2026, 10, 9, 10))
    with pytest.raises(Invalid):
        spot_check_record(actor=manager, item=failing, passed=False, note="")  # a failure says why
    spot_check_record(actor=manager, item=failing, passed=False, note="整改材料与现场不符")
    case = BadReviewCase.objects.get(pk=failing.case_id)
    assert (case.state, case.closed_at, case.rectified_at) == ("handling", None, None)
    # A fresh handling deadline: 5 working days after 10/9 → 10/10 (Sat, worked), 10/12, 10/13, 10/14, 10/15.
    assert case.resolve_due == case.due_at == eod(2026, 10, 15)
    assert list(case.events.values_list("action", "from_state", "to_state"))[-2:] == [
        ("spot_check", "", ""),
        ("reopen", "closed", "handling"),
    ]
    assert case.events.get(action="spot_check").data == {"passed": False, "check": check.pk}
    assert Message.objects.filter(case=case, kind="escalation", to_unit=case.unit).count() == 1
    # The outbox keeps no free text; the unit reads the reasons in the case's history.
    assert "整改材料与现场不符" not in Message.objects.get(case=case, kind="escalation", to_unit=case.unit).text
    item = SpotCheckItem.objects.get(pk=failing.pk)
    assert (item.result, item.note, item.checked_at) == ("failed", "整改材料与现场不符", at(2026, 10, 9, 10))

    spot_check_record(actor=manager, item=passing, passed=True, note="")
    kept = BadReviewCase.objects.get(pk=passing.case_id)
    assert kept.state == "closed" and kept.closed_at is not None
    assert kept.events.order_by("-id").values_list("action", flat=True)[0] == "spot_check"
    with pytest.raises(Conflict):
        spot_check_record(actor=manager, item=passing, passed=False, note="再查")
    elsewhere = console_actor("qh", "manager", region=world["other"])
    third = spot_check_draw(
        actor=manager,
        region=world["district"],
        closed_from=dt.date(2026, 9, 29),
        closed_to=dt.date(2026, 9, 29),
        count=1,
    ).items.get()
    with pytest.raises(Forbidden):
        spot_check_record(actor=elsewhere, item=third, passed=False, note="越权")
    assert SpotCheckItem.objects.get(pk=third.pk).result == "pending"
