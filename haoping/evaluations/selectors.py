from __future__ import annotations

from django.db.models import QuerySet

from haoping.evaluations.models import Evaluation
from haoping.records.models import RatingSlot, ServiceRecord


def record_evaluations(*, record: ServiceRecord) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(record=record).order_by("rated_at", "id")


def slot_is_rated(slot: RatingSlot) -> bool:
    if slot.kind == RatingSlot.Kind.THEME:
        linked = RatingSlot.objects.filter(kind=RatingSlot.Kind.COMPLETION, record__bundle=slot.bundle)
        return linked.exists() and not linked.filter(evaluations__isnull=True).exists()
    return slot.evaluations.exists()


def submission_for_receipt(*, slot: RatingSlot, receipt: str) -> list[Evaluation]:
    if slot.kind == RatingSlot.Kind.THEME:
        rows = Evaluation.objects.filter(bundle=slot.bundle, receipt=receipt)
    else:
        rows = Evaluation.objects.filter(slot=slot, receipt=receipt)
    if not rows.exists():
        return []
    first = rows.first()
    assert first is not None
    return list(
        Evaluation.objects.filter(region_id=first.region_id, receipt=receipt)
        .select_related("record__item")
        .order_by("id")
    )
