"""`GET /api/v1/indicators`: the six Annex A rates and their counts for one object and period."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from haoping.accounts.access import access_item, access_visible, staff_home
from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.errors import Invalid, NotFound
from haoping.evaluations.models import Evaluation
from haoping.indicators.selectors import indicator_report
from haoping.schemas import ApiRequest, Code, ErrorOut, PeriodDate

router = Router(tags=["indicators"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ObjectKind = Literal["region", "department", "institution", "window", "platform", "item", "staff"]
MAX_DAYS = 3660


class IndicatorQuery(Schema):
    object: ObjectKind
    code: Code
    from_: PeriodDate = Field(alias="from")
    to: PeriodDate
    channel: Evaluation.Channel | None = None


class Counts(Schema):
    total: int
    active: int
    defaults: int
    active_good: int
    bad: int
    invalid_bad: int
    valid_bad: int
    replied: int
    rectified: int
    satisfied: int


class Rates(Schema):
    good_rate: float | None
    active_good_rate: float | None
    unrated_rate: float | None
    reply_rate: float | None
    rectification_rate: float | None
    rectification_satisfaction_rate: float | None


class IndicatorOut(Schema):
    object: str
    code: str
    name: str
    from_: dt.date = Field(serialization_alias="from")
    to: dt.date
    channel: str | None
    counts: Counts
    rates: Rates


def _home(obj: Any) -> Region | None:
    if isinstance(obj, Department | Platform | Institution):
        return obj.region
    if isinstance(obj, Window):
        return obj.institution.region
    if isinstance(obj, Staff):
        return staff_home(obj)
    return None


LOOKUPS: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "department": (Department, "code", ("region",)),
    "institution": (Institution, "code", ("region",)),
    "window": (Window, "code", ("institution__region",)),
    "platform": (Platform, "code", ("region",)),
    "item": (ServiceItem, "code", ("department__region",)),
    "staff": (Staff, "staff_no", ("institution__region", "department__region")),
}


@router.get(
    "", response={200: IndicatorOut, **ERRORS}, summary="Annex A indicators of one object and period", by_alias=True
)
def indicators(request: ApiRequest, query: Query[IndicatorQuery]) -> dict[str, Any]:
    client = request.auth
    first, last = query.from_, query.to
    if last < first:
        raise Invalid("invalid", _("to: must not be before from"), field="to")
    if (last - first).days >= MAX_DAYS:
        raise Invalid("invalid", _("to: a period of at most %(days)d days") % {"days": MAX_DAYS}, field="to")
    if query.object == "region":
        region = Region.objects.filter(code=query.code).first()
        if region is None:
            raise NotFound("not_found", _("region %(code)s not found") % {"code": query.code})
        access_visible(client, region, _("region %(code)s") % {"code": query.code})
        name, object_id, within = region.name, region.pk, region
    else:
        model, key, related = LOOKUPS[query.object]
        obj = model.objects.select_related(*related).filter(**{key: query.code}).first()
        if obj is None:
            raise NotFound(
                "not_found", _("%(object)s %(code)s not found") % {"object": query.object, "code": query.code}
            )
        if isinstance(obj, ServiceItem):
            try:
                access_item(client, obj, "code")
            except Exception as exc:
                raise NotFound(
                    "not_found", _("%(object)s %(code)s not found") % {"object": query.object, "code": query.code}
                ) from exc
        else:
            home = _home(obj)
            if home is None:
                raise NotFound(
                    "not_found", _("%(object)s %(code)s not found") % {"object": query.object, "code": query.code}
                )
            access_visible(client, home, f"{query.object} {query.code}")
        # Counted only within the key's region: a city item served in this district counts here.
        name, object_id, within = obj.name, obj.pk, client.region
    report = indicator_report(
        kind=query.object, object_id=object_id, first=first, last=last, within=within, channel=query.channel
    )
    return {
        "object": query.object,
        "code": query.code,
        "name": name,
        "from_": first,
        "to": last,
        "channel": query.channel,
        **report,
    }
