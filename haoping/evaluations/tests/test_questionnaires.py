"""What people are asked (R8, R9): questionnaire sets per region and kind of object rated, inherited
down the region tree, edited in the admin, offered by the pages and held to by every path."""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation, QuestionnaireOption, QuestionnaireSet
from haoping.evaluations.questionnaire_defaults import DEFAULT_SETS
from haoping.evaluations.selectors import (
    questionnaire_cache_clear,
    questionnaire_for,
    reason_labels_of,
)
from haoping.evaluations.tests.test_rating_page import form_token, page_path

WINDOW_KINDS = ("institution", "staff", "onsite")


def keys(options: tuple[rules.Option, ...]) -> list[str]:
    return [o.key for o in options]


def default_keys(kind: str, role: str) -> list[str]:
    return [key for r, key, _label in DEFAULT_SETS[kind] if r == role]


def own_set(
    region: Any, kind: str, *options: tuple[str, str, str], version: str = "", **flags: Any
) -> QuestionnaireSet:
    """A region's own set of `kind`, options (role, key, label[, code]) in order."""
    qs = QuestionnaireSet.objects.create(region=region, kind=kind, name=f"{kind} {region}", catalogue_version=version)
    for order, (role, key, label, *code) in enumerate(options):
        QuestionnaireOption.objects.create(
            questionnaire=qs,
            role=role,
            key=key,
            label=label,
            order=order,
            active=flags.get(key, True),
            eval_detail_code=code[0] if code else "",
        )
    questionnaire_cache_clear()
    return qs


def test_the_migration_seeds_the_four_default_sets(db: Any) -> None:
    # Run again as migrate runs it (a transactional test may have emptied the tables since).
    QuestionnaireSet.objects.filter(region=None).delete()
    import_module("haoping.evaluations.migrations.0014_questionnaires").seed(django_apps, None)
    defaults = QuestionnaireSet.objects.filter(region=None)
    assert sorted(defaults.values_list("kind", flat=True)) == sorted(rules.QUESTIONNAIRE_KINDS)
    staff = defaults.get(kind="staff")
    assert list(staff.options.filter(role="question").values_list("label", flat=True)) == [
        "工作人员服务态度（服务态度）",
        "工作人员业务熟练（业务能力）",
        "工作人员讲解清楚、一次告知（服务水平）",
    ]
    # Every reason tag that existed before the sets keeps its key.
    seeded = set(QuestionnaireOption.objects.filter(role="reason").values_list("key", flat=True))
    before = {"attitude", "efficiency", "process", "materials", "repeat_visits", "guidance", "system", "environment"}
    assert before | {"other"} <= seeded


def test_a_region_without_its_own_set_asks_its_nearest_ancestors(world: dict[str, Any]) -> None:
    city, district, other = world["city"], world["district"], world["other"]
    # Nothing of their own: the root's default everywhere.
    asked = questionnaire_for(district.path, WINDOW_KINDS)
    assert keys(asked.questions) == [
        *default_keys("institution", "question"),
        *default_keys("staff", "question"),
        *default_keys("onsite", "question"),
    ]
    # The city's staff set replaces the default's for both districts; the district's own, for it alone.
    own_set(city, "staff", ("question", "courtesy", "文明用语"), ("reason", "rude", "态度生硬"))
    for region in (district, other):
        asked = questionnaire_for(region.path, WINDOW_KINDS)
        assert "courtesy" in keys(asked.questions) and "staff_attitude" not in keys(asked.questions)
        assert "rude" in keys(asked.reasons)
    own_set(district, "staff", ("reason", "slow_hands", "办理手法生疏"))
    assert "slow_hands" in keys(questionnaire_for(district.path, WINDOW_KINDS).reasons)
    assert "rude" not in keys(questionnaire_for(district.path, WINDOW_KINDS).reasons)
    assert "rude" in keys(questionnaire_for(other.path, WINDOW_KINDS).reasons)
    # Kinds not rated are not asked: an online service gets the platform's set, not the hall's.
    online = questionnaire_for(district.path, ("institution", "platform"))
    assert "system" in keys(online.reasons) and "environment" not in keys(online.reasons)
    assert "slow_hands" not in keys(online.reasons)


def test_a_key_offered_by_two_sets_is_one_option_and_a_retired_one_still_reads(world: dict[str, Any]) -> None:
    district = world["district"]
    own_set(
        district,
        "staff",
        ("reason", "attitude", "窗口人员态度差", "701"),
        ("reason", "old_tag", "旧标签"),
        old_tag=False,
    )
    asked = questionnaire_for(district.path, WINDOW_KINDS)
    assert keys(asked.reasons).count("attitude") == 1
    # The unit's set comes first: its option is the one offered.
    assert asked.option("reason", "attitude") == rules.Option("attitude", "服务态度差", "institution")
    assert "old_tag" not in keys(asked.reasons)
    assert asked.option("reason", "old_tag") == rules.Option("old_tag", "旧标签", "staff")


def test_the_catch_all_tag_comes_after_every_sets_tags(db: Any) -> None:
    asked = questionnaire_for("/", WINDOW_KINDS)
    # The unit's set lists 其他 last; the staff's and on-site sets' tags come after it when merged.
    assert keys(asked.reasons)[-1] == "other"
    assert {"competence", "queue"} <= set(keys(asked.reasons)) and len(keys(asked.reasons)) == 12
    assert keys(questionnaire_for("/", ("institution", "platform")).reasons)[-1] == "other"


def _rate(world: dict[str, Any], record_payload: Any, reasons: list[str], **overrides: Any) -> Any:
    body = record_payload(**overrides)
    assert world["api"].post("/records", body).status_code == 201
    return world["api"].post(
        "/evaluations", {"record_no": body["record_no"], "level": 2, "channel": "pad", "reasons": reasons}
    )


@pytest.mark.parametrize(
    ("where", "reasons", "status"),
    [
        # A window service asks the unit, its staff and on-site service.
        ({}, ["attitude", "competence", "environment"], 201),
        ({}, ["system"], 422),
        # An online service on the platform, with no window nor hall: the unit and the platform.
        ({"window_code": None, "staff_no": None, "institution_code": None, "platform_code": "P-WEB"}, ["system"], 201),
        (
            {"window_code": None, "staff_no": None, "institution_code": None, "platform_code": "P-WEB"},
            ["environment"],
            422,
        ),
        (
            {"window_code": None, "staff_no": None, "institution_code": None, "platform_code": "P-WEB"},
            ["competence"],
            422,
        ),
    ],
)
def test_the_api_takes_the_options_of_what_is_rated(
    world: dict[str, Any], record_payload: Any, where: dict[str, Any], reasons: list[str], status: int
) -> None:
    res = _rate(world, record_payload, reasons, mode="online" if where else "onsite", **where)
    assert res.status_code == status, res.json()
    if status == 422:
        assert res.json()["error"] == "invalid"
        assert reasons[0] in res.json()["detail"]


def _admin() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    return client


def _inline(prefix: str, rows: list[dict[str, Any]], initial: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for name, value in row.items():
            if value is True:
                data[f"{prefix}-{i}-{name}"] = "on"
            elif value is not False:
                data[f"{prefix}-{i}-{name}"] = str(value)
    return data


def _reason_choices(html: str) -> list[str]:
    return re.findall(r'name="reasons" value="([^"]+)"', html)


def test_editing_the_set_in_the_admin_changes_what_the_page_offers_and_the_api_takes(
    world: dict[str, Any], record_payload: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = _admin()
    url = page_path(world, record_payload)
    before = _reason_choices(Client().get(url).content.decode())
    assert "competence" in before and "rude_at_window" not in before

    # The district's own staff set, added in the admin with its options inline.
    option = {"role": "reason", "key": "rude_at_window", "label": "窗口人员冷漠", "order": 1, "active": True}
    with django_capture_on_commit_callbacks(execute=True):
        res = admin.post(
            "/admin/evaluations/questionnaireset/add/",
            {
                "region": world["district"].pk,
                "kind": "staff",
                "name": "玄武区工作人员评价内容",
                "catalogue_version": "2.1",
                **_inline("options", [{**option, "eval_detail_code": "701"}], 0),
            },
        )
    assert res.status_code == 302, res.content.decode()[-3000:]
    qs = QuestionnaireSet.objects.get(region=world["district"], kind="staff")
    # Audited as every admin change: who added it, and its options.
    entry = LogEntry.objects.get(object_id=str(qs.pk))
    assert entry.user.username == "root" and "窗口人员冷漠" in entry.get_change_message()

    page = Client().get(url).content.decode()
    offered = _reason_choices(page)
    assert "rude_at_window" in offered and "competence" not in offered and "attitude" in offered
    assert "窗口人员冷漠" in page
    assert _rate(world, record_payload, ["rude_at_window"]).status_code == 201
    refused = _rate(world, record_payload, ["competence"])
    assert refused.status_code == 422
    body = refused.json()
    assert (body["error"], body.get("field")) == ("invalid", "reasons") and "competence" in body["detail"]
    # Another district still has the default staff set.
    assert "competence" in keys(questionnaire_for(world["other"].path, WINDOW_KINDS).reasons)

    # Retired in the admin: no longer offered, no longer taken; the rating given with it still reads.
    stored = Evaluation.objects.get(reasons=["rude_at_window"])
    opt = qs.options.get()
    with django_capture_on_commit_callbacks(execute=True):
        res = admin.post(
            f"/admin/evaluations/questionnaireset/{qs.pk}/change/",
            {
                "region": world["district"].pk,
                "kind": "staff",
                "name": "玄武区工作人员评价内容",
                "catalogue_version": "2.1",
                **_inline("options", [{**option, "active": False, "id": opt.pk, "questionnaire": qs.pk}], 1),
            },
        )
    assert res.status_code == 302, res.content.decode()[-3000:]
    assert LogEntry.objects.filter(object_id=str(qs.pk)).count() == 2
    assert "rude_at_window" not in _reason_choices(Client().get(page_path(world, record_payload)).content.decode())
    assert _rate(world, record_payload, ["rude_at_window"]).status_code == 422
    assert reason_labels_of(stored, world["district"].path) == ["窗口人员冷漠"]


def test_a_stored_key_no_set_knows_reads_as_itself(world: dict[str, Any], record_payload: Any) -> None:
    assert _rate(world, record_payload, ["attitude"]).status_code == 201
    ev = Evaluation.objects.get()
    ev.reasons = ["attitude", "long_gone"]  # as an old row might hold (never saved: rows are append-only)
    assert reason_labels_of(ev, world["district"].path) == ["服务态度差", "long_gone"]


def test_the_rating_page_asks_the_questions_of_what_is_rated(world: dict[str, Any], record_payload: Any) -> None:
    hall = Client().get(page_path(world, record_payload)).content.decode()
    online = (
        Client()
        .get(
            page_path(
                world,
                record_payload,
                mode="online",
                window_code=None,
                staff_no=None,
                institution_code=None,
                platform_code="P-WEB",
            )
        )
        .content.decode()
    )
    assert "工作人员业务熟练（业务能力）" in hall and "大厅环境整洁、设施齐全（环境）" in hall
    assert "界面友好易用（便捷性）" not in hall
    assert "界面友好易用（便捷性）" in online and "工作人员业务熟练（业务能力）" not in online
    # The page posts what it offers: a question of the hall's set is stored under its key.
    url = page_path(world, record_payload)
    client = Client()
    res = client.post(url, {**form_token(client, url), "level": "5", "q_onsite_environment": "4"})
    assert res.status_code == 302
    assert Evaluation.objects.get().answers == {"onsite_environment": 4}


def test_another_process_sees_a_change_within_the_refresh(world: dict[str, Any], monkeypatch: Any) -> None:
    district = world["district"]
    assert "hidden_fees" not in keys(questionnaire_for(district.path, WINDOW_KINDS).reasons)
    # Changed elsewhere (another process's admin): this process's copy holds until the next check...
    qs = QuestionnaireSet.objects.create(region=district, kind="institution", name="玄武区部门评价内容")
    QuestionnaireOption.objects.create(questionnaire=qs, role="reason", key="hidden_fees", label="乱收费")
    assert "hidden_fees" not in keys(questionnaire_for(district.path, WINDOW_KINDS).reasons)
    # ...which, every REFRESH_SECONDS, finds the sets changed and reads them again.
    monkeypatch.setattr("haoping.evaluations.selectors.REFRESH_SECONDS", 0.0)
    assert "hidden_fees" in keys(questionnaire_for(district.path, WINDOW_KINDS).reasons)


def test_an_options_key_is_never_renamed_in_the_admin(world: dict[str, Any]) -> None:
    qs = own_set(world["district"], "staff", ("reason", "rude_at_window", "窗口人员冷漠"))
    opt = qs.options.get()
    row = {"role": "reason", "key": "rude", "label": "窗口人员冷漠", "order": 0, "active": True}
    res = _admin().post(
        f"/admin/evaluations/questionnaireset/{qs.pk}/change/",
        {
            "region": world["district"].pk,
            "kind": "staff",
            "name": qs.name,
            "catalogue_version": "",
            **_inline("options", [{**row, "id": opt.pk, "questionnaire": qs.pk}], 1),
        },
    )
    assert res.status_code == 200 and "评价中已保存此值：请停用此选项并新增一个" in res.content.decode()
    assert qs.options.get().key == "rude_at_window"
    # Nor deleted: the form has no delete box for an option.
    assert "options-0-DELETE" not in _admin_page(f"/admin/evaluations/questionnaireset/{qs.pk}/change/")


def _admin_page(path: str) -> str:
    client = Client()
    client.force_login(get_user_model().objects.get(username="root"))
    return client.get(path).content.decode()


def test_the_api_lists_what_a_record_or_visit_is_asked(world: dict[str, Any], record_payload: Any) -> None:
    own_set(world["district"], "staff", ("reason", "rude_at_window", "窗口人员冷漠", "701"), version="2.1")
    api = world["api"]
    online = record_payload(
        mode="online", window_code=None, staff_no=None, institution_code=None, platform_code="P-WEB"
    )
    assert api.post("/records", online).status_code == 201
    body = api.get(f"/records/{online['record_no']}/questionnaire").json()
    assert body["kinds"] == ["institution", "platform"]
    # The unit's tags, then the platform's, the catch-all 其他 last.
    assert [o["key"] for o in body["reasons"]] == [
        *[k for k in default_keys("institution", "reason") if k != "other"],
        *default_keys("platform", "reason"),
        "other",
    ]
    assert body["questions"][0] == {
        "key": "guide_clear",
        "label": "办事指南清晰明了（事项管理）",
        "kind": "institution",
        "eval_detail_code": "",
        "catalogue_version": "",
    }
    # A window visit of a mixed record rates the window, not the platform.
    mixed = record_payload(mode="mixed", on_the_spot=False, completed_at=None, platform_code="P-WEB")
    assert api.post("/records", mixed).status_code == 201
    visit = api.post(
        f"/records/{mixed['record_no']}/visits", {"window_code": "W-XW-01", "staff_no": "S001", "at": iso_now()}
    ).json()
    asked = api.get(f"/records/{mixed['record_no']}/questionnaire?visit_id={visit['visit_id']}").json()
    assert asked["kinds"] == ["institution", "staff", "onsite"]
    rude = next(o for o in asked["reasons"] if o["key"] == "rude_at_window")
    assert (rude["kind"], rude["eval_detail_code"], rude["catalogue_version"]) == ("staff", "701", "2.1")
    assert api.get(f"/records/{mixed['record_no']}/questionnaire?visit_id=999999").status_code == 404
    assert api.get("/records/NO-SUCH/questionnaire").status_code == 404
    # Another region's key does not learn of the record.
    assert world["other_api"].get(f"/records/{online['record_no']}/questionnaire").status_code in (403, 404)


def iso_now() -> str:
    from django.utils import timezone

    return timezone.now().isoformat()


def test_a_rating_keeps_its_retired_tags_label_on_the_case_page(world: dict[str, Any], record_payload: Any) -> None:
    from haoping.accounts.models import Membership
    from haoping.rectification.models import BadReviewCase

    qs = own_set(world["district"], "staff", ("reason", "rude_at_window", "窗口人员冷漠"))
    assert _rate(world, record_payload, ["rude_at_window", "attitude"]).status_code == 201
    QuestionnaireOption.objects.filter(questionnaire=qs).update(active=False)
    questionnaire_cache_clear()
    user = get_user_model().objects.create_user(username="xw-manager", password="x")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    console = Client()
    console.force_login(user)
    page = console.get(f"/console/cases/{BadReviewCase.objects.get().pk}/").content.decode()
    assert "窗口人员冷漠、服务态度差" in page
