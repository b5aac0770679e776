from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter

from haoping.accounts.access import access_identity

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
