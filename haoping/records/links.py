"""Rating links: `<public_id>.<signature>`, unguessable and bound to one ratable service."""

from __future__ import annotations

import base64
import functools
import secrets
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _

from haoping import keys
from haoping.errors import Forbidden, NotFound
from haoping.lib.gm import constant_time_equal, hmac_sm3


def new_public_id() -> str:
    return secrets.token_urlsafe(12)  # 96 random bits, 16 characters


def _signature(public_id: str) -> str:
    mac = hmac_sm3(keys.link_key(), b"rating-slot:" + public_id.encode())[:12]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def token_for(public_id: str) -> str:
    return f"{public_id}.{_signature(public_id)}"


def public_id_from_token(token: str) -> str:
    """The slot id a token names; a malformed token is 404, a bad signature 403."""
    public_id, dot, signature = token.partition(".")
    if not dot or not public_id or not signature or len(token) > 64:
        raise NotFound("token_not_found", _("no such rating link"))
    if not constant_time_equal(signature.encode(), _signature(public_id).encode()):
        raise Forbidden("token_invalid", _("the rating link has been altered or forged"))
    return public_id


# A token is URL-safe base64 and dots, which `reverse` never escapes: a route is reversed once
# with this in the token's place, and each link fills it in (every registration answers two links,
# and reversing them cost more than the rest of a record's answer).
PLACEHOLDER = "0token0"


@functools.lru_cache(maxsize=32)
def _route(name: str, prefix: str, urlconf: Any) -> str:
    return reverse(name, urlconf=urlconf, args=[PLACEHOLDER])


@receiver(setting_changed)
def _routes_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _route.cache_clear()


def _link(name: str, token: str) -> str:
    return settings.SITE_URL + _route(name, get_script_prefix(), get_urlconf()).replace(PLACEHOLDER, token, 1)


def evaluation_url(public_id: str) -> str:
    return _link("rate", token_for(public_id))


def qr_url(public_id: str) -> str:
    return _link("rate-qr", token_for(public_id))


def link_pair(public_id: str) -> dict[str, str]:
    token = token_for(public_id)
    return {"evaluation_url": _link("rate", token), "qr_url": _link("rate-qr", token)}
