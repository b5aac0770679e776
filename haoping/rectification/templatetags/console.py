from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter

from haoping.accounts.access import access_identity
from haoping.rectification import selectors
from haoping.rectification.selectors import ConsoleCounts, TimeLeft

register = template.Library()


@register.filter(expects_localtime=True)
def moment(value: dt.datetime | None, actor: Any) -> str:
    """When something about a case happened, as this actor may read it. R10: a rated staff member
    gets the day only; a rating's minute (and every time counted from it) would find the rater in
    the business system they work in."""
    if value is None or value == "":
        return ""
    if actor is not None and access_identity(actor):
        return str(date_filter(value, "Y-m-d H:i"))
    return str(date_filter(value, "Y-m-d"))


@register.simple_tag
def console_counts(actor: Any) -> ConsoleCounts | None:
    """The navigation's counts for the signed-in console user."""
    if actor is None or actor.user is None:
        return None
    return selectors.console_counts(actor=actor, user=actor.user)


@register.filter
def time_left(case: Any) -> TimeLeft | None:
    return selectors.case_time_left(case)
