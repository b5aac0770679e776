"""The demo city's published results (R19): its last full month, for the city and each district,
as their managers would publish them; one district also shows its window staff by number."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from haoping.accounts.access import Actor
from haoping.demo.catalog import CITY_CODE
from haoping.directory.models import Region
from haoping.disclosure.services import disclosure_setting_update, publication_publish


def publications_load() -> int:
    """Publish the last full month for the city and its districts; returns how many were published."""
    city = Region.objects.get(code=CITY_CODE)
    actor = Actor(label=f"{city.name}政务服务管理局", roles=frozenset({"manager"}), region=city)
    last_month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    regions = [city, *Region.objects.filter(parent=city).order_by("code")]
    # 窗口人员公示 in the first district, to show what it looks like.
    disclosure_setting_update(
        actor=actor, region=regions[1], show_institutions=True, show_departments=True, show_items=True, show_staff=True
    )
    for region in regions:
        publication_publish(actor=actor, region=region, month=last_month)
    return len(regions)
