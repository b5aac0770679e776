from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

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
    points = (value - previous) * 100
    return f"{points:+.1f} " + _("points")


@register.filter
def get(mapping: dict, key: object) -> object:  # type: ignore[type-arg]
    return mapping.get(key)
