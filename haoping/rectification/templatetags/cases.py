"""Template filters for the console's case pages."""

from __future__ import annotations

from django import template

from haoping.evaluations.models import LEVEL_LABELS

register = template.Library()


@register.filter
def level_name(level: int) -> str:
    """R1: a rating level by its name (非常不满意), as the evaluator chose it."""
    return str(LEVEL_LABELS.get(level, level))
