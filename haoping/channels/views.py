"""The SMS short link /s/<code>/ and the providers' inbound callbacks /hooks/sms/<provider>/."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from haoping.channels import hooks
from haoping.channels.selectors import invitation_for_code
from haoping.channels.services import sms_reply_receive
from haoping.records.links import token_for
from haoping.throttle import public_limit

logger = logging.getLogger("haoping.channels")


@public_limit()
@never_cache
@require_http_methods(["GET", "HEAD"])
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """An invitation's short link: the rating page of its service, rated on channel sms."""
    invitation = invitation_for_code(code)
    if invitation is None:
        return render(
            request,
            "evaluations/problem.html",
            {"message": _("This rating link does not exist."), "status": 404},
            status=404,
        )
    target = reverse("rate", args=[token_for(invitation.slot.public_id)]) + "?via=sms"
    response = HttpResponse(status=302)
    response["Location"] = target
    return response


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["POST"])
def sms_hook(request: HttpRequest, provider: str) -> HttpResponse:
    """A provider's reply callback; each reply is stored and answered (haoping.channels.services)."""
    if provider not in hooks.PROVIDERS:
        return _error(404, "not_found", _("no such SMS provider"))
    if not hooks.hook_key_valid(provider, request.GET.get("key", "")):
        return _error(403, "bad_signature", _("the callback's key is missing or wrong"))
    try:
        replies = hooks.parse(provider, request.body)
    except hooks.BadCallback as exc:
        return _error(400, "invalid", _("not a reply callback of this provider (%(field)s)") % {"field": exc})
    for reply in replies:
        sms_reply_receive(provider=provider, phone=reply.phone, text=reply.text, at=reply.at, provider_ref=reply.ref)
    return JsonResponse(hooks.PROVIDERS[provider][1], json_dumps_params={"ensure_ascii": False})
