"""The SMS short link /s/<code>/, the providers' inbound callbacks /hooks/sms/<provider>/, and the
console's paper forms /console/paper/."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from haoping.accounts.access import Actor, actor_for_user
from haoping.channels import hooks
from haoping.channels.models import PaperForm
from haoping.channels.paper import (
    PaperRow,
    api_replacements_visible,
    paper_form_record,
    paper_form_visible,
    replacements_visible,
)
from haoping.channels.selectors import invitation_for_code
from haoping.channels.services import sms_reply_receive
from haoping.directory.models import Department
from haoping.errors import DomainError, Invalid
from haoping.evaluations.models import LEVEL_LABELS
from haoping.evaluations.selectors import hall_service_questionnaire, questionnaire_choices
from haoping.lib.numbers import whole_number
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


# ---------------------------------------------------------------------------------------------
# Paper forms in the console

PAPER_ROWS = 5


def _paper_rows(request: HttpRequest) -> list[dict[str, Any]]:
    """The rows of the batch as entered, each with what it needs to show again."""
    rows = []
    for i in range(PAPER_ROWS):
        get = request.POST.get if request.method == "POST" else (lambda key, default="": default)
        rows.append(
            {
                "i": i,
                "record_no": get(f"record_no_{i}", "").strip(),
                "form_date": get(f"form_date_{i}", ""),
                "level": get(f"level_{i}", ""),
                "reasons": request.POST.getlist(f"reasons_{i}") if request.method == "POST" else [],
                "comment": get(f"comment_{i}", ""),
            }
        )
    return rows


def _paper_row(request: HttpRequest, entered: dict[str, Any]) -> PaperRow:
    i = entered["i"]
    try:
        form_date = dt.date.fromisoformat(entered["form_date"])
    except ValueError:
        raise Invalid("invalid", _("date on the form: give a date such as 2026-12-04"), field="form_date") from None
    level = whole_number(entered["level"])
    if level is None:
        raise Invalid("invalid", _("level: choose one of the five levels"), field="level")
    return PaperRow(
        record_no=entered["record_no"],
        form_date=form_date,
        level=level,
        reasons=entered["reasons"],
        comment=entered["comment"],
        photo=request.FILES.get(f"photo_{i}"),
    )


def _home_path(actor: Actor) -> str:
    """The region a console user keys forms for: a manager's, a handler's unit's ("" : the root)."""
    if actor.region is not None:
        return actor.region.path
    unit = None
    if actor.unit_id is not None:
        unit = Department.objects.select_related("region").filter(pk=actor.unit_id).first()
    return unit.region.path if unit is not None else ""


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def paper(request: HttpRequest) -> HttpResponse:
    """Key in a batch of paper forms; managers also see the default ratings forms replaced."""
    actor = actor_for_user(request.user)
    if actor is None or not (actor.has("manager") or actor.has("handler")):
        raise Http404(_("page not found"))
    rows = _paper_rows(request)
    stored: list[PaperForm] = []
    failed = 0
    if request.method == "POST":
        for entered in rows:
            if not entered["record_no"]:
                continue
            try:
                stored.append(paper_form_record(actor=actor, row=_paper_row(request, entered)))
                entered.update(record_no="", form_date="", level="", reasons=[], comment="")
            except DomainError as exc:
                entered["error"] = exc.detail
                failed += 1
        if not stored and not failed:
            failed = -1  # nothing entered
    context = {
        "actor": actor,
        "n": PAPER_ROWS,
        "rows": rows,
        "stored": stored,
        "failed": failed,
        "levels": [(level, LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1)],
        # R8, R9: what a form of the actor's region may tick (each row is then held to its own service's).
        "reasons": questionnaire_choices(hall_service_questionnaire(_home_path(actor)))["reasons"],
        "replacements": replacements_visible(actor)[:200],
        "api_replacements": api_replacements_visible(actor)[:200],
        "recent": PaperForm.objects.filter(keyed_by=actor.user).select_related("evaluation").order_by("-keyed_at")[:20],
    }
    return render(request, "channels/paper.html", context, status=400 if failed else 200)


@login_required
@require_http_methods(["GET", "HEAD"])
def paper_photo(request: HttpRequest, form_id: int) -> HttpResponseBase:
    actor = actor_for_user(request.user)
    form = paper_form_visible(actor, form_id) if actor is not None else None
    name = form.photo.name if form is not None else None
    if form is None or not name or not default_storage.exists(name):
        raise Http404(_("page not found"))
    response = FileResponse(default_storage.open(name, "rb"), content_type=form.photo_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
