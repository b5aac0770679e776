"""The short link leads to the rating page rated on channel sms; provider callbacks need their key."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

from haoping.channels.hooks import hook_key
from haoping.channels.models import InboundSms, Invitation
from haoping.channels.services import invitations_send
from haoping.channels.tests.test_invitations import day_at, served
from haoping.evaluations.models import Evaluation


def test_short_link_rates_on_channel_sms(register: Any) -> None:
    at = served()
    slot = register(at)
    invitations_send(now=day_at(at, 1, 10))
    code = Invitation.objects.get(slot=slot).code
    client = Client()
    res = client.get(f"/s/{code}/")
    assert res.status_code == 302 and res["Location"].endswith("?via=sms")
    page = client.get(res["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and "企业开办" in html
    token = re.search(r'name="form_token" value="([^"]+)"', html)
    assert token
    done = client.post(res["Location"], {"form_token": token.group(1), "level": "5", "via": "sms"})
    assert done.status_code == 302
    ev = Evaluation.objects.get(slot=slot)
    assert (ev.channel, ev.level) == ("sms", 5)


def test_unknown_short_link_is_404(world: dict[str, Any]) -> None:
    for code in ("abcdefgh", "short", "x" * 40):
        assert Client().get(f"/s/{code}/").status_code == 404


def invite(register: Any) -> Invitation:
    at = served()
    slot = register(at)
    invitations_send(now=day_at(at, 1, 10))
    return Invitation.objects.get(slot=slot)


def test_aliyun_callback(register: Any) -> None:
    invitation = invite(register)
    body = [
        {
            "phone_number": "13812345678",
            "send_time": "2026-12-04 09:30:00",
            "content": "1 材料退回三次",
            "sign_name": "政务服务好差评",
            "dest_code": "",
            "sequence_id": 1234567,
        }
    ]
    url = f"/hooks/sms/aliyun/?key={hook_key('aliyun')}"
    res = Client().post(url, json.dumps(body), content_type="application/json")
    assert res.status_code == 200 and res.json() == {"code": 0, "msg": "成功"}
    ev = Evaluation.objects.get(slot=invitation.slot)
    assert (ev.level, ev.channel, ev.comment) == (1, "sms", "材料退回三次")
    # Redelivered: still one rating, one stored reply.
    Client().post(url, json.dumps(body), content_type="application/json")
    assert Evaluation.objects.count() == 1 and InboundSms.objects.count() == 1


def test_tencent_callback(register: Any) -> None:
    invitation = invite(register)
    body = {
        "extend": "",
        "mobile": "13812345678",
        "nationcode": "86",
        "sign": "政务服务好差评",
        "text": "满意",
        "time": 1764900000,
    }
    res = Client().post(
        f"/hooks/sms/tencent/?key={hook_key('tencent')}", json.dumps(body), content_type="application/json"
    )
    assert res.status_code == 200 and res.json() == {"result": 0, "errmsg": "OK"}
    assert Evaluation.objects.get(slot=invitation.slot).level == 4


def test_callback_without_its_key_is_refused(register: Any) -> None:
    invite(register)
    body = json.dumps({"mobile": "13812345678", "text": "5", "time": 1764900000})
    for url in ("/hooks/sms/tencent/", f"/hooks/sms/tencent/?key={hook_key('aliyun')}"):
        res = Client().post(url, body, content_type="application/json")
        assert res.status_code == 403 and res.json()["error"] == "bad_signature"
    assert not Evaluation.objects.exists() and not InboundSms.objects.exists()


def test_bad_callbacks_are_clear_4xx(world: dict[str, Any]) -> None:
    key = hook_key("tencent")
    res = Client().post(f"/hooks/sms/tencent/?key={key}", "not json", content_type="application/json")
    assert res.status_code == 400 and res.json()["error"] == "invalid"
    res = Client().post(
        f"/hooks/sms/tencent/?key={key}", json.dumps({"mobile": "1", "text": "5"}), content_type="application/json"
    )
    assert res.status_code == 400 and "time" in res.json()["detail"]
    assert Client().post("/hooks/sms/nope/", "{}", content_type="application/json").status_code == 404
