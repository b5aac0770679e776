"""Texts to evaluators are SMS: a signature 【…】, fixed templates whose longest rendering stays
within the configured number of parts, and never a handler's free text (which waits, masked, on
the revisit page behind the link)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.test import Client

from haoping.directory.models import ServiceItem
from haoping.rectification.links import revisit_token
from haoping.rectification.models import BadReviewCase, Message
from haoping.rectification.sms import (
    ANSWER_READY,
    APPEAL_DECIDED,
    TEMPLATES,
    sms_length,
    sms_segments,
    validate_signature,
)
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, bad_case, person, set_policy, to_handling, to_replied

# A handler's answer as typed: the evaluator's own number and the handler's name and direct line.
ANSWER = "经核实，窗口人员王小明当日态度不佳，已批评教育。如有疑问请致电 138-1234-5678 联系王科长。"
# As long as a site address gets in practice, and a signature of the most characters carriers allow.
LONG_SITE = "https://zwfw-haoping.shenzhen.gd.gov.cn"
LONGEST_SIGNATURE = "深圳市龙岗区政务服务数据局"[:12]


def test_segments_are_counted_as_carriers_count_them() -> None:
    assert [sms_segments("政" * n) for n in (1, 70, 71, 134, 135, 201, 202)] == [1, 1, 2, 2, 3, 3, 4]
    # A character beyond the BMP takes two UCS-2 units.
    assert sms_length("𠀀" * 35) == 70 and sms_segments("𠀀" * 35 + "政") == 2


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.code)
def test_every_template_with_its_longest_values_fits_the_configured_parts(template: Any, settings: Any) -> None:
    settings.SITE_URL = LONG_SITE
    text = template.longest(signature=LONGEST_SIGNATURE)
    assert text.startswith(f"【{LONGEST_SIGNATURE}】")
    assert sms_segments(text) <= settings.HAOPING_SMS_MAX_SEGMENTS == 2, (sms_length(text), text)
    if template.link:
        assert f"：{LONG_SITE}/v/" in text and text.endswith("/")
    # The check at start-up agrees, and warns once the site's address makes the text too long.
    assert not [c for c in run_checks() if c.id == "haoping.W002"]
    settings.HAOPING_SMS_MAX_SEGMENTS = 1
    warned = [c.msg for c in run_checks() if c.id == "haoping.W002"]
    # Of all the templates, only the one with a link outgrows one part.
    assert warned == ["短信“差评已答复”最长可能需要 2 条，超过 HAOPING_SMS_MAX_SEGMENTS（1）"]


def test_a_real_item_name_of_any_length_is_cut_to_the_templates_ceiling(settings: Any) -> None:
    settings.SITE_URL = LONG_SITE
    name = ("建设工程消防验收（特殊建设工程消防验收及备案抽查）" * 5)[: ServiceItem._meta.get_field("name").max_length]
    text = ANSWER_READY.render(signature=LONGEST_SIGNATURE, link=LONG_SITE + "/v/a/", item=name)
    assert "“建设工程消防验收（特殊建设工程消防验收…”" in text
    decided = APPEAL_DECIDED.render(signature="政务服务好差评", item="企业开办", decision="not_adopted")
    assert decided == "【政务服务好差评】您对“企业开办”的评价经申诉复核，结果为不予采纳。"
    with pytest.raises(ValueError):
        APPEAL_DECIDED.render(signature="政务服务好差评", item="企业开办", decision="已整改，王科长")


def test_the_answer_sms_holds_no_free_text_and_the_revisit_page_shows_the_answer_masked(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload, applicant=person(1, phone="13812345678"))
    api = world["api"]
    to_handling(api, case.pk)
    act_ok(api, case.pk, "rectify", description="已约谈窗口人员")
    act_ok(api, case.pk, "reply", answer=ANSWER)
    sms = Message.objects.get(case=case, kind=Message.Kind.ANSWER)
    assert sms.to_evaluator_id == case.evaluator_id
    assert sms.text == f"【政务服务好差评】您对“{case.item.name}”的评价已答复，查看并反馈是否满意：{sms.link}"
    assert sms_segments(sms.text) <= 2
    # Nothing of the answer reaches the outbox, for the evaluator or anybody else.
    for message in Message.objects.filter(case=case):
        assert "王" not in message.text and "1234" not in message.text and "批评" not in message.text
        assert "1234" not in str(message.params)
    # Behind the link, the evaluator reads the whole answer, the phone number masked.
    page = Client().get(f"/v/{revisit_token(case.public_id)}/").content.decode()
    assert "已批评教育" in page and "王科长" in page
    assert "138-1234-5678" not in page and "5678" in page


def test_a_region_policy_signs_its_own_texts(
    world: dict[str, Any], record_payload: Any, clock: Clock, settings: Any
) -> None:
    settings.HAOPING_SMS_SIGNATURE = "某市政务服务"
    first = bad_case(world, record_payload, applicant=person(1))
    to_replied(world["api"], first.pk)
    assert Message.objects.get(case=first, kind="answer").text.startswith("【某市政务服务】您对")
    # The region's policy (the nearest one up the tree) wins over the setting.
    set_policy(world["district"], sms_signature="某区好差评")
    second = bad_case(world, record_payload, applicant=person(2))
    to_replied(world["api"], second.pk)
    assert Message.objects.get(case=second, kind="answer").text.startswith("【某区好差评】您对")


@pytest.mark.parametrize(
    "signature", ["【某区】", "区", "某某省某某市某某区政务服务管理局"], ids=["brackets", "short", "long"]
)
def test_a_signature_carriers_would_refuse_is_refused(signature: str) -> None:
    with pytest.raises(ValidationError):
        validate_signature(signature)


def test_a_signature_that_would_make_a_text_too_long_is_refused(settings: Any) -> None:
    settings.SITE_URL = LONG_SITE
    validate_signature(LONGEST_SIGNATURE)
    settings.HAOPING_SMS_MAX_SEGMENTS = 1
    with pytest.raises(ValidationError) as refused:
        validate_signature(LONGEST_SIGNATURE)
    assert "最多 1 条" in str(refused.value)


def test_the_appeal_decision_reaches_the_evaluator_as_a_template(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload, applicant=person(1))
    api = world["api"]
    to_handling(api, case.pk)
    appeal_id = api.post(f"/cases/{case.pk}/appeal", {"reasons": "当天系统故障，联系 13900001111"}).json()["id"]
    res = world["manager_api"].post(f"/appeals/{appeal_id}/decide", {"upheld": True, "note": "经核实系统故障"})
    assert res.status_code == 200, res.json()
    told = Message.objects.get(case=case, kind="appeal", to_evaluator__isnull=False)
    assert told.text == f"【政务服务好差评】您对“{case.item.name}”的评价经申诉复核，结果为不予采纳。"
    assert (told.template, told.params) == ("appeal_decided", {"item": case.item.name, "decision": "not_adopted"})
    assert BadReviewCase.objects.get(pk=case.pk).invalid


def test_the_region_policy_form_refuses_a_bad_signature(world: dict[str, Any]) -> None:
    from haoping.directory.models import RegionPolicy

    policy = RegionPolicy(region=world["district"], sms_signature="【某区】")
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert "sms_signature" in refused.value.message_dict
    policy.sms_signature = "某区好差评"
    policy.full_clean()


def test_a_name_beyond_the_bmp_is_cut_as_carriers_count_it(settings: Any) -> None:
    # Rare characters of place and person names (CJK Extension B) take two UCS-2 units each.
    settings.SITE_URL = LONG_SITE
    text = ANSWER_READY.render(signature=LONGEST_SIGNATURE, link=LONG_SITE + "/v/a/", item="𠀀" * 200)
    assert sms_segments(text) <= settings.HAOPING_SMS_MAX_SEGMENTS
    assert "…" in text and sms_length(text) <= sms_length(ANSWER_READY.longest(signature=LONGEST_SIGNATURE))
