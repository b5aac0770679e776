"""The evaluator's revisit link: `<public_id>.<signature>`, bound to one case."""

from __future__ import annotations

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from haoping import keys
from haoping.errors import Forbidden, NotFound
from haoping.lib.gm import constant_time_equal, hmac_sm3
from haoping.records.links import new_public_id


def _signature(public_id: str) -> str:
    mac = hmac_sm3(keys.link_key(), b"case-revisit:" + public_id.encode())[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def revisit_token(public_id: str) -> str:
    return f"{public_id}.{_signature(public_id)}"


def public_id_from_revisit_token(token: str) -> str:
    public_id, dot, signature = token.partition(".")
    if not dot or not public_id or not signature or len(token) > 64:
        raise NotFound("not_found", _("no such link"))
    if not constant_time_equal(signature.encode(), _signature(public_id).encode()):
        raise Forbidden("token_invalid", _("the link has been altered or forged"))
    return public_id


def revisit_url(public_id: str) -> str:
    return settings.SITE_URL + reverse("revisit", args=[revisit_token(public_id)])


def longest_revisit_url() -> str:
    """A revisit link as long as any: every case's public id and signature have the same length."""
    return revisit_url(new_public_id())
