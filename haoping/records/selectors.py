from __future__ import annotations

from django.utils.translation import gettext as _

from haoping.accounts.models import ApiClient
from haoping.directory.selectors import region_contains
from haoping.errors import NotFound
from haoping.records.links import public_id_from_token
from haoping.records.models import RatingSlot, ServiceRecord


def record_for_client(*, client: ApiClient, record_no: str, for_update: bool = False) -> ServiceRecord:
    """The record, if it lies in the client's region; otherwise it does not exist for them."""
    records = ServiceRecord.objects.select_related("region", "item")
    if for_update:
        records = records.select_for_update(of=("self",))
    record = records.filter(record_no=record_no).first()
    if record is None or not region_contains(client.region, record.region):
        raise NotFound("not_found", _("record %(no)s not found") % {"no": record_no})
    return record


def slot_for_token(token: str) -> RatingSlot:
    """The ratable service a link names; 404 for an unknown link, 403 for a forged one."""
    slot = (
        RatingSlot.objects.select_related(
            "record__item",
            "record__institution",
            "record__platform",
            "record__window",
            "record__staff",
            "visit__window__institution",
            "visit__staff",
            "bundle",
        )
        .filter(public_id=public_id_from_token(token))
        .first()
    )
    if slot is None:
        raise NotFound("token_not_found", _("no such rating link"))
    return slot


def theme_records(slot: RatingSlot) -> list[ServiceRecord]:
    return list(ServiceRecord.objects.filter(bundle=slot.bundle).select_related("item").order_by("record_no"))
