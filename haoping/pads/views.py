"""The window pad (评价器) at /pad/, its event stream, and the console page that binds pads."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from haoping.accounts.access import actor_for_user, manages
from haoping.directory.models import Staff
from haoping.errors import Busy, DomainError, error_labelled
from haoping.evaluations.models import LEVEL_LABELS, REASON_LABELS
from haoping.evaluations.selectors import submission_for_receipt
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
from haoping.pads.services import pad_bind, pad_dismiss, pad_rate, pad_register, pad_revoke, staff_photo_set
from haoping.records.models import RatingSlot
from haoping.throttle import public_limit

logger = logging.getLogger(__name__)

# A stream ends after this long and the browser opens a new one (EventSource reconnects by itself),
# so that a revoked pad is dropped and connections do not live for ever behind proxies.
STREAM_SECONDS = 300
# How soon a browser reconnects a broken stream (milliseconds, sent as the stream's `retry`).
RETRY_MS = 1000
# The thank-you screen shows this long before the pad returns to idle (seconds).
THANKS_SECONDS = 8
COOKIE_AGE = 5 * 365 * 24 * 3600
LEVELS = (5, 4, 3, 2, 1)
FIELD_LABELS = {"reasons": _("reasons"), "code": _("device code"), "photo": _("photo")}


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
    base: dict[str, object] = {
        "pad": pad,
        "window": pad.window,
        "levels": [(level, LEVEL_LABELS[level]) for level in LEVELS],
        "reason_choices": list(REASON_LABELS.items()),
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
        error = error_labelled(exc, FIELD_LABELS)
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


def _event(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def pad_events(request: HttpRequest) -> HttpResponseBase:
    """Server-sent events: `service` whenever what the pad should show changes."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    pad = await sync_to_async(pad_for_cookie)(request.COOKIES.get(COOKIE))
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
                now_showing = await sync_to_async(pad_service_id)(pad_id)
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
    photo = StaffPhoto.objects.select_related("staff__institution__region").filter(staff__staff_no=staff_no).first()
    if photo is None:
        raise Http404(_("no photo"))
    pad = _pad(request)
    actor = actor_for_user(request.user)
    region = photo.staff.institution.region if photo.staff.institution else None
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
