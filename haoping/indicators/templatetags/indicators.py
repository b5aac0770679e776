from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from haoping.lib.points import points_between, signed_points

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """A rate as a percentage with one decimal; no data is a dash, never 0 %."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


@register.filter
def change(value: float | None, previous: float | None) -> str:
    """Percentage points against the previous period."""
    if value is None or previous is None:
        return _("no comparison")
    return signed_points(points_between(value, previous)) + " " + _("points")


@register.filter
def get(mapping: dict, key: object) -> object:  # type: ignore[type-arg]
    return mapping.get(key)


@register.simple_tag
def period_presets() -> list[tuple[str, dt.date, dt.date]]:
    """The usual periods up to today: day, week, month, last month, quarter, year."""
    today = timezone.localdate()
    month = today.replace(day=1)
    last_month_end = month - dt.timedelta(days=1)
    quarter = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return [
        (pgettext("period", "Today"), today, today),
        (_("This week"), today - dt.timedelta(days=today.weekday()), today),
        (_("This month"), month, today),
        (_("Last month"), last_month_end.replace(day=1), last_month_end),
        (_("This quarter"), quarter, today),
        (pgettext("period", "This year"), today.replace(month=1, day=1), today),
    ]


@register.simple_tag
def channel_choices() -> list[tuple[str, str]]:
    from haoping.evaluations.models import Evaluation

    return [(value, str(label)) for value, label in Evaluation.Channel.choices]
