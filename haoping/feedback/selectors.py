"""Reads of the comment inbox, scoped to who is asking: a unit's handlers see their unit's,
managers their region subtree's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from haoping.accounts.access import Actor, within_region
from haoping.feedback.models import SocialComment


def comments_visible(actor: Actor) -> QuerySet[SocialComment]:
    if actor.region is not None:
        return SocialComment.objects.filter(within_region(actor.region))
    if actor.unit_id is not None:
        return SocialComment.objects.filter(unit_id=actor.unit_id)
    return SocialComment.objects.none()


def comment_counts(comments: QuerySet[SocialComment], *, since: dt.date) -> list[dict[str, Any]]:
    """R18: comments counted by object and month, with how many are still open and overdue."""
    now = dt.datetime.now(dt.UTC)
    rows = (
        comments.filter(received_at__date__gte=since)
        .annotate(month=TruncMonth("received_at"))
        .values("month", "target", "object_label")
        .annotate(
            total=Count("id"),
            complaints=Count("id", filter=Q(kind=SocialComment.Kind.COMPLAINT)),
            open=Count("id", filter=~Q(state=SocialComment.State.CLOSED)),
            overdue=Count("id", filter=Q(answered_at__isnull=True, answer_due__lt=now)),
        )
        .order_by("-month", "-total", "object_label")
    )
    return [dict(row) for row in rows]


def comment_summary(*, region: Any, first: dt.date, last: dt.date) -> dict[str, int]:
    """R18 beside the ratings: a region subtree's comments received in a period, in one query."""
    tz = timezone.get_default_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    now = dt.datetime.now(dt.UTC)
    found = SocialComment.objects.filter(within_region(region), received_at__gte=start, received_at__lt=end).aggregate(
        total=Count("id"),
        complaints=Count("id", filter=Q(kind=SocialComment.Kind.COMPLAINT)),
        open=Count("id", filter=~Q(state=SocialComment.State.CLOSED)),
        overdue=Count("id", filter=Q(answered_at__isnull=True, answer_due__lt=now)),
    )
    return {key: int(value or 0) for key, value in found.items()}
