"""Bulk registration of old demo records, with the records services' semantics.

Registering through `haoping.records.services` costs about a dozen queries per record, too slow
for three months of a city on SQLite. Records whose every step lies well in the past are
inserted here in bulk instead, producing exactly what the services would: the same applicant
digests (`party_build`), record status, visits, and ratable services (`slot_build`, R2, R4, R6).
The demo tests check both paths against those rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from haoping.demo.people import Party
from haoping.demo.plan import RecordPlan
from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.directory.selectors import policy_for_region
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit
from haoping.records.rules import rated_per_visit
from haoping.records.services import PartyData, party_build, slot_build

BATCH_SIZE = 2000


class Codes:
    """Ids by code, and each region's rating window, looked up once."""

    def __init__(self) -> None:
        self.items = dict(ServiceItem.objects.values_list("code", "pk"))
        self.institutions = dict(Institution.objects.values_list("code", "region_id"))
        self.institution_ids = dict(Institution.objects.values_list("code", "pk"))
        self.platforms = dict(Platform.objects.values_list("code", "region_id"))
        self.platform_ids = dict(Platform.objects.values_list("code", "pk"))
        self.windows = dict(Window.objects.values_list("code", "pk"))
        self.staff = dict(Staff.objects.values_list("staff_no", "pk"))
        self.window_days = {r.pk: policy_for_region(r).rating_window_days for r in Region.objects.all()}

    def region_id(self, plan: RecordPlan) -> int:
        # As record_create: the institution's region, else the platform's.
        if plan.institution:
            return self.institutions[plan.institution]
        assert plan.platform is not None
        return self.platforms[plan.platform]


def _applicant(party: Party) -> Applicant:
    return party_build(PartyData(kind=party.kind, name=party.name, phone=party.phone, id_number=party.id_number))


def _slot(kind: str, region_id: int, at: dt.datetime, codes: Codes, **links: Any) -> RatingSlot:
    return slot_build(kind=kind, region_id=region_id, at=at, window_days=codes.window_days[region_id], **links)


def register_bulk(plans: Sequence[RecordPlan]) -> None:
    """Insert `plans` (sorted by acceptance) as record_create, visit_create and record_complete would."""
    codes = Codes()
    bundles = _bundles(plans, codes)
    parties = [_applicant(p.applicant) for p in plans]
    agents = {i: _applicant(p.agent) for i, p in enumerate(plans) if p.agent}
    Applicant.objects.bulk_create(parties + list(agents.values()), batch_size=BATCH_SIZE)
    records = [_record(plan, codes, parties[i], agents.get(i), bundles) for i, plan in enumerate(plans)]
    ServiceRecord.objects.bulk_create(records, batch_size=BATCH_SIZE)
    visits = [
        (
            record,
            Visit(record=record, window_id=codes.windows[v.window], staff_id=codes.staff.get(v.staff or ""), at=v.at),
        )
        for plan, record in zip(plans, records, strict=True)
        for v in plan.visits
    ]
    Visit.objects.bulk_create([v for _r, v in visits], batch_size=BATCH_SIZE)
    slots = [
        _slot(RatingSlot.Kind.VISIT, record.region_id, visit.at, codes, record=record, visit=visit)
        for record, visit in visits
        if rated_per_visit(record.mode, record.on_the_spot)
    ]
    slots += [
        _slot(RatingSlot.Kind.COMPLETION, record.region_id, record.completed_at, codes, record=record)
        for record in records
        if record.completed_at is not None
    ]
    RatingSlot.objects.bulk_create(slots, batch_size=BATCH_SIZE)


def _bundles(plans: Sequence[RecordPlan], codes: Codes) -> dict[str, Bundle]:
    """Each bundle as its first record creates it; a theme opens its overall slot then (R6)."""
    bundles: dict[str, Bundle] = {}
    first_seen: dict[str, RecordPlan] = {}
    for plan in plans:
        if plan.bundle_no and plan.bundle_no not in bundles:
            assert plan.bundle_kind is not None
            bundles[plan.bundle_no] = Bundle(
                bundle_no=plan.bundle_no, kind=plan.bundle_kind, region_id=codes.region_id(plan)
            )
            first_seen[plan.bundle_no] = plan
    Bundle.objects.bulk_create(list(bundles.values()), batch_size=BATCH_SIZE)
    RatingSlot.objects.bulk_create(
        [
            _slot(RatingSlot.Kind.THEME, bundle.region_id, first_seen[no].accepted_at, codes, bundle=bundle)
            for no, bundle in bundles.items()
            if bundle.kind == Bundle.Kind.THEME
        ],
        batch_size=BATCH_SIZE,
    )
    return bundles


def _record(
    plan: RecordPlan, codes: Codes, applicant: Applicant, agent: Applicant | None, bundles: dict[str, Bundle]
) -> ServiceRecord:
    completed = plan.completed_at is not None
    return ServiceRecord(
        record_no=plan.record_no,
        region_id=codes.region_id(plan),
        item_id=codes.items[plan.item.code],
        institution_id=codes.institution_ids.get(plan.institution or ""),
        platform_id=codes.platform_ids.get(plan.platform or ""),
        window_id=codes.windows.get(plan.window or ""),
        staff_id=codes.staff.get(plan.staff or ""),
        mode=plan.mode,
        on_the_spot=plan.on_the_spot,
        applicant=applicant,
        agent=agent,
        bundle=bundles.get(plan.bundle_no or ""),
        accepted_at=plan.accepted_at,
        status=ServiceRecord.Status.COMPLETED if completed else ServiceRecord.Status.IN_PROGRESS,
        completed_at=plan.completed_at,
    )
