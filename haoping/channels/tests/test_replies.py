"""SMS replies: a table of real-looking replies, and what a reply does to the invited service."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from haoping.channels.models import InboundSms, Invitation, OptOut
from haoping.channels.replies import Reply, reply_parse
from haoping.channels.services import invitations_send, phone_digest, sms_reply_receive
from haoping.channels.tests.test_invitations import day_at, served
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import BadReviewCase, Message

REPLIES = [
    ("5", Reply("rating", 5, "")),
    ("1", Reply("rating", 1, "")),
    (" 4 ", Reply("rating", 4, "")),
    ("５", Reply("rating", 5, "")),
    ("２ 排队两个小时", Reply("rating", 2, "排队两个小时")),
    ("2，窗口人员态度差", Reply("rating", 2, "窗口人员态度差")),
    ("3.还行", Reply("rating", 3, "还行")),
    ("5星", Reply("rating", 5, "")),
    ("5 很好，谢谢！", Reply("rating", 5, "很好，谢谢！")),
    ("非常满意", Reply("rating", 5, "")),
    ("满意", Reply("rating", 4, "")),
    ("基本满意", Reply("rating", 3, "")),
    ("不满意", Reply("rating", 2, "")),
    ("非常不满意，材料要了三遍", Reply("rating", 1, "材料要了三遍")),
    ("很差", Reply("rating", 1, "")),
    ("TD", Reply("opt_out")),
    ("td", Reply("opt_out")),
    ("ＴＤ", Reply("opt_out")),
    ("退订", Reply("opt_out")),
    (" T D ", Reply("opt_out")),
    ("6", Reply("unclear")),
    ("0", Reply("unclear")),
    ("10", Reply("unclear")),
    ("55", Reply("unclear")),
    ("好", Reply("unclear")),
    ("谁啊", Reply("unclear")),
    ("", Reply("unclear")),
]


@pytest.mark.parametrize(("text", "expected"), REPLIES)
def test_reply_table(text: str, expected: Reply) -> None:
    assert reply_parse(text) == expected


@pytest.fixture
def invited(register: Any) -> Any:
    at = served()
    slot = register(at)
    invitations_send(now=day_at(at, 1, 10))
    return Invitation.objects.get(slot=slot)


def answers() -> list[str]:
    return list(Message.objects.filter(kind=Message.Kind.REPLY).order_by("id").values_list("text", flat=True))


def test_digit_rates_on_channel_sms_with_the_comment(invited: Invitation) -> None:
    inbound = sms_reply_receive(provider="outbox", phone="+86 138-1234-5678", text="２ 排队两个小时")
    assert inbound.outcome == "rated" and inbound.receipt
    ev = Evaluation.objects.get(slot=invited.slot)
    assert (ev.level, ev.channel, ev.source, ev.comment, ev.rated_by) == (
        2,
        "sms",
        "active",
        "排队两个小时",
        "applicant",
    )
    # A bad rating by SMS opens its case like any other (the same rating service).
    assert BadReviewCase.objects.filter(receipt=ev.receipt).exists()
    assert "已记录" in answers()[-1]


def test_second_reply_changes_nothing(invited: Invitation) -> None:
    sms_reply_receive(provider="outbox", phone="13812345678", text="5")
    again = sms_reply_receive(provider="outbox", phone="13812345678", text="1 不对，改成差评")
    assert again.outcome == "rated_already"
    assert list(Evaluation.objects.values_list("level", flat=True)) == [5]
    assert "已评价" in answers()[-1]


def test_reply_after_the_window_closed_changes_nothing(invited: Invitation) -> None:
    Invitation.objects.filter(pk=invited.pk).update()
    slot = invited.slot
    type(slot).objects.filter(pk=slot.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    inbound = sms_reply_receive(provider="outbox", phone="13812345678", text="4")
    assert inbound.outcome == "closed" and not Evaluation.objects.exists()
    assert "已结束" in answers()[-1]


def test_unclear_reply_is_kept_and_answered(invited: Invitation) -> None:
    inbound = sms_reply_receive(provider="outbox", phone="13812345678", text="我的电话是13812345678，谁啊")
    assert inbound.outcome == "unclear" and not Evaluation.objects.exists()
    stored = InboundSms.objects.get()
    assert "13812345678" not in stored.text and stored.text_sealed == "我的电话是13812345678，谁啊"
    assert "请回复" in answers()[-1]


def test_td_opts_out(invited: Invitation, register: Any) -> None:
    inbound = sms_reply_receive(provider="outbox", phone="13812345678", text="退订")
    assert inbound.outcome == "opted_out"
    assert OptOut.objects.filter(phone_digest=phone_digest("13812345678")).exists()
    register(served())
    assert invitations_send(now=day_at(served(), 1, 11)).invited == 0


def test_reply_from_a_number_never_invited(world: dict[str, Any]) -> None:
    inbound = sms_reply_receive(provider="outbox", phone="13000000000", text="5")
    assert inbound.outcome == "no_invitation" and not Evaluation.objects.exists()


def test_redelivered_reply_counts_once(invited: Invitation) -> None:
    first = sms_reply_receive(provider="aliyun", phone="13812345678", text="4", provider_ref="seq-1")
    second = sms_reply_receive(provider="aliyun", phone="13812345678", text="4", provider_ref="seq-1")
    assert first.pk == second.pk and Evaluation.objects.count() == 1 and InboundSms.objects.count() == 1


def test_sms_inbound_command(invited: Invitation) -> None:
    out = io.StringIO()
    call_command("sms_inbound", phone="13812345678", text="5 办得很快", stdout=out)
    assert "已评价" in out.getvalue() or "评价" in out.getvalue()
    ev = Evaluation.objects.get()
    assert (ev.level, ev.channel, ev.comment) == (5, "sms", "办得很快")
    assert ev.receipt in out.getvalue()
