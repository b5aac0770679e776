"""Reads of the exchange, scoped to the acting manager's region (haoping.accounts.access)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min
from django.db.models.query import QuerySet

from haoping.accounts.access import Actor, within_region
from haoping.exchange.models import Batch, OutgoingRow


def rows_visible(*, actor: Actor) -> QuerySet[OutgoingRow]:
    if actor.region is None or not actor.has("manager"):
        return OutgoingRow.objects.none()
    return OutgoingRow.objects.filter(within_region(actor.region))


@dataclass(frozen=True)
class DeliveryState:
    counts: dict[str, int]
    oldest_pending_at: dt.datetime | None
    rejected: list[OutgoingRow]
    undelivered: list[OutgoingRow]
    batches: list[Batch]


def delivery_state(*, actor: Actor, limit: int = 50) -> DeliveryState:
    rows = rows_visible(actor=actor)
    found = dict(rows.values("status").annotate(n=Count("id")).values_list("status", "n"))
    counts = {status: found.get(status, 0) for status in OutgoingRow.Status.values}
    waiting = (OutgoingRow.Status.PENDING, OutgoingRow.Status.TRANSPORT_ERROR)
    oldest = rows.filter(status__in=waiting).aggregate(at=Min("created_at"))["at"]
    endpoints = rows.values("endpoint_id").distinct()
    recent: Any = Batch.objects.filter(endpoint_id__in=endpoints).select_related("endpoint")[:10]
    return DeliveryState(
        counts=counts,
        oldest_pending_at=oldest,
        rejected=list(rows.filter(status=OutgoingRow.Status.REJECTED).select_related("region").order_by("-pk")[:limit]),
        undelivered=list(
            rows.filter(status=OutgoingRow.Status.TRANSPORT_ERROR).select_related("region").order_by("pk")[:limit]
        ),
        batches=list(recent),
    )
