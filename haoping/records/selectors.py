from __future__ import annotations

from django.utils.translation import gettext as _

from haoping.accounts.access import access_visible
from haoping.accounts.models import ApiClient
from haoping.errors import NotFound
from haoping.records.links import link_pair, public_id_from_token
from haoping.records.models import RatingSlot, ServiceRecord


def record_for_client(*, client: ApiClient, record_no: str, for_update: bool = False) -> ServiceRecord:
    """The record, if it lies in the client's region; otherwise it does not exist for them."""
    records = ServiceRecord.objects.select_related("region", "item")
    if for_update:
        records = records.select_for_update(of=("self",))
    record = records.filter(record_no=record_no).first() if "\x00" not in record_no else None
    if record is None:
        raise NotFound("not_found", _("record %(no)s not found") % {"no": record_no})
    access_visible(client, record.region, _("record %(no)s") % {"no": record_no})
    return record


def record_links(record: ServiceRecord) -> dict[str, dict[str, str]]:
    """The rating links a business system hands out for this record, as far as they exist yet."""
    links = {}
    slots = RatingSlot.objects.filter(record=record, kind=RatingSlot.Kind.COMPLETION)
    if record.bundle_id:
        slots = slots | RatingSlot.objects.filter(bundle_id=record.bundle_id, kind=RatingSlot.Kind.THEME)
    for slot in slots:
        links["completion" if slot.kind == RatingSlot.Kind.COMPLETION else "theme"] = link_pair(slot.public_id)
    return links


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
