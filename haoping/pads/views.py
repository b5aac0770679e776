"""The window pad (评价器) at /pad/, its event stream, and the console page that binds pads."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import segno
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.exceptions import Ratelimited

from haoping.accounts.access import actor_for_user, manages, staff_home
from haoping.directory.models import Institution, Staff
from haoping.errors import Busy, DomainError, Forbidden, error_labelled
from haoping.evaluations.models import LEVEL_LABELS
from haoping.evaluations.selectors import hall_questionnaire, questionnaire_choices, submission_for_receipt
from haoping.evaluations.services import slot_questionnaire
from haoping.formtokens import FIELD as FORM_TOKEN_FIELD
from haoping.formtokens import form_token_issue, form_token_valid
from haoping.pads.models import Pad, StaffPhoto
from haoping.pads.push import hub
from haoping.pads.selectors import (
    COOKIE,
    pad_cookie_value,
    pad_for_cookie,
    pad_service,
    pad_service_id,
    pads_visible,
    staff_has_photo,
    staff_on_duty,
    windows_visible,
)
from haoping.pads.services import (
    hall_code_send,
    hall_rate,
    pad_bind,
    pad_dismiss,
    pad_rate,
    pad_register,
    pad_revoke,
    staff_photo_set,
)
from haoping.records.models import RatingSlot
from haoping.throttle import public_limit

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A stream ends after this long and the browser opens a new one (EventSource reconnects by itself),
# so that a revoked pad is dropped and connections do not live for ever behind proxies.
STREAM_SECONDS = 300
# How soon a browser reconnects a broken stream (milliseconds, sent as the stream's `retry`).
RETRY_MS = 1000
# The thank-you screen shows this long before the pad returns to idle (seconds).
THANKS_SECONDS = 8
COOKIE_AGE = 5 * 365 * 24 * 3600
LEVELS = (5, 4, 3, 2, 1)
FIELD_LABELS = {
    "reasons": gettext_lazy("reasons"),
    "photo": gettext_lazy("photo"),
    "phone": gettext_lazy("mobile number"),
}
BIND_LABELS = {"code": gettext_lazy("device code")}
HALL_LABELS = {**FIELD_LABELS, "code": gettext_lazy("verification code")}


def _pad(request: HttpRequest) -> Pad | None:
    return pad_for_cookie(request.COOKIES.get(COOKIE))


def _idle_context(pad: Pad) -> dict[str, object]:
    staff = staff_on_duty(pad.window)
    return {
        "staff": staff,
        "staff_photo": staff_has_photo(staff),
        "institution": pad.window.institution,
    }


def _pad_page(request: HttpRequest, pad: Pad, *, status: int = 200, **context: object) -> HttpResponse:
    # R8, R9: the reason tags of what is rated: the service on screen, else the hall as a whole.
    slot = context.get("slot")
    if isinstance(slot, RatingSlot):
        questionnaire = slot_questionnaire(slot)
    else:
        questionnaire = hall_questionnaire(pad.window.institution.region.path)
    base: dict[str, object] = {
        "pad": pad,
        "window": pad.window,
        "levels": [(level, LEVEL_LABELS[level]) for level in LEVELS],
        "reason_choices": questionnaire_choices(questionnaire)["reasons"],
        "thanks_seconds": THANKS_SECONDS,
    }
    base.update(_idle_context(pad))
    base.update(context)
    return render(request, "pads/pad.html", base, status=status)


@never_cache
@require_http_methods(["GET", "HEAD"])
def pad_home(request: HttpRequest) -> HttpResponse:
    pad = _pad(request)
    if pad is None:
        return render(request, "pads/bind.html", {})
    receipt = request.GET.get("done", "")
    if receipt:
        slot_id = request.GET.get("s", "")
        slot = RatingSlot.objects.filter(public_id=slot_id).first() if len(slot_id) <= 24 else None
        rows = submission_for_receipt(slot=slot, receipt=receipt[:20]) if slot is not None else []
        if rows:
            return _pad_page(request, pad, mode="thanks", receipt=receipt, evaluation=rows[0])
    slot = pad_service(pad)
    if slot is None:
        return _pad_page(request, pad, mode="idle")
    return _pad_page(request, pad, mode="rating", slot=slot, item=slot.record.item if slot.record else None)


@public_limit()
@never_cache
@require_POST
def pad_bind_view(request: HttpRequest) -> HttpResponse:
    try:
        pad = pad_bind(code=request.POST.get("code", ""))
    except DomainError as exc:
        error = error_labelled(exc, BIND_LABELS)
        return render(request, "pads/bind.html", {"error": error}, status=exc.status)
    response = redirect("pad")
    response.set_cookie(
        COOKIE,
        pad_cookie_value(pad),
        max_age=COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _level(value: str) -> int | None:
    return int(value) if value in {"1", "2", "3", "4", "5"} else None


@never_cache
@require_POST
def pad_rate_view(request: HttpRequest) -> HttpResponse:
    pad = _pad(request)
    if pad is None:
        return render(request, "pads/bind.html", {}, status=403)
    public_id = request.POST.get("slot", "")
    level = _level(request.POST.get("level", ""))
    reasons = [r for r in request.POST.getlist("reasons") if r]
    comment = request.POST.get("comment", "")
    slot = pad_service(pad)
    if level is None:
        error = _("Tap the stars to choose a rating from 1 to 5.")
    else:
        try:
            submission = pad_rate(pad=pad, public_id=public_id, level=level, reasons=reasons, comment=comment)
        except (OperationalError, Busy) as exc:
            logger.warning("pad: database busy (%s), rating not stored", type(exc).__name__)
            error = _("The system is busy and your rating was not stored. Please press the button again.")
            status = 503
        except DomainError as exc:
            if exc.code in {"already_rated", "window_closed", "not_found"}:
                return redirect("pad")
            error = error_labelled(exc, FIELD_LABELS).detail
            status = exc.status
        else:
            return redirect(f"{request.path.rsplit('rate/', 1)[0]}?done={submission.receipt}&s={public_id}")
    if level is None:
        status = 400
    if slot is None or slot.public_id != public_id:
        return redirect("pad")
    return _pad_page(
        request,
        pad,
        status=status,
        mode="rating",
        slot=slot,
        item=slot.record.item if slot.record else None,
        error=error,
        chosen_level=level,
        chosen_reasons=reasons,
        comment=comment,
    )


@never_cache
@require_POST
def pad_dismiss_view(request: HttpRequest) -> HttpResponse:
    pad = _pad(request)
    if pad is None:
        return render(request, "pads/bind.html", {}, status=403)
    try:
        pad_dismiss(pad=pad, public_id=request.POST.get("slot", ""))
    except DomainError:
        pass
    return redirect("pad")


@never_cache
@require_http_methods(["GET", "HEAD"])
def pad_state(request: HttpRequest) -> HttpResponse:
    """The polling fallback: what the pad should show now."""
    pad = _pad(request)
    if pad is None:
        return JsonResponse({"error": "not_bound", "detail": _("this device is not bound to a window")}, status=403)
    slot = pad_service(pad)
    return JsonResponse({"service": slot.public_id if slot else ""})


def _released(read: Callable[[], T]) -> T:
    """A read for the event stream that gives its database connection back at once: a stream
    lasts minutes, and holding a pooled connection that long would let a few pads take them all."""
    try:
        return read()
    finally:
        if not connection.in_atomic_block:
            connection.close()


def _event(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def pad_events(request: HttpRequest) -> HttpResponseBase:
    """Server-sent events: `service` whenever what the pad should show changes."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    cookie = request.COOKIES.get(COOKIE)
    pad = await sync_to_async(_released)(lambda: pad_for_cookie(cookie))
    if pad is None:
        return JsonResponse({"error": "not_bound", "detail": _("this device is not bound to a window")}, status=403)
    pad_id, window_id = pad.pk, pad.window_id
    current = request.GET.get("showing", "")[:24]

    async def stream() -> AsyncIterator[str]:
        nonlocal current
        the_hub = hub()
        ends = time.monotonic() + STREAM_SECONDS
        yield f"retry: {RETRY_MS}\n\n"
        async with the_hub.subscribe(window_id) as changed:
            while time.monotonic() < ends:
                changed.clear()
                the_hub.ensure_listener()
                now_showing = await sync_to_async(_released)(lambda: pad_service_id(pad_id))
                if now_showing != current:
                    current = now_showing
                    yield _event("service", {"service": current})
                else:
                    yield ": waiting\n\n"
                try:
                    await asyncio.wait_for(changed.wait(), timeout=the_hub.wait_seconds())
                except TimeoutError:
                    pass

    response = StreamingHttpResponse(stream(), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-store"
    # nginx and similar proxies would otherwise hold the events back in their buffers.
    response["X-Accel-Buffering"] = "no"
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def staff_photo(request: HttpRequest, staff_no: str) -> HttpResponse:
    """A staff member's photo, for a bound pad (its window's staff) or a manager of their region."""
    photos = StaffPhoto.objects.select_related("staff__institution__region", "staff__department__region")
    photo = photos.filter(staff__staff_no=staff_no).first()
    if photo is None:
        raise Http404(_("no photo"))
    pad = _pad(request)
    actor = actor_for_user(request.user)
    region = staff_home(photo.staff)
    allowed = (pad is not None and pad.window.institution_id == photo.staff.institution_id) or (
        actor is not None and region is not None and manages(actor, region)
    )
    if not allowed:
        raise Http404(_("no photo"))
    response = HttpResponse(bytes(photo.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=300"
    return response


# ---------------------------------------------------------------------------------------------
# The console: managers register pads for their windows (a device code shown once), revoke them,
# and upload staff photos.


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def console_pads(request: HttpRequest) -> HttpResponse:
    actor = actor_for_user(request.user)
    if actor is None or not actor.has("manager") or actor.region is None:
        raise Http404(_("page not found"))
    windows = windows_visible(actor=actor)
    error = None
    issued = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                pad = pads_visible(actor=actor).filter(pk=_int(request.POST.get("revoke"))).first()
                if pad is None:
                    raise Http404(_("pad not found"))
                pad_revoke(actor=actor, pad=pad)
                return redirect("console-pads")
            if "photo_staff" in request.POST:
                staff = (
                    Staff.objects.filter(window__in=windows, staff_no=request.POST.get("photo_staff", ""))
                    .select_related("institution__region", "department__region")
                    .first()
                )
                if staff is None:
                    raise Http404(_("staff member not found"))
                upload = request.FILES.get("photo")
                staff_photo_set(actor=actor, staff=staff, data=upload.read() if upload else b"")
                return redirect("console-pads")
            window = windows.filter(code=request.POST.get("window", "")).first()
            if window is None:
                raise Http404(_("window not found"))
            pad, code = pad_register(actor=actor, window=window, label=request.POST.get("label", ""))
            issued = {"pad": pad, "code": code}
        except DomainError as exc:
            error = error_labelled(exc, FIELD_LABELS)
    pads = list(pads_visible(actor=actor)[:500])
    staff_list = list(
        Staff.objects.filter(window__in=windows).select_related("window", "photo").order_by("staff_no")[:500]
    )
    return render(
        request,
        "pads/console.html",
        {
            "actor": actor,
            "pads": pads,
            "windows": windows[:500],
            "staff_list": staff_list,
            "issued": issued,
            "error": error,
        },
        status=error.status if error else 200,
    )


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------------------------
# R11: the hall as a whole, from the pad's idle screen (anonymous, one a minute per pad) or from
# the hall's QR code on a phone (a mobile number confirmed by an SMS code, once a day).

HALL_PURPOSE = "hall"


def _hall_fields(request: HttpRequest) -> dict[str, Any]:
    return {
        "level": _level(request.POST.get("level", "")),
        "reasons": [r for r in request.POST.getlist("reasons") if r][:20],
        "comment": request.POST.get("comment", "")[:2000],
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def pad_hall(request: HttpRequest) -> HttpResponse:
    pad = _pad(request)
    if pad is None:
        return render(request, "pads/bind.html", {}, status=403)
    institution = pad.window.institution
    if request.method != "POST":
        return _pad_page(request, pad, mode="hall")
    fields = _hall_fields(request)
    try:
        rating = hall_rate(institution=institution, pad=pad, **fields)
    except DomainError as exc:
        return _pad_page(
            request,
            pad,
            status=exc.status,
            mode="hall",
            error=error_labelled(exc, HALL_LABELS).detail,
            chosen_level=fields["level"],
            chosen_reasons=fields["reasons"],
        )
    return _pad_page(request, pad, mode="thanks", receipt=rating.receipt, hall_level=LEVEL_LABELS[rating.level])


@csrf_exempt
@public_limit(block=False)
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def hall_page(request: HttpRequest, code: str) -> HttpResponse:
    """The hall's own rating page, opened from its QR code (no JavaScript)."""
    institution = Institution.objects.select_related("region").filter(code=code[:40]).first()
    if institution is None:
        raise Http404(_("hall not found"))
    context: dict[str, Any] = {
        "institution": institution,
        "levels": [(level, LEVEL_LABELS[level]) for level in LEVELS],
        "reason_choices": questionnaire_choices(hall_questionnaire(institution.region.path))["reasons"],
        "phone": request.POST.get("phone", "")[:30],
    }
    status = 200
    if request.method == "POST":
        if request.limited:  # type: ignore[attr-defined]
            raise Ratelimited()
        fields = _hall_fields(request)
        context.update(chosen_level=fields["level"], chosen_reasons=fields["reasons"], comment=fields["comment"])
        token_ok = form_token_valid(token=request.POST.get(FORM_TOKEN_FIELD, ""), purpose=HALL_PURPOSE, bound_to=code)
        try:
            if not token_ok:
                raise Forbidden("form_token", _("This page was open too long; check your answers and send them again."))
            if request.POST.get("action") == "send_code":
                hall_code_send(institution=institution, phone=context["phone"])
                context["code_sent"] = True
            else:
                rating = hall_rate(
                    institution=institution,
                    phone=context["phone"],
                    code=request.POST.get("code", "")[:12],
                    **fields,
                )
                return render(request, "pads/hall_done.html", {"institution": institution, "rating": rating})
        except DomainError as exc:
            context["error"] = error_labelled(exc, HALL_LABELS)
            status = exc.status
    elif request.limited:  # type: ignore[attr-defined]
        raise Ratelimited()
    context["form_token"] = form_token_issue(purpose=HALL_PURPOSE, bound_to=code)
    return render(request, "pads/hall.html", context, status=status)


@public_limit()
@require_http_methods(["GET", "HEAD"])
def hall_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The hall's QR code (SVG), shown on its pads' idle screen and printable for the hall."""
    institution = Institution.objects.filter(code=code[:40]).first()
    if institution is None:
        raise Http404(_("hall not found"))
    qr = segno.make(settings.SITE_URL + reverse("hall-rate", args=[institution.code]), error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=6, border=4)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
