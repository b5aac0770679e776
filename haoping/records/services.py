"""Writes for service records: registration, visits, completion. Each opens its ratable services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.models import ApiClient
from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.directory.selectors import policy_for_region, region_contains
from haoping.errors import Conflict, Forbidden, Invalid
from haoping.fields import lookup_digest
from haoping.records.links import new_public_id
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit
from haoping.records.selectors import record_for_client

M = TypeVar("M", bound=Model)

MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class PartyData:
    kind: str
    name: str = ""
    phone: str = ""
    id_number: str = ""


def _in_scope(client: ApiClient, region: Region, field: str) -> None:
    if not region_contains(client.region, region):
        raise Forbidden(
            "out_of_region", _("%(field)s: outside the region this API key may reach") % {"field": field}, field=field
        )


def _lookup(model: type[M], field: str, value: str | None, key: str = "code") -> M | None:
    if not value:
        return None
    obj = model._default_manager.filter(**{key: value}).first()
    if obj is None:
        raise Invalid(
            "unknown_code", _("%(field)s: unknown code %(code)s") % {"field": field, "code": value}, field=field
        )
    return obj


def _not_future(value: dt.datetime, field: str) -> None:
    if timezone.is_naive(value):
        raise Invalid("invalid", _("%(field)s: give a time zone (e.g. +08:00)") % {"field": field}, field=field)
    if value > timezone.now() + MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("%(field)s: lies in the future") % {"field": field}, field=field)


def party_build(data: PartyData) -> Applicant:
    """An unsaved applicant or agent, with the keyed digests that let R15 match them later."""
    return Applicant(
        kind=data.kind,
        name=data.name,
        phone=data.phone,
        id_number=data.id_number,
        phone_digest=lookup_digest("phone", data.phone),
        id_digest=lookup_digest("id", data.id_number),
    )


def _party_create(data: PartyData) -> Applicant:
    party = party_build(data)
    party.save(force_insert=True)
    return party


def slot_build(
    *,
    kind: str,
    region_id: int,
    at: dt.datetime,
    window_days: int,
    record: ServiceRecord | None = None,
    visit: Visit | None = None,
    bundle: Bundle | None = None,
) -> RatingSlot:
    """An unsaved ratable service; its closing time is fixed when it opens (R2), a theme's never."""
    closes_at = None if kind == RatingSlot.Kind.THEME else at + dt.timedelta(days=window_days)
    return RatingSlot(
        public_id=new_public_id(),
        kind=kind,
        region_id=region_id,
        record=record,
        visit=visit,
        bundle=bundle,
        opens_at=at,
        closes_at=closes_at,
    )


def slot_open(
    *,
    kind: str,
    region: Region,
    at: dt.datetime,
    record: ServiceRecord | None = None,
    visit: Visit | None = None,
    bundle: Bundle | None = None,
) -> RatingSlot:
    """Open a ratable service under the region's policy in force now."""
    slot = slot_build(
        kind=kind,
        region_id=region.pk,
        at=at,
        window_days=policy_for_region(region).rating_window_days,
        record=record,
        visit=visit,
        bundle=bundle,
    )
    slot.save(force_insert=True)
    return slot


@transaction.atomic
def record_create(
    *,
    client: ApiClient,
    record_no: str,
    item_code: str,
    institution_code: str | None,
    platform_code: str | None,
    window_code: str | None,
    staff_no: str | None,
    mode: str,
    on_the_spot: bool,
    applicant: PartyData,
    agent: PartyData | None,
    bundle_kind: str | None,
    bundle_no: str | None,
    accepted_at: dt.datetime,
    completed_at: dt.datetime | None,
) -> ServiceRecord:
    if ServiceRecord.objects.filter(record_no=record_no).exists():
        raise Conflict("duplicate", _("record_no: %(no)s is already registered") % {"no": record_no}, field="record_no")
    item = _lookup(ServiceItem, "item_code", item_code)
    institution = _lookup(Institution, "institution_code", institution_code)
    platform = _lookup(Platform, "platform_code", platform_code)
    window = _lookup(Window, "window_code", window_code)
    staff = _lookup(Staff, "staff_no", staff_no, key="staff_no")
    if institution is None and platform is None:
        raise Invalid("invalid", _("institution_code or platform_code: give at least one"), field="institution_code")
    assert isinstance(item, ServiceItem)
    if institution is not None:
        assert isinstance(institution, Institution)
        _in_scope(client, institution.region, "institution_code")
        region = institution.region
    if platform is not None:
        assert isinstance(platform, Platform)
        _in_scope(client, platform.region, "platform_code")
        if institution is None:
            region = platform.region
    if window is not None:
        assert isinstance(window, Window)
        if institution is None or window.institution_id != institution.pk:
            raise Invalid(
                "invalid", _("window_code: the window does not belong to the institution"), field="window_code"
            )
    _not_future(accepted_at, "accepted_at")
    if completed_at is not None:
        _not_future(completed_at, "completed_at")
        if completed_at < accepted_at:
            raise Invalid("invalid", _("completed_at: earlier than accepted_at"), field="completed_at")
    bundle = None
    if bundle_no:
        bundle = Bundle.objects.select_for_update().filter(bundle_no=bundle_no).first()
        if bundle is None:
            assert bundle_kind is not None  # the schema pairs bundle_no with its kind
            bundle = Bundle.objects.create(bundle_no=bundle_no, kind=bundle_kind, region=region)
            if bundle.kind == Bundle.Kind.THEME:
                slot_open(kind=RatingSlot.Kind.THEME, region=region, at=accepted_at, bundle=bundle)
        elif bundle.kind != bundle_kind:
            raise Invalid(
                "invalid",
                _("bundle.kind: bundle %(no)s is a %(kind)s bundle")
                % {"no": bundle_no, "kind": bundle.get_kind_display()},
                field="bundle.kind",
            )
        elif bundle.region_id != region.pk:
            raise Invalid(
                "invalid",
                _("bundle.bundle_no: bundle %(no)s belongs to another region") % {"no": bundle_no},
                field="bundle",
            )
        elif bundle.kind == Bundle.Kind.BATCH and bundle.records.exclude(item=item).exists():
            # R5: a batch is several records of the same item.
            raise Invalid("invalid", _("bundle: a batch holds records of one service item only"), field="bundle")
    try:
        with transaction.atomic():
            record = ServiceRecord.objects.create(
                record_no=record_no,
                region=region,
                item=item,
                institution=institution,
                platform=platform,
                window=window,
                staff=staff,
                mode=mode,
                on_the_spot=on_the_spot,
                applicant=_party_create(applicant),
                agent=_party_create(agent) if agent else None,
                bundle=bundle,
                accepted_at=accepted_at,
            )
    except IntegrityError as exc:  # a concurrent registration of the same number
        raise Conflict(
            "duplicate", _("record_no: %(no)s is already registered") % {"no": record_no}, field="record_no"
        ) from exc
    if completed_at is not None:
        _complete(record, completed_at)
    return record


def _complete(record: ServiceRecord, completed_at: dt.datetime) -> RatingSlot:
    record.status = ServiceRecord.Status.COMPLETED
    record.completed_at = completed_at
    record.save(update_fields=["status", "completed_at"])
    # R4: every record is rated once at completion.
    return slot_open(kind=RatingSlot.Kind.COMPLETION, region=record.region, at=completed_at, record=record)


@transaction.atomic
def record_complete(*, client: ApiClient, record_no: str, completed_at: dt.datetime) -> RatingSlot:
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    if record.status == ServiceRecord.Status.COMPLETED:
        raise Conflict("already_completed", _("record %(no)s was completed already") % {"no": record_no})
    _not_future(completed_at, "completed_at")
    if completed_at < record.accepted_at:
        raise Invalid("invalid", _("completed_at: earlier than accepted_at"), field="completed_at")
    return _complete(record, completed_at)


@transaction.atomic
def visit_create(
    *, client: ApiClient, record_no: str, window_code: str, staff_no: str | None, at: dt.datetime
) -> tuple[Visit, RatingSlot | None]:
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    window = _lookup(Window, "window_code", window_code)
    staff = _lookup(Staff, "staff_no", staff_no, key="staff_no")
    assert isinstance(window, Window)
    _in_scope(client, window.institution.region, "window_code")
    _not_future(at, "at")
    if at < record.accepted_at - MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("at: earlier than the record's accepted_at"), field="at")
    if record.status == ServiceRecord.Status.COMPLETED:
        raise Conflict("already_completed", _("record %(no)s is completed; no more visits") % {"no": record_no})
    visit = Visit.objects.create(record=record, window=window, staff=staff, at=at)
    slot = None
    if record.rated_per_visit:
        slot = slot_open(kind=RatingSlot.Kind.VISIT, region=record.region, at=at, record=record, visit=visit)
    return visit, slot
