"""R12 through the case API: one workflow table, 409 with the allowed actions, a history row for
every transition, and each path a case can take."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from django.utils import translation

from haoping.directory.models import Department
from haoping.errors import Forbidden, NotFound
from haoping.rectification import api as case_api
from haoping.rectification.models import BadReviewCase, CaseEvent, Consultation, Message
from haoping.rectification.selectors import case_allowed_actions, case_get
from haoping.rectification.services import HANDLERS, case_act
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import (
    act,
    act_ok,
    at,
    bad_case,
    console_actor,
    detail,
    eod,
    parse,
    set_policy,
    to_handling,
    to_replied,
)
from haoping.rectification.workflow import ACTIONS, DECISIONS, WORKFLOW

CLIENT = "玄武区审批系统"


@pytest.fixture
def tax(world: dict[str, Any]) -> Department:
    """A second unit in the same district."""
    return Department.objects.create(code="D-TAX", name="玄武区税务局", region=world["district"])


def history(api: Any, case_id: int) -> list[tuple[str, str, str]]:
    return [(e["action"], e["from_state"], e["to_state"]) for e in detail(api, case_id)["history"]]


def test_one_table_drives_every_action() -> None:
    # Every row but the appeal's (which only appeal_decide takes) has its handler, and the API offers
    # exactly those the table marks for it.
    assert set(HANDLERS) == set(WORKFLOW) - {"uphold_appeal"}
    assert set(typing.get_args(case_api.Action)) == {name for name in HANDLERS if ACTIONS[name].api}


def test_every_action_has_what_it_needs() -> None:
    states, categories = set(BadReviewCase.State.values), set(BadReviewCase.Category.values)
    known_roles = {"handler", "hotline", "manager", "evaluator", "system"}
    for name, action in ACTIONS.items():
        assert len(name) <= CaseEvent._meta.get_field("action").max_length, name
        # A label in Chinese: every action is shown on the timeline.
        with translation.override("zh-hans"):
            label = str(action.label)
        assert label and not label.isascii(), name
        if not action.is_transition:
            assert not (action.targets or action.roles or action.handler or action.form or action.decides), name
            continue
        assert action.sources <= states and action.targets and set(action.targets) <= states, name
        assert action.roles and action.roles <= known_roles, name
        assert action.categories is None or action.categories <= categories, name
        if name == "uphold_appeal":
            continue
        assert callable(HANDLERS[name]) and HANDLERS[name].__name__ == action.handler, name
        for spec in action.form:
            with translation.override("zh-hans"):
                assert not str(spec.label).isascii(), (name, spec.name)
            assert spec.kind in {"textarea", "text", "number", "select", "multiselect", "yesno", "files", "date"}
        # Evidence is asked for exactly where the service accepts it.
        assert action.files == any(spec.kind == "files" for spec in action.form), name
        if action.decides is not None:
            request = ACTIONS[action.decides]
            assert request.is_transition and "manager" in action.roles, name
            # The decision answers the state its request leads to.
            assert action.sources == set(request.targets), name


def test_the_timeline_codes_are_the_tables_actions() -> None:
    field = CaseEvent._meta.get_field("action")
    assert [code for code, _label in field.choices] == list(ACTIONS)
    assert DECISIONS == {name: a.decides for name, a in ACTIONS.items() if a.decides}


def test_an_action_not_allowed_now_is_409_with_the_allowed_ones(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    res = act(api, case.pk, "reply", answer="已整改")
    assert res.status_code == 409
    assert res.json()["error"] == "action_not_allowed"
    assert res.json()["allowed_actions"] == ["dispatch", "contact"]
    case.refresh_from_db()
    assert case.state == "open" and case.events.count() == 1
    # A category decides too: a case without legal basis is explained, not rectified.
    to_handling(api, case.pk, "no_legal_basis")
    res = act(api, case.pk, "rectify", description="已整改")
    assert res.status_code == 409
    assert res.json()["allowed_actions"] == ["dispatch", "classify", "explain", "request_extension"]


def test_the_whole_path_from_contact_to_a_satisfied_revisit(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    steps = [
        ("contact", {"note": "已电话联系，核实属实"}, "contacted", at(2026, 9, 29, 11)),
        ("classify", {"category": "general", "note": "一般问题"}, "handling", at(2026, 9, 29, 12)),
        ("rectify", {"description": "已约谈窗口人员"}, "resolved", at(2026, 9, 30, 9)),
        ("reply", {"answer": "您反映的问题已整改。"}, "replied", at(2026, 9, 30, 10)),
        ("revisit", {"satisfied": True, "note": "评价人表示满意"}, "closed", at(2026, 9, 30, 15)),
    ]
    for action, fields, state, moment in steps:
        clock.set(moment)
        assert act_ok(api, case.pk, action, **fields)["state"] == state
    body = detail(api, case.pk)
    assert body["state"] == "closed" and body["allowed_actions"] == ["reopen"]
    assert (body["invalid"], body["satisfied"]) == (False, True)
    assert parse(body["rectified_at"]) == at(2026, 9, 30, 9)
    assert parse(body["replied_at"]) == at(2026, 9, 30, 10)
    assert parse(body["revisited_at"]) == parse(body["closed_at"]) == at(2026, 9, 30, 15)
    # General: 5 working days after 9/29, the day it was classified: 9/30, (holiday) 10/8, 10/9, Sat 10/10, 10/12.
    assert parse(body["resolve_due"]) == eod(2026, 10, 12)
    events = body["history"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("open", "", "open"),
        ("contact", "open", "contacted"),
        ("classify", "contacted", "handling"),
        ("rectify", "handling", "resolved"),
        ("reply", "resolved", "replied"),
        ("revisit", "replied", "closed"),
    ]
    assert [parse(e["at"]) for e in events[1:]] == [moment for *_, moment in steps]
    assert {e["by"] for e in events[1:]} == {CLIENT}
    assert [e["note"] for e in events[1:]] == [
        "已电话联系，核实属实",
        "一般问题",
        "已约谈窗口人员",
        "您反映的问题已整改。",
        "评价人表示满意",
    ]
    assert events[2]["data"]["category"] == "general"
    # The history names the API client that acted, as a row.
    assert CaseEvent.objects.filter(case=case, api_client__name=CLIENT).count() == 5


def test_no_legal_basis_is_explained(world: dict[str, Any], record_payload: Any, clock: Clock) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, "no_legal_basis")
    assert act(api, case.pk, "explain").json()["field"] == "explanation"
    assert act_ok(api, case.pk, "explain", explanation="该要求无法律依据，已向评价人说明")["state"] == "resolved"
    assert act_ok(api, case.pk, "reply", answer="已说明")["state"] == "replied"
    assert history(api, case.pk)[-2:] == [("explain", "handling", "resolved"), ("reply", "resolved", "replied")]


@pytest.mark.parametrize("category", ["mistaken", "malicious"])
def test_an_approved_invalidation_closes_the_case_as_not_adopted(
    world: dict[str, Any], record_payload: Any, clock: Clock, category: str
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, category)
    # Not adopted is the manager's decision, not the handler's.
    assert act(api, case.pk, "rectify", description="x").status_code == 409
    requested = act_ok(api, case.pk, "request_invalidation", reason="评价人承认误点")
    assert requested["state"] == "invalidation_requested"
    assert requested["allowed_actions"] == ["approve_invalidation", "reject_invalidation"]
    assert Message.objects.filter(case=case, kind="invalidation", to_region=world["district"]).count() == 1
    clock.set(at(2026, 9, 30, 9))
    assert act_ok(world["manager_api"], case.pk, "approve_invalidation", note="同意")["state"] == "closed"
    body = detail(api, case.pk)
    assert (body["invalid"], body["invalid_reason"]) == (True, category)
    assert parse(body["closed_at"]) == at(2026, 9, 30, 9) and body["due_at"] is None
    assert history(api, case.pk)[-2:] == [
        ("request_invalidation", "handling", "invalidation_requested"),
        ("approve_invalidation", "invalidation_requested", "closed"),
    ]
    # Reported to the management above (R12).
    assert Message.objects.filter(case=case, kind="invalidation", to_region=world["city"]).count() == 1


def test_a_rejected_invalidation_goes_back_to_handling(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk, "mistaken")
    due = detail(api, case.pk)["resolve_due"]
    clock.advance(days=1)
    act_ok(api, case.pk, "request_invalidation", reason="误评")
    assert act(world["manager_api"], case.pk, "reject_invalidation").status_code == 422  # a rejection says why
    assert act_ok(world["manager_api"], case.pk, "reject_invalidation", note="评价属实")["state"] == "handling"
    body = detail(api, case.pk)
    assert (body["invalid"], body["invalid_reason"]) == (False, "")
    # Asking bought no time: the handling deadline set at classification still runs.
    assert parse(body["due_at"]) == parse(body["resolve_due"]) == parse(due) == eod(2026, 10, 12)
    assert history(api, case.pk)[-1] == ("reject_invalidation", "invalidation_requested", "handling")


def test_a_complex_case_brings_in_a_consulted_unit(
    world: dict[str, Any], record_payload: Any, clock: Clock, tax: Department
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    consulted = console_actor("tax", "handler", department=tax)
    with pytest.raises(NotFound):
        case_get(actor=consulted, case_id=case.pk)
    to_handling(api, case.pk, "general")
    # 会商 is for complex cases.
    assert act(api, case.pk, "start_consultation", units=["D-TAX"], note="会商").status_code == 409
    act_ok(api, case.pk, "classify", category="complex")
    assert act(api, case.pk, "start_consultation", units=["D-MKT"], note="会商").json()["field"] == "units"
    # Another district's unit is not one of the units involved; the city's are.
    elsewhere = act(api, case.pk, "start_consultation", units=["D-OTHER"], note="会商")
    assert (elsewhere.status_code, elsewhere.json()["field"]) == (422, "units")
    assert not Consultation.objects.filter(case=case).exists()
    state = act_ok(api, case.pk, "start_consultation", units=["D-TAX"], note="涉及税务登记")
    assert state["state"] == "handling"
    assert list(Consultation.objects.filter(case=case).values_list("unit__code", flat=True)) == ["D-TAX"]
    assert Message.objects.filter(case=case, kind="consultation", to_unit=tax).count() == 1
    # The consulted unit reads the case, but only the responsible unit works it.
    seen = case_get(actor=consulted, case_id=case.pk)
    assert case_allowed_actions(actor=consulted, case=seen) == []
    with pytest.raises(Forbidden):
        case_act(actor=consulted, case=seen, action="rectify", fields={"description": "已整改"})
    responsible = console_actor("mkt", "handler", department=Department.objects.get(code="D-MKT"))
    assert "rectify" in case_allowed_actions(actor=responsible, case=seen)
    assert (
        case_act(actor=responsible, case=seen, action="rectify", fields={"description": "已整改"}).state == "resolved"
    )


def test_a_revisit_not_satisfied_reopens_the_case_by_default(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_replied(api, case.pk)
    clock.set(at(2026, 10, 9, 10))
    assert act_ok(api, case.pk, "revisit", satisfied=False, note="仍不满意")["state"] == "handling"
    body = detail(api, case.pk)
    assert (body["satisfied"], body["rectified_at"], body["closed_at"]) == (False, None, None)
    assert parse(body["revisited_at"]) == at(2026, 10, 9, 10)
    # A fresh handling deadline: 5 working days after 10/9 (10/10 Sat is worked, then 10/12, 10/13, 10/14, 10/15).
    assert parse(body["resolve_due"]) == parse(body["due_at"]) == eod(2026, 10, 15)
    assert history(api, case.pk)[-1] == ("revisit", "replied", "handling")
    assert body["history"][-1]["data"] == {"satisfied": False, "reopened": True}
    told = Message.objects.filter(case_id=case.pk, to_unit_id=case.unit_id).order_by("-id").first()
    assert told is not None and "不满意" in told.text and "2026-10-15" in told.text


def test_a_revisit_not_satisfied_closes_the_case_where_the_policy_says_so(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    set_policy(world["district"], reopen_when_unsatisfied=False)
    api = world["api"]
    case = bad_case(world, record_payload)
    to_replied(api, case.pk)
    assert act_ok(api, case.pk, "revisit", satisfied=False)["state"] == "closed"
    body = detail(api, case.pk)
    assert (body["satisfied"], body["state"]) == (False, "closed")
    assert body["rectified_at"] is not None and body["closed_at"] is not None


def test_a_case_awaiting_revisit_can_be_closed_with_a_reason(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    to_handling(api, case.pk)
    assert act(api, case.pk, "close", note="联系不上").status_code == 409  # not before the answer
    act_ok(api, case.pk, "rectify", description="已整改")
    act_ok(api, case.pk, "reply", answer="已整改")
    assert act(api, case.pk, "close").json()["field"] == "note"
    assert act_ok(api, case.pk, "close", note="三次回访均未接通")["state"] == "closed"
    body = detail(api, case.pk)
    assert body["satisfied"] is None and body["revisited_at"] is None
    assert history(api, case.pk)[-1] == ("close", "replied", "closed")


def test_a_manager_dispatches_the_case_to_another_unit(
    world: dict[str, Any], record_payload: Any, clock: Clock, tax: Department
) -> None:
    api = world["api"]
    case = bad_case(world, record_payload)
    old = console_actor("mkt", "handler", department=Department.objects.get(code="D-MKT"))
    new = console_actor("tax", "handler", department=tax)
    to_handling(api, case.pk)
    # Only a manager dispatches.
    with pytest.raises(Forbidden):
        case_act(actor=old, case=case, action="dispatch", fields={"unit": "D-TAX"})
    # Not outside the client's region.
    res = act(api, case.pk, "dispatch", unit="D-OTHER")
    assert (res.status_code, res.json()["field"]) == (422, "unit")
    clock.set(at(2026, 9, 30, 16, 30))
    assert act_ok(api, case.pk, "dispatch", unit="D-TAX", note="属税务事项")["state"] == "open"
    body = detail(api, case.pk)
    assert (body["unit"], body["category"], body["resolve_due"]) == ("D-TAX", "", None)
    # The contact step starts again at the new unit: 48 clock hours from the dispatch.
    assert parse(body["contact_due"]) == parse(body["due_at"]) == at(2026, 10, 2, 16, 30)
    assert history(api, case.pk)[-1] == ("dispatch", "handling", "open")
    assert body["history"][-1]["data"] == {"from_unit": "D-MKT", "to_unit": "D-TAX"}
    assert Message.objects.filter(case=case, kind="dispatch", to_unit=tax).count() == 1
    with pytest.raises(NotFound):
        case_get(actor=old, case_id=case.pk)
    assert case_allowed_actions(actor=new, case=case_get(actor=new, case_id=case.pk)) == ["contact"]
    assert BadReviewCase.objects.get(pk=case.pk).dispatched_at == at(2026, 9, 30, 16, 30)


def test_the_table_imports_no_model() -> None:
    # The models read their states and action codes from the table; the table must not need them back.
    import ast
    import inspect

    from haoping.rectification import models, workflow

    imported = {
        node.module for node in ast.walk(ast.parse(inspect.getsource(workflow))) if isinstance(node, ast.ImportFrom)
    }
    assert not {m for m in imported if m and m.startswith("haoping.")}
    assert "import" not in inspect.getsource(models.CaseEvent)
