"""Rating links to a rating page the upper platform hosts (field notes §1d, pattern A): the region's
setting names the address; the link carries the service's national identity, the time, and an SM2
signature the platform checks with our public key, so that it cannot be forged or altered."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from haoping.exchange import national
from haoping.exchange.models import Endpoint, ExchangeMark
from haoping.lib.gm import sm2_sign
from haoping.records.links import evaluation_url
from haoping.records.models import RatingSlot


def deep_link_input(project_no: str, service_number: str, time_text: str, app_mark: str) -> bytes:
    """What a deep link's `sign` signs."""
    return f"{project_no}{service_number}{time_text}{app_mark}".encode()


def deep_link(*, endpoint: Endpoint, project_no: str, service_number: str, area_code: str, now: dt.datetime) -> str:
    time_text = timezone.localtime(now).strftime("%Y%m%d%H%M%S")
    sign = sm2_sign(
        endpoint.sign_private_key,
        endpoint.sign_public_key,
        deep_link_input(project_no, service_number, time_text, endpoint.app_mark),
    )
    values = {
        "projectNo": project_no,
        "serviceNumber": service_number,
        "areaCode": area_code,
        "time": time_text,
        "appMark": endpoint.app_mark,
        "sign": sign,
    }
    link = endpoint.rating_link_pattern
    for name, value in values.items():
        link = link.replace("{" + name + "}", quote(value, safe=""))
    return link


def rating_link(slot: RatingSlot) -> str:
    """The link that invites a rating of `slot`: the upper platform's page when the region's endpoint
    names one and the item has a national code, else this system's own page."""
    from haoping.exchange.services import _Endpoints, _Maker

    record = slot.record
    endpoints = _Endpoints()
    endpoint = endpoints.for_region(record.region) if record is not None else None
    if record is None or endpoint is None or not endpoint.rating_link_pattern or national.self_built(record.item.code):
        return evaluation_url(slot.public_id)
    with transaction.atomic():
        # The page rates a service the platform knows: its row (and number) is made now, under the
        # sweep's lock on services, and sent with the next push.
        ExchangeMark.objects.get_or_create(name="slots")
        ExchangeMark.objects.select_for_update().get(name="slots")
        row = _Maker(endpoints).service(slot)
    if row is None:
        return evaluation_url(slot.public_id)
    return deep_link(
        endpoint=endpoint,
        project_no=row.project_no,
        service_number=row.payload["serviceNumber"],
        area_code=row.payload["areaCode"],
        now=timezone.now(),
    )
