"""Links bound to one object by a signature: `<public_id>.<signature>`. The evaluator's revisit
link is bound to one case; other apps sign their own links for their own purpose."""

from __future__ import annotations

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from haoping import keys
from haoping.errors import Forbidden, NotFound
from haoping.lib.gm import constant_time_equal, hmac_sm3
from haoping.records.links import new_public_id

REVISIT = "case-revisit"


def _signature(purpose: str, public_id: str) -> str:
    mac = hmac_sm3(keys.link_key(), f"{purpose}:{public_id}".encode())[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signed_token(purpose: str, public_id: str) -> str:
    """`public_id` with a signature that holds for this `purpose` only."""
    return f"{public_id}.{_signature(purpose, public_id)}"


def public_id_from_token(purpose: str, token: str) -> str:
    """The public id a `signed_token` of `purpose` carries; 404 when malformed, 403 when forged."""
    public_id, dot, signature = token.partition(".")
    if not dot or not public_id or not signature or len(token) > 64:
        raise NotFound("not_found", _("no such link"))
    if not constant_time_equal(signature.encode(), _signature(purpose, public_id).encode()):
        raise Forbidden("token_invalid", _("the link has been altered or forged"))
    return public_id


def revisit_token(public_id: str) -> str:
    return signed_token(REVISIT, public_id)


def public_id_from_revisit_token(token: str) -> str:
    return public_id_from_token(REVISIT, token)


def revisit_url(public_id: str) -> str:
    return settings.SITE_URL + reverse("revisit", args=[revisit_token(public_id)])


def longest_revisit_url() -> str:
    """A revisit link as long as any: every case's public id and signature have the same length."""
    return revisit_url(new_public_id())
