from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.utils import timezone

from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.records.models import RatingSlot


class SlotState(StrEnum):
    OPEN = "open"
    RATED = "rated"
    CLOSED = "closed"
    NOT_READY = "not_ready"  # a theme none of whose records is completed yet


def slot_state(slot: RatingSlot, now: dt.datetime | None = None) -> SlotState:
    """Where a ratable service stands for its rating page; R2 and R3 decide by `rules.window_closed`."""
    now = now or timezone.now()
    if slot.kind == RatingSlot.Kind.THEME:
        linked = RatingSlot.objects.filter(kind=RatingSlot.Kind.COMPLETION, record__bundle=slot.bundle)
        # R6: a theme is open while any linked record not rated on its own is.
        unrated = list(linked.filter(evaluations__isnull=True).only("opens_at", "closes_at"))
        if not unrated:
            return SlotState.RATED if linked.exists() else SlotState.NOT_READY
        return SlotState.CLOSED if all(rules.window_closed(s, now) for s in unrated) else SlotState.OPEN
    if slot.evaluations.exists():
        return SlotState.RATED
    return SlotState.CLOSED if rules.window_closed(slot, now) else SlotState.OPEN


def submission_for_receipt(*, slot: RatingSlot, receipt: str) -> list[Evaluation]:
    """The active rating(s) given with this receipt on this service; empty for a wrong receipt."""
    active = Evaluation.objects.filter(source=Evaluation.Source.ACTIVE, receipt=receipt)
    rows = active.filter(bundle=slot.bundle) if slot.kind == RatingSlot.Kind.THEME else active.filter(slot=slot)
    first = rows.first()
    if first is None:
        return []
    return list(active.filter(region_id=first.region_id).select_related("record__item").order_by("id"))
