"""`GET /api/v1/indicators`: the six Annex A rates and their counts for one object and period."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Query, Router, Schema
from pydantic import Field

from haoping.accounts.access import access_item, access_visible, staff_home
from haoping.apidocs import code_list, doc
from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.errors import Invalid, NotFound
from haoping.evaluations.models import Evaluation
from haoping.indicators.selectors import indicator_report
from haoping.schemas import ApiRequest, Code, ErrorOut, PeriodDate

router = Router(tags=["indicators"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ObjectKind = Literal["region", "department", "institution", "window", "platform", "item", "staff"]
MAX_DAYS = 3660


OBJECT_KINDS = {
    "region": gettext_lazy("region"),
    "department": gettext_lazy("department"),
    "institution": gettext_lazy("institution"),
    "window": gettext_lazy("window"),
    "platform": gettext_lazy("platform"),
    "item": gettext_lazy("service item"),
    "staff": gettext_lazy("staff member"),
}


class IndicatorQuery(Schema):
    object: ObjectKind = Field(description=code_list(doc("The kind of object measured."), OBJECT_KINDS))
    code: Code = Field(
        description=doc(
            "The object's code: division code, department, institution, window or platform code, "
            "事项编码 or staff number."
        )
    )
    from_: PeriodDate = Field(alias="from", description=doc("The first day of the period (YYYY-MM-DD)."))
    to: PeriodDate = Field(description=doc("The last day of the period, included (YYYY-MM-DD); at most 3660 days."))
    channel: Evaluation.Channel | None = Field(
        None, description=code_list(doc("Only the ratings of this channel."), Evaluation.Channel)
    )


class Counts(Schema):
    total: int = Field(description=doc("All ratings: active ratings plus timed-out defaults."))
    active: int = Field(description=doc("Ratings given by evaluators (not defaults)."))
    defaults: int = Field(description=doc("Default ratings of records not rated in time (R2)."))
    active_good: int = Field(description=doc("Active ratings of level 4 or 5."))
    bad: int = Field(description=doc("Bad ratings (level 1 or 2)."))
    invalid_bad: int = Field(description=doc("Bad ratings not adopted (mistaken, malicious, appeal upheld)."))
    valid_bad: int = Field(description=doc("Bad ratings adopted."))
    replied: int = Field(description=doc("Bad reviews answered."))
    rectified: int = Field(description=doc("Bad reviews rectified after the revisit."))
    satisfied: int = Field(description=doc("Revisits where the evaluator was satisfied."))


class Rates(Schema):
    good_rate: float | None = Field(
        description=doc("Good rate 好评率 = (total − valid bad) / total; null without data.")
    )
    active_good_rate: float | None = Field(
        description=doc("Active good rate 主动评价好评率 = active good / (active − invalid bad); null without data.")
    )
    unrated_rate: float | None = Field(
        description=doc("Unrated rate 未评率 = (defaults + invalid bad) / total; null without data.")
    )
    reply_rate: float | None = Field(description=doc("Reply rate 差评回复率 = replied / bad; null without data."))
    rectification_rate: float | None = Field(
        description=doc("Rectification rate 差评回访整改率 = rectified / valid bad; null without data.")
    )
    rectification_satisfaction_rate: float | None = Field(
        description=doc("Rectification satisfaction 差评回访整改满意率 = satisfied / rectified; null without data.")
    )


class IndicatorOut(Schema):
    object: str = Field(
        description=code_list(doc("The kind of object measured."), OBJECT_KINDS),
        json_schema_extra={"enum": list(OBJECT_KINDS)},
    )
    code: str = Field(description=doc("The object's code."))
    name: str = Field(description=doc("The object's name."))
    from_: dt.date = Field(serialization_alias="from", description=doc("The first day of the period."))
    to: dt.date = Field(description=doc("The last day of the period, included."))
    channel: str | None = Field(
        description=doc("The channel counted; null for all channels."),
        json_schema_extra={"enum": [*Evaluation.Channel.values, None]},
    )
    counts: Counts = Field(description=doc("The counts behind the rates."))
    rates: Rates = Field(description=doc("The six rates of GB/T 39735 Annex A, as fractions from 0 to 1."))


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
    "",
    response={200: IndicatorOut, **ERRORS},
    summary="Annex A indicators of one object and period",
    description=doc(
        "The counts and the six rates of GB/T 39735 Annex A for one object and period, within the key's region. "
        "A rate whose denominator is 0 is null (no data)."
    ),
    by_alias=True,
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
