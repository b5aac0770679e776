"""R12, R14: appeals, invalidations and extensions are decided by a second person, a manager of
the case's region (or of the region above it, per policy), never by who asked; API keys carry
roles, and a business system's key decides nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from haoping.accounts.models import ApiClient, Membership
from haoping.accounts.selectors import api_client_for_key
from haoping.directory.models import Department, RegionPolicy
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.support import act, act_ok, bad_case, detail, set_policy, to_handling


def decide(api: Any, appeal_id: int, upheld: bool = True) -> Any:
    return api.post(f"/appeals/{appeal_id}/decide", {"upheld": upheld, "note": "复核"})


def appealed(world: dict[str, Any], record_payload: Any, by: str = "api") -> tuple[BadReviewCase, int]:
    case = bad_case(world, record_payload)
    res = world[by].post(f"/cases/{case.pk}/appeal", {"reasons": "当天系统故障"})
    assert res.status_code == 201, res.json()
    return case, res.json()["id"]


def test_the_key_that_appealed_cannot_decide_its_own_appeal(world: dict[str, Any], record_payload: Any) -> None:
    case, appeal_id = appealed(world, record_payload)
    own = decide(world["api"], appeal_id)
    assert own.status_code == 403
    assert own.json()["error"] == "own_request"
    assert "另一名管理人员" in own.json()["detail"]
    assert detail(world["api"], case.pk)["invalid"] is False
    # A second manager of the region decides.
    res = decide(world["manager_api"], appeal_id)
    assert (res.status_code, res.json()["state"]) == (200, "upheld")
    case.refresh_from_db()
    assert case.invalid is True


def test_a_business_system_key_decides_nothing(world: dict[str, Any], record_payload: Any) -> None:
    business = world["business_api"]
    case, appeal_id = appealed(world, record_payload)
    res = decide(business, appeal_id)
    assert res.status_code == 403 and res.json()["error"] == "forbidden"
    assert "不能作出任何决定" in res.json()["detail"]
    to_handling(world["api"], case.pk, "mistaken")
    act_ok(world["api"], case.pk, "request_invalidation", reason="误评")
    for action in ("approve_invalidation", "reject_invalidation"):
        refused = act(business, case.pk, action, note="同意")
        assert refused.status_code == 403 and "不能作出任何决定" in refused.json()["detail"]
    # Nor send a case to another unit: that is a manager's or the hotline's.
    other = bad_case(world, record_payload)
    assert act(business, other.pk, "dispatch", unit="D-OTHER").status_code == 403
    # It still works its unit's cases, as it did.
    assert act_ok(business, other.pk, "contact", note="已联系")["state"] == "contacted"


def test_an_invalidation_needs_a_second_manager(world: dict[str, Any], record_payload: Any) -> None:
    api, manager = world["api"], world["manager_api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, "malicious")
    act_ok(api, case.pk, "request_invalidation", reason="恶意差评")
    own = act(api, case.pk, "approve_invalidation", note="同意")
    assert (own.status_code, own.json()["error"]) == (403, "own_request")
    assert detail(api, case.pk)["state"] == "invalidation_requested"
    assert act_ok(manager, case.pk, "approve_invalidation", note="同意")["state"] == "closed"


def test_an_extension_needs_a_second_manager(world: dict[str, Any], record_payload: Any) -> None:
    api, manager = world["api"], world["manager_api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, "complex")
    act_ok(api, case.pk, "request_extension", days=5, reason="需会商")
    for action in ("approve_extension", "reject_extension"):
        own = act(api, case.pk, action, note="自批")
        assert (own.status_code, own.json()["error"]) == (403, "own_request")
    assert act_ok(manager, case.pk, "approve_extension", note="同意")["state"] == "handling"
    case.refresh_from_db()
    assert case.extended_days == 5


def test_the_hotline_dispatches_but_does_not_decide(world: dict[str, Any], record_payload: Any) -> None:
    from haoping.directory.models import Department

    Department.objects.create(code="D-TAX", name="玄武区税务局", region=world["district"])
    hotline = world["hotline_api"]
    case, appeal_id = appealed(world, record_payload)
    assert decide(hotline, appeal_id).status_code == 403
    assert act_ok(hotline, case.pk, "dispatch", unit="D-TAX")["state"] == "open"


def test_per_policy_a_manager_of_the_region_above_decides(world: dict[str, Any], record_payload: Any) -> None:
    set_policy(world["district"], decided_by=RegionPolicy.Decider.REGION_ABOVE)
    _case, appeal_id = appealed(world, record_payload)
    same_level = decide(world["manager_api"], appeal_id)
    assert (same_level.status_code, same_level.json()["error"]) == (403, "decider_level")
    assert "示例市" in same_level.json()["detail"]
    assert decide(world["city_api"], appeal_id).status_code == 200


def test_by_default_a_manager_of_the_same_region_decides(world: dict[str, Any], record_payload: Any) -> None:
    assert RegionPolicy(region=world["district"]).decided_by == RegionPolicy.Decider.SAME_REGION
    _case, appeal_id = appealed(world, record_payload)
    assert decide(world["manager_api"], appeal_id).status_code == 200


def test_in_the_console_who_asked_cannot_decide_even_after_becoming_a_manager(
    world: dict[str, Any], record_payload: Any
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk, "mistaken")
    user = get_user_model().objects.create_user(username="zhang", password="pw", first_name="张")
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    console = Client()
    console.force_login(user)
    asked = console.post(f"/console/cases/{case.pk}/act/request_invalidation/", {"reason": "评价人承认误点"})
    assert asked.status_code == 302
    # Promoted to the region's manager, the same person still cannot decide their own request.
    Membership.objects.filter(user=user).update(role="manager", region=world["district"], department=None)
    own = console.post(f"/console/cases/{case.pk}/act/approve_invalidation/", {"note": "同意"})
    assert own.status_code == 403
    assert "另一名管理人员" in own.content.decode()
    case.refresh_from_db()
    assert case.state == "invalidation_requested"
    second = get_user_model().objects.create_user(username="li", password="pw", first_name="李")
    Membership.objects.create(user=second, role="manager", region=world["district"])
    other = Client()
    other.force_login(second)
    assert other.post(f"/console/cases/{case.pk}/act/approve_invalidation/", {"note": "同意"}).status_code == 302
    case.refresh_from_db()
    assert (case.state, case.invalid) == ("closed", True)


def test_a_console_handler_cannot_decide_an_appeal(world: dict[str, Any], record_payload: Any) -> None:
    case, appeal_id = appealed(world, record_payload, by="manager_api")
    user = get_user_model().objects.create_user(username="h", password="pw")
    Membership.objects.create(user=user, role="handler", department=Department.objects.get(code="D-MKT"))
    console = Client()
    console.force_login(user)
    res = console.post(f"/console/appeals/{appeal_id}/decide/", {"upheld": "yes"})
    assert res.status_code == 403
    assert "不能作出任何决定" in res.content.decode()


@pytest.mark.parametrize("role", [None, "business", "hotline", "manager"])
def test_create_api_client_takes_a_role(world: dict[str, Any], role: str | None) -> None:
    out = io.StringIO()
    args = ["create_api_client", "区平台", "--region", "320102"] + (["--role", role] if role else [])
    call_command(*args, stdout=out)
    client = api_client_for_key(out.getvalue().strip().splitlines()[-1])
    assert client is not None
    # New keys, like the keys that existed before roles, are business systems unless told otherwise.
    assert client.role == (role or ApiClient.Role.BUSINESS)
