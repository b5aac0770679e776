"""Reads for the pads: which pad a cookie names, what it shows now, who is on duty at its window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from haoping.accounts.access import Actor, within_region
from haoping.directory.models import Institution, Staff, Window
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.pads.models import HallRating, Pad, StaffPhoto
from haoping.records.models import RatingSlot, Visit

COOKIE = "haoping_pad"
COOKIE_SALT = "haoping.pads.cookie"


def pad_cookie_value(pad: Pad) -> str:
    return signing.dumps({"p": pad.pk, "n": pad.cookie_nonce}, salt=COOKIE_SALT, compress=False)


def pad_for_cookie(value: str | None) -> Pad | None:
    """The bound, unrevoked pad a signed cookie names; None for anything else (forged, revoked,
    bound again since)."""
    if not value:
        return None
    try:
        data = signing.loads(value, salt=COOKIE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), int) or not data.get("n"):
        return None
    pad = (
        Pad.objects.select_related("window__institution__region")
        .filter(pk=data["p"], cookie_nonce=data["n"], revoked_at__isnull=True, bound_at__isnull=False)
        .first()
    )
    return pad


def _show_since(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=settings.HAOPING_PAD_SHOW_MINUTES)


def _unrated(slots: QuerySet[RatingSlot]) -> QuerySet[RatingSlot]:
    return slots.filter(~Exists(Evaluation.objects.filter(slot_id=OuterRef("pk"))))


def pad_service(pad: Pad, now: dt.datetime | None = None) -> RatingSlot | None:
    """What the pad asks to be rated now: the newest service at its window that opened within the
    last HAOPING_PAD_SHOW_MINUTES, is still open and unrated, and was not set aside at this pad.
    Once rated (here or by link) or set aside, the pad goes back to idle; the service stays
    ratable by link until its window closes (R3)."""
    now = now or timezone.now()
    since = _show_since(now)
    open_now = RatingSlot.objects.filter(rules.window_open_q(now)).exclude(pk=pad.dismissed_slot_id or 0)
    related = ("record__item", "visit__staff", "record__staff")
    # Two narrow reads, each along a window index, rather than one OR the planner cannot use.
    visit = (
        _unrated(open_now.filter(kind=RatingSlot.Kind.VISIT, visit__window_id=pad.window_id, visit__at__gte=since))
        .select_related(*related)
        .order_by("-opens_at", "-pk")
        .first()
    )
    completion = (
        _unrated(
            open_now.filter(
                kind=RatingSlot.Kind.COMPLETION,
                record__window_id=pad.window_id,
                record__completed_at__gte=since,
            )
        )
        .select_related(*related)
        .order_by("-opens_at", "-pk")
        .first()
    )
    found = [s for s in (visit, completion) if s is not None]
    return max(found, key=lambda s: (s.opens_at, s.pk)) if found else None


def pad_service_id(pad_id: int) -> str:
    """The public id of what the pad shows now, '' when idle (the streams and polling compare it)."""
    pad = Pad.objects.filter(pk=pad_id, revoked_at__isnull=True).first()
    if pad is None:
        return ""
    slot = pad_service(pad)
    return slot.public_id if slot else ""


def staff_on_duty(window: Window, now: dt.datetime | None = None) -> Staff | None:
    """Who serves at the window now: the staff member of today's latest visit there, else the one
    the directory places at the window."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    latest = (
        Visit.objects.filter(window=window, at__gte=start, at__lte=now, staff__isnull=False)
        .select_related("staff")
        .order_by("-at")
        .first()
    )
    if latest is not None and latest.staff is not None:
        return latest.staff
    return Staff.objects.filter(window=window).order_by("staff_no").first()


def staff_has_photo(staff: Staff | None) -> bool:
    return staff is not None and StaffPhoto.objects.filter(staff=staff).exists()


def pads_visible(*, actor: Actor) -> QuerySet[Pad]:
    """The pads of the windows in a manager's region."""
    if not actor.has("manager") or actor.region is None:
        return Pad.objects.none()
    return (
        Pad.objects.filter(within_region(actor.region, "window__institution__region"))
        .select_related("window__institution")
        .order_by("window__institution__code", "window__code", "pk")
    )


def windows_visible(*, actor: Actor) -> QuerySet[Window]:
    if not actor.has("manager") or actor.region is None:
        return Window.objects.none()
    return (
        Window.objects.filter(within_region(actor.region, "institution__region"))
        .select_related("institution")
        .order_by("institution__code", "code")
    )


@dataclass(frozen=True)
class HallSummary:
    """R11: a hall's overall ratings over a period (中心总体), counted apart from its services'."""

    total: int
    by_level: dict[int, int]
    good: int
    bad: int

    @property
    def good_rate(self) -> float | None:
        # A zero denominator is "no data", never 0 % or 100 %.
        return self.good / self.total if self.total else None


def hall_summary(*, institution: Institution, first: dt.date, last: dt.date) -> HallSummary:
    rows = (
        HallRating.objects.filter(institution=institution, day__gte=first, day__lte=last)
        .values("level")
        .annotate(n=Count("id"))
    )
    by_level = {level: 0 for level in (5, 4, 3, 2, 1)}
    for row in rows:
        by_level[row["level"]] = row["n"]
    return HallSummary(
        total=sum(by_level.values()),
        by_level=by_level,
        good=by_level[5] + by_level[4],
        bad=by_level[2] + by_level[1],
    )
