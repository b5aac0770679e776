"""R22: invitations and reminders — once per service, daytime only, capped per phone, never after
rating, never to a number that opted out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from haoping.channels.models import ChannelPolicy, Invitation, OptOut
from haoping.channels.services import invitations_send, phone_digest
from haoping.channels.tests.conftest import CHINA
from haoping.evaluations.services import evaluation_submit
from haoping.records.links import token_for
from haoping.rectification.models import Message


def day_at(base: dt.datetime, days: int, hour: int, minute: int = 0) -> dt.datetime:
    """`days` after `base`'s China date, at `hour`:`minute` China time."""
    local = base.astimezone(CHINA)
    return dt.datetime.combine(local.date() + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=CHINA)


def served() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=1)


def texts(kind: str) -> list[str]:
    return list(Message.objects.filter(kind=kind).order_by("id").values_list("text", flat=True))


def test_one_invitation_with_a_short_link_in_daytime_only(register: Any) -> None:
    at = served()
    slot = register(at)
    night = day_at(at, 1, 7, 59)
    assert invitations_send(now=night).invited == 0
    assert invitations_send(now=day_at(at, 1, 20, 0)).invited == 0  # 20:00 is already evening
    assert not Invitation.objects.exists()
    morning = day_at(at, 1, 8, 0)
    result = invitations_send(now=morning)
    assert (result.invited, result.reminded) == (1, 0)
    invitation = Invitation.objects.get()
    assert invitation.slot == slot and invitation.invited_at == morning and len(invitation.code) == 8
    [text] = texts(Message.Kind.INVITATION)
    assert f"/s/{invitation.code}/" in text and "企业开办" in text and "13812345678" not in text
    # Never twice for one service.
    assert invitations_send(now=morning + dt.timedelta(hours=1)).invited == 0
    assert Message.objects.filter(kind=Message.Kind.INVITATION).count() == 1


def test_region_policy_hours_apply(world: dict[str, Any], register: Any) -> None:
    at = served()
    register(at)
    ChannelPolicy.objects.create(region=world["city"], send_from=dt.time(9, 30), send_until=dt.time(18, 0))
    assert invitations_send(now=day_at(at, 1, 9, 0)).invited == 0
    assert invitations_send(now=day_at(at, 1, 18, 0)).invited == 0
    assert invitations_send(now=day_at(at, 1, 9, 30)).invited == 1


def test_one_reminder_on_day_five_unless_rated(register: Any) -> None:
    at = served()
    rated, unrated = register(at), register(at, phone="13900001111")
    invitations_send(now=day_at(at, 1, 10))
    assert Invitation.objects.count() == 2
    evaluation_submit(client=None, token=token_for(rated.public_id), level=5, channel="mobile")
    # Day 4 of the window (day 1 being the service's day): too early.
    assert invitations_send(now=day_at(at, 3, 12)).reminded == 0
    result = invitations_send(now=day_at(at, 4, 12))
    assert result.reminded == 1
    assert Invitation.objects.get(slot=unrated).reminded_at == day_at(at, 4, 12)
    assert Invitation.objects.get(slot=rated).reminded_at is None
    # One reminder only.
    assert invitations_send(now=day_at(at, 5, 12)).reminded == 0
    assert len(texts(Message.Kind.REMINDER)) == 1


def test_reminder_day_is_a_policy(world: dict[str, Any], register: Any) -> None:
    at = served()
    register(at)
    ChannelPolicy.objects.create(region=world["district"], reminder_day=3)
    invitations_send(now=day_at(at, 1, 10))
    assert invitations_send(now=day_at(at, 1, 12)).reminded == 0
    assert invitations_send(now=day_at(at, 2, 12)).reminded == 1


def test_never_after_rating(register: Any) -> None:
    slot = register(served())
    evaluation_submit(client=None, token=token_for(slot.public_id), level=4, channel="mobile")
    assert invitations_send(now=day_at(served(), 1, 10)).invited == 0
    assert not Message.objects.filter(kind=Message.Kind.INVITATION).exists()


def test_never_to_a_number_that_opted_out(register: Any) -> None:
    at = served()
    register(at)
    OptOut.objects.create(phone_digest=phone_digest("138 1234 5678"), opted_out_at=at)
    assert invitations_send(now=day_at(at, 1, 10)).invited == 0
    register(at, phone="13900002222")
    assert invitations_send(now=day_at(at, 1, 10)).invited == 1


def test_opting_out_stops_the_reminder(register: Any) -> None:
    at = served()
    register(at)
    invitations_send(now=day_at(at, 1, 10))
    OptOut.objects.create(phone_digest=phone_digest("+86 13812345678"), opted_out_at=at)
    assert invitations_send(now=day_at(at, 4, 12)).reminded == 0


def test_daily_cap_per_phone_holds_the_rest_for_the_next_day(world: dict[str, Any], register: Any) -> None:
    at = served()
    for _ in range(5):
        register(at)
    first = day_at(at, 1, 10)
    result = invitations_send(now=first)
    assert (result.invited, result.held) == (3, 2)
    # The same day, later: still capped.
    assert invitations_send(now=first + dt.timedelta(hours=3)).invited == 0
    assert invitations_send(now=day_at(at, 2, 10)).invited == 2
    ChannelPolicy.objects.create(region=world["district"], daily_cap=1)
    register(at)
    register(at)
    assert invitations_send(now=day_at(at, 3, 10)).invited == 1


def test_agent_is_invited_when_an_agent_handled_it(register: Any) -> None:
    at = served()
    register(at, agent={"kind": "person", "name": "李四", "phone": "13700007777", "id_number": ""})
    invitations_send(now=day_at(at, 1, 10))
    invitation = Invitation.objects.get()
    assert invitation.rated_by == "agent" and invitation.phone_digest == phone_digest("13700007777")


def test_a_batch_gets_one_invitation(register: Any) -> None:
    at = served()
    for _ in range(3):
        register(at, bundle={"bundle_no": "B-1", "kind": "batch"})
    assert invitations_send(now=day_at(at, 1, 10)).invited == 1


def test_closed_window_gets_nothing(register: Any) -> None:
    at = served()
    register(at)
    assert invitations_send(now=day_at(at, 8, 10)).invited == 0


def test_texts_fit_the_sms_limit_with_the_longest_values(settings: Any) -> None:
    from haoping.channels.texts import TEMPLATES
    from haoping.rectification.sms import sms_segments

    for template in TEMPLATES:
        values = {name: "政" * limit for name, limit in template.limits.items()}
        for name, allowed in template.choices.items():
            values[name] = max(allowed, key=lambda key: len(str(allowed[key])))
        text = template.render(signature="政" * 12, link="https://" + "x" * 40 + "/s/ABCDEFGH/", **values)
        assert sms_segments(text) <= settings.HAOPING_SMS_MAX_SEGMENTS, template.code
