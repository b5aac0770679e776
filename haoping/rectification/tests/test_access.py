"""Who sees and works a case: every case endpoint with the owner's key, another region's key and the
city's key; then console actors (handler, staff member, manager) at the service level."""

from __future__ import annotations

from typing import Any

import pytest

from haoping.audit.models import AuditEntry
from haoping.directory.models import Department, Staff
from haoping.errors import Forbidden, NotFound
from haoping.rectification.models import Appeal, BadReviewCase
from haoping.rectification.selectors import CaseFilters, appeal_get, case_get, case_list, cases_visible
from haoping.rectification.services import case_act, case_reveal_evaluator, spot_check_draw
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act, bad_case, console_actor, person


@pytest.fixture
def case(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    return bad_case(world, record_payload, applicant=person(1, phone="13812345678"))


def test_the_owner_key_reaches_every_endpoint(world: dict[str, Any], case: BadReviewCase) -> None:
    api = world["api"]
    assert [c["id"] for c in api.get("/cases").json()] == [case.pk]
    assert api.get(f"/cases/{case.pk}").json()["id"] == case.pk
    assert act(api, case.pk, "contact", note="已联系").json()["state"] == "contacted"
    appeal = api.post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"})
    assert appeal.status_code == 201
    # Who files never decides: another manager of the region does.
    assert api.post(f"/appeals/{appeal.json()['id']}/decide", {"upheld": False}).status_code == 403
    assert world["manager_api"].post(f"/appeals/{appeal.json()['id']}/decide", {"upheld": False}).status_code == 200


def test_another_regions_key_finds_nothing(world: dict[str, Any], case: BadReviewCase) -> None:
    api, other = world["api"], world["other_api"]
    appeal_id = api.post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"}).json()["id"]
    assert other.get("/cases").json() == []
    assert other.get("/cases?state=open").json() == []
    for res in (
        other.get(f"/cases/{case.pk}"),
        act(other, case.pk, "contact", note="已联系"),
        other.post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"}),
        other.post(f"/appeals/{appeal_id}/decide", {"upheld": True}),
    ):
        # Not 403: the case does not exist for it, so its existence does not leak.
        assert res.status_code == 404, res.json()
        assert res.json()["error"] == "not_found"
    case.refresh_from_db()
    assert (case.state, case.invalid, case.events.count()) == ("open", False, 2)  # open, appeal
    assert Appeal.objects.get().state == "pending"


def test_the_city_key_sees_and_works_its_districts_cases(world: dict[str, Any], case: BadReviewCase) -> None:
    city = world["city_api"]
    assert [c["id"] for c in city.get("/cases").json()] == [case.pk]
    assert city.get(f"/cases/{case.pk}").json()["unit"] == "D-MKT"
    assert act(city, case.pk, "contact", note="市级平台转办联系").json()["state"] == "contacted"
    appeal = city.post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"})
    assert appeal.status_code == 201
    # The city's own appeal is decided by another manager: the district's.
    assert city.post(f"/appeals/{appeal.json()['id']}/decide", {"upheld": True}).status_code == 403
    decided = world["manager_api"].post(f"/appeals/{appeal.json()['id']}/decide", {"upheld": True})
    assert decided.json()["state"] == "upheld"


def test_without_a_key_nothing_answers(world: dict[str, Any], case: BadReviewCase) -> None:
    from django.test import Client

    assert Client().get("/api/v1/cases").status_code == 401
    assert Client().get(f"/api/v1/cases/{case.pk}").status_code == 401


def test_a_handler_works_only_their_units_cases(world: dict[str, Any], case: BadReviewCase) -> None:
    own = console_actor("mkt", "handler", department=Department.objects.get(code="D-MKT"))
    elsewhere = console_actor("qh", "handler", department=Department.objects.get(code="D-OTHER"))
    assert list(cases_visible(own)) == [case]
    assert list(cases_visible(elsewhere)) == []
    with pytest.raises(NotFound):
        case_get(actor=elsewhere, case_id=case.pk)
    with pytest.raises(Forbidden):
        case_act(actor=elsewhere, case=case, action="contact", fields={"note": "已联系"})
    case.refresh_from_db()
    assert case.state == "open" and case.events.count() == 1
    assert case_act(actor=own, case=case, action="contact", fields={"note": "已联系"}).state == "contacted"
    # A handler does not take a manager's decisions.
    case_act(actor=own, case=case, action="classify", fields={"category": "mistaken"})
    case_act(actor=own, case=case, action="request_invalidation", fields={"reason": "误评"})
    with pytest.raises(Forbidden):
        case_act(actor=own, case=case, action="approve_invalidation", fields={})


def test_a_staff_member_sees_only_their_own_cases_and_never_who_rated(
    world: dict[str, Any], record_payload: Any, case: BadReviewCase
) -> None:
    theirs = console_actor("wang", "staff", staff=world["staff"])
    colleague = console_actor("li", "staff", staff=Staff.objects.get(staff_no="S002"))
    # A case of the colleague, at window 2.
    other = bad_case(world, record_payload, window_code="W-XW-02", staff_no="S002", applicant=person(2))
    assert [c.pk for c in case_list(actor=theirs, filters=CaseFilters())] == [case.pk]
    assert [c.pk for c in case_list(actor=colleague, filters=CaseFilters())] == [other.pk]
    with pytest.raises(NotFound):
        case_get(actor=theirs, case_id=other.pk)
    seen = case_get(actor=theirs, case_id=case.pk)
    with pytest.raises(Forbidden):
        case_reveal_evaluator(actor=theirs, case=seen, reason="想知道是谁")
    # Staff members do not work cases either.
    with pytest.raises(Forbidden):
        case_act(actor=theirs, case=seen, action="contact", fields={"note": "已联系"})
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_PERSONAL_DATA).exists()


def test_the_evaluators_contact_is_revealed_only_to_those_who_work_the_case_and_audited(
    world: dict[str, Any], case: BadReviewCase
) -> None:
    elsewhere = console_actor("qh", "handler", department=Department.objects.get(code="D-OTHER"))
    other_manager = console_actor("qh-mgr", "manager", region=world["other"])
    for outsider in (elsewhere, other_manager):
        with pytest.raises(Forbidden):
            case_reveal_evaluator(actor=outsider, case=case, reason="回访")
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL_PERSONAL_DATA).exists()
    own = console_actor("mkt", "handler", department=Department.objects.get(code="D-MKT"))
    assert case_reveal_evaluator(actor=own, case=case, reason="电话回访")["phone"] == "13812345678"
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL_PERSONAL_DATA)
    assert entry.reason == "电话回访" and "13812345678" not in entry.target


def test_a_manager_sees_their_region_and_not_another(world: dict[str, Any], case: BadReviewCase) -> None:
    manager = console_actor("xw", "manager", region=world["district"])
    city = console_actor("city", "manager", region=world["city"])
    elsewhere = console_actor("qh", "manager", region=world["other"])
    assert case_get(actor=manager, case_id=case.pk) == case
    assert case_get(actor=city, case_id=case.pk) == case
    with pytest.raises(NotFound):
        case_get(actor=elsewhere, case_id=case.pk)
    assert list(cases_visible(elsewhere)) == []
    # Handed the case anyway, a service still refuses.
    with pytest.raises(Forbidden):
        case_act(actor=elsewhere, case=case, action="dispatch", fields={"unit": "D-OTHER"})
    with pytest.raises(Forbidden):
        spot_check_draw(
            actor=elsewhere,
            region=world["district"],
            closed_from=case.opened_at.date(),
            closed_to=case.opened_at.date(),
            count=1,
        )
    assert BadReviewCase.objects.get(pk=case.pk).unit.code == "D-MKT"


def test_appeals_are_found_only_inside_the_region(world: dict[str, Any], case: BadReviewCase) -> None:
    appeal_id = world["api"].post(f"/cases/{case.pk}/appeal", {"reasons": "系统故障"}).json()["id"]
    manager = console_actor("xw", "manager", region=world["district"])
    elsewhere = console_actor("qh", "manager", region=world["other"])
    assert appeal_get(actor=manager, appeal_id=appeal_id).pk == appeal_id
    with pytest.raises(NotFound):
        appeal_get(actor=elsewhere, appeal_id=appeal_id)


def test_the_list_and_the_detail_cost_the_same_few_queries_however_many_cases(
    world: dict[str, Any], record_payload: Any, case: BadReviewCase
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = world["api"]
    api.get("/cases")  # the key is cached from here on

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(path).status_code == 200
        return len(captured)

    one_list, one_detail = queries("/cases"), queries(f"/cases/{case.pk}")
    for n in range(2, 6):
        more = bad_case(world, record_payload, applicant=person(n))
        act(api, more.pk, "contact", note="已联系")
    assert len(api.get("/cases").json()) == 5
    assert queries("/cases") == one_list
    act(api, case.pk, "contact", note="已联系")
    act(api, case.pk, "classify", category="general")
    assert queries(f"/cases/{case.pk}") == one_detail
