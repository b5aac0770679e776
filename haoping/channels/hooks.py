"""Inbound SMS callbacks of the providers, read into (phone, text, time, reference).

Neither Alibaba Cloud's reply push (SmsUp) nor Tencent Cloud's reply callback signs its body, so
the callback address configured at the provider carries a key: HMAC-SM3 of the provider's name
under a key derived from the master key (`hook_key`), checked in constant time before the body
is read. `python manage.py sms_hook_url` prints each address.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from haoping import keys
from haoping.lib.gm import constant_time_equal, derive_key, hmac_sm3


@dataclass(frozen=True)
class Inbound:
    phone: str
    text: str
    at: dt.datetime
    ref: str


class BadCallback(ValueError):
    """A body that is not the provider's callback."""


def hook_key(provider: str) -> str:
    key = derive_key(keys.master_key(), "sms-hook", 32)
    return hmac_sm3(key, provider.encode()).hex()[:32]


def hook_key_valid(provider: str, given: str) -> bool:
    return constant_time_equal(given.encode(), hook_key(provider).encode())


def hook_url(provider: str) -> str:
    return settings.SITE_URL + reverse("sms-hook", args=[provider]) + f"?key={hook_key(provider)}"


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise BadCallback(name)
    return str(value)


def _aliyun(body: Any) -> list[Inbound]:
    """SmsUp push: a JSON array of {phone_number, content, send_time "yyyy-MM-dd HH:mm:ss", sequence_id}."""
    if not isinstance(body, list):
        raise BadCallback("body")
    found = []
    for row in body:
        if not isinstance(row, dict):
            raise BadCallback("row")
        try:
            local = dt.datetime.strptime(_text(row.get("send_time"), "send_time"), "%Y-%m-%d %H:%M:%S")
        except ValueError as exc:
            raise BadCallback("send_time") from exc
        found.append(
            Inbound(
                phone=_text(row.get("phone_number"), "phone_number"),
                text=_text(row.get("content"), "content"),
                at=timezone.make_aware(local),
                ref=_text(row.get("sequence_id"), "sequence_id"),
            )
        )
    return found


def _tencent(body: Any) -> list[Inbound]:
    """Reply callback: {mobile, nationcode, text, sign, time (Unix seconds), extend}; no message id,
    so the reference is a keyed digest of number, time and text (a redelivery carries the same)."""
    if not isinstance(body, dict):
        raise BadCallback("body")
    mobile = _text(body.get("mobile"), "mobile")
    text = _text(body.get("text"), "text")
    stamp = body.get("time")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise BadCallback("time")
    ref = hmac_sm3(keys.index_key(), f"tencent:{mobile}:{stamp}:{text}".encode()).hex()[:40]
    return [Inbound(phone=mobile, text=text, at=dt.datetime.fromtimestamp(stamp, tz=dt.UTC), ref=ref)]


# provider → (parse the body, the answer the provider expects on success)
PROVIDERS: dict[str, tuple[Callable[[Any], list[Inbound]], dict[str, Any]]] = {
    "aliyun": (_aliyun, {"code": 0, "msg": "成功"}),
    "tencent": (_tencent, {"result": 0, "errmsg": "OK"}),
}


def parse(provider: str, raw: bytes) -> list[Inbound]:
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadCallback("json") from exc
    return PROVIDERS[provider][0](body)
