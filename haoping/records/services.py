"""Writes for service records: registration, visits, completion. Each opens its ratable services."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import access_item, access_region, access_staff, unknown_code
from haoping.accounts.models import ApiClient
from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.directory.selectors import policy_for_region
from haoping.errors import Conflict, Invalid
from haoping.fields import lookup_digest
from haoping.records.links import new_public_id
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit
from haoping.records.selectors import record_for_client

M = TypeVar("M", bound=Model)

MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class PartyData:
    kind: str
    name: str = ""
    phone: str = ""
    id_number: str = ""


def _lookup(
    model: type[M], field: str, value: str | None, key: str = "code", related: tuple[str, ...] = ()
) -> M | None:
    if not value:
        return None
    obj = model._default_manager.select_related(*related).filter(**{key: value}).first()
    if obj is None:
        raise unknown_code(field, value)
    return obj


def check_time(value: dt.datetime, field: str, *, not_before: dt.datetime | None = None) -> None:
    """A time a client sends: with a zone, not in the future, not before the system or `not_before`."""
    if timezone.is_naive(value):
        raise Invalid("invalid", _("%(field)s: give a time zone (e.g. +08:00)") % {"field": field}, field=field)
    if value.year < EARLIEST_YEAR:  # compared before any zone arithmetic, which overflows near year 1
        raise Invalid("invalid", _("%(field)s: earlier than the year 2000") % {"field": field}, field=field)
    if value > timezone.now() + MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("%(field)s: lies in the future") % {"field": field}, field=field)
    if not_before is not None and value < not_before - MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("%(field)s: earlier than the step before it") % {"field": field}, field=field)


def phone_tail_digest(phone: str) -> str:
    """Keyed SM3 of a phone number's last four digits (or of the four digits searched for)."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c in "0123456789")
    return lookup_digest("phone_tail", digits[-4:]) if len(digits) >= 4 else ""


def party_build(data: PartyData) -> Applicant:
    """An unsaved applicant or agent, with the keyed digests that let R15 match them later."""
    return Applicant(
        kind=data.kind,
        name=data.name,
        phone=data.phone,
        id_number=data.id_number,
        phone_digest=lookup_digest("phone", data.phone),
        phone_tail_digest=phone_tail_digest(data.phone),
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


def _staff(client: ApiClient, staff_no: str | None, institution: Institution | None) -> Staff | None:
    staff = _lookup(Staff, "staff_no", staff_no, key="staff_no", related=("institution__region", "department__region"))
    if staff is None:
        return None
    access_staff(client, staff, "staff_no")
    if institution is not None and staff.institution_id not in (None, institution.pk):
        raise Invalid("invalid", _("staff_no: the staff member works at another institution"), field="staff_no")
    return staff


def _bundle(
    *, bundle_no: str | None, bundle_kind: str | None, region: Region, item: ServiceItem, at: dt.datetime
) -> Bundle | None:
    """The bundle a record joins, created by its first record; concurrent first records share it."""
    if not bundle_no:
        return None
    assert bundle_kind is not None  # the schema pairs bundle_no with its kind
    bundle = Bundle.objects.select_for_update().filter(bundle_no=bundle_no).first()
    if bundle is None:
        try:
            with transaction.atomic():
                bundle = Bundle.objects.create(bundle_no=bundle_no, kind=bundle_kind, region=region)
                if bundle.kind == Bundle.Kind.THEME:
                    slot_open(kind=RatingSlot.Kind.THEME, region=region, at=at, bundle=bundle)
                return bundle
        except IntegrityError:
            bundle = Bundle.objects.select_for_update().get(bundle_no=bundle_no)
    if bundle.region_id != region.pk:
        # Checked before anything else about the bundle, and answered without a word about it.
        raise number_unusable("bundle.bundle_no")
    if bundle.kind != bundle_kind:
        raise Invalid(
            "invalid",
            _("bundle.kind: bundle %(no)s is a %(kind)s bundle") % {"no": bundle_no, "kind": bundle.get_kind_display()},
            field="bundle.kind",
        )
    if bundle.kind == Bundle.Kind.BATCH and bundle.records.exclude(item=item).exists():
        # R5: a batch is several records of the same item.
        raise Invalid("invalid", _("bundle: a batch holds records of one service item only"), field="bundle")
    return bundle


def number_unusable(field: str) -> Invalid:
    return Invalid(
        "invalid",
        _("%(field)s: this number cannot be used; send the number your system issued") % {"field": field},
        field=field,
    )


def _number_free(client: ApiClient, record_no: str) -> None:
    """A record number is national: the exchange carries it upward as `projectNo`, so it stays
    unique across regions rather than per region (two records under one number would be ambiguous
    to every key and platform above both). A number taken inside the key's subtree is a duplicate
    it can see anyway (409). One taken elsewhere cannot be registered either; the answer names the
    field and says only that the number cannot be used: never "already registered", nor the
    record's region or state. It comes last, so that a request that fails on anything else answers
    the same whether or not its number is taken.
    """
    taken = ServiceRecord.objects.filter(record_no=record_no).values_list("region__path", flat=True).first()
    if taken is None:
        return
    if taken.startswith(client.region.path):
        raise Conflict("duplicate", _("record_no: %(no)s is already registered") % {"no": record_no}, field="record_no")
    raise number_unusable("record_no")


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
    item = _lookup(ServiceItem, "item_code", item_code, related=("department__region",))
    assert item is not None
    access_item(client, item, "item_code")
    institution = _lookup(Institution, "institution_code", institution_code, related=("region",))
    platform = _lookup(Platform, "platform_code", platform_code, related=("region",))
    if institution is None and platform is None:
        raise Invalid("invalid", _("institution_code or platform_code: give at least one"), field="institution_code")
    if platform is not None:
        access_region(client, platform.region, "platform_code", platform.code)
        region = platform.region
    if institution is not None:
        access_region(client, institution.region, "institution_code", institution.code)
        region = institution.region
    window = _lookup(Window, "window_code", window_code, related=("institution__region",))
    if window is not None:
        access_region(client, window.institution.region, "window_code", window.code)
    if window is not None and (institution is None or window.institution_id != institution.pk):
        raise Invalid("invalid", _("window_code: the window does not belong to the institution"), field="window_code")
    staff = _staff(client, staff_no, institution)
    check_time(accepted_at, "accepted_at")
    if completed_at is not None:
        check_time(completed_at, "completed_at", not_before=accepted_at)
    # Only a registration that would otherwise succeed learns whether its number is free.
    _number_free(client, record_no)
    bundle = _bundle(bundle_no=bundle_no, bundle_kind=bundle_kind, region=region, item=item, at=accepted_at)
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
    except IntegrityError:  # a concurrent registration of the same number
        _number_free(client, record_no)
        raise
    if completed_at is not None:
        _complete(record, completed_at)
    return record


# What else happens when a record completes, each given its new completion slot: evaluations
# registers R5/R6's inheritance (`evaluation_inherit`) from its app's `ready`, so that records,
# which evaluations reads, never imports it.
class CompletionFollower(Protocol):
    def __call__(self, *, slot: RatingSlot) -> object: ...


_completion_followers: list[CompletionFollower] = []


def completion_follower(follow: CompletionFollower) -> None:
    if follow not in _completion_followers:
        _completion_followers.append(follow)


def _complete(record: ServiceRecord, completed_at: dt.datetime) -> RatingSlot:
    record.status = ServiceRecord.Status.COMPLETED
    record.completed_at = completed_at
    record.save(update_fields=["status", "completed_at"])
    # R4: every record is rated once at completion.
    slot = slot_open(kind=RatingSlot.Kind.COMPLETION, region=record.region, at=completed_at, record=record)
    for follow in _completion_followers:
        follow(slot=slot)
    return slot


@transaction.atomic
def record_complete(*, client: ApiClient, record_no: str, completed_at: dt.datetime) -> RatingSlot:
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    if record.status == ServiceRecord.Status.COMPLETED:
        raise Conflict("already_completed", _("record %(no)s was completed already") % {"no": record_no})
    last_visit = record.visits.order_by("-at").values_list("at", flat=True).first()
    check_time(completed_at, "completed_at", not_before=max(filter(None, [record.accepted_at, last_visit])))
    return _complete(record, completed_at)


@dataclass
class VisitResult:
    visit: Visit
    slot: RatingSlot | None
    replayed: bool = False


@transaction.atomic
def visit_create(
    *, client: ApiClient, record_no: str, window_code: str, staff_no: str | None, at: dt.datetime
) -> VisitResult:
    """Register a window visit; sending the same visit again returns it instead of a second one."""
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    window = _lookup(Window, "window_code", window_code, related=("institution__region",))
    assert window is not None
    access_region(client, window.institution.region, "window_code", window.code)
    staff = _staff(client, staff_no, window.institution)
    check_time(at, "at", not_before=record.accepted_at)
    earlier = Visit.objects.filter(record=record, window=window, at=at).select_related("slot").first()
    if earlier is not None:
        return VisitResult(earlier, getattr(earlier, "slot", None), replayed=True)
    if record.completed_at is not None and at > record.completed_at + MAX_CLOCK_SKEW:
        raise Conflict("already_completed", _("record %(no)s is completed; no more visits") % {"no": record_no})
    visit = Visit.objects.create(record=record, window=window, staff=staff, at=at)
    slot = None
    if record.rated_per_visit:
        slot = slot_open(kind=RatingSlot.Kind.VISIT, region=record.region, at=at, record=record, visit=visit)
    return VisitResult(visit, slot)
