"""A busy day in the test district: as many rated services today as the demo city's busiest days
hold, inserted in bulk (the demo's way), and open services for the ratings a test sends."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import SLOT_RELATED, evaluation_build
from haoping.records.models import RatingSlot, ServiceRecord
from haoping.records.services import PartyData, party_build, slot_build

_batch = itertools.count()
CHANNELS = ["pad", "mobile", "qrcode", "kiosk", "pc"]
COMMENTS = ["窗口排队时间太长", "材料反复提交，办理太慢", "工作人员态度冷淡"]


def open_slots(world: dict[str, Any], n: int, *, at: dt.datetime | None = None) -> list[RatingSlot]:
    """`n` completed on-the-spot services of the district's two windows, each ratable once."""
    at = at or timezone.now() - dt.timedelta(minutes=30)
    batch = next(_batch)
    applicant = party_build(PartyData(kind="person", name="张三", phone="13800000000", id_number=""))
    applicant.save()
    windows = [(world["window"], world["staff"]), (world["window2"], world["staff2"])]
    items = [world["item"], world["item2"]]
    records = [
        ServiceRecord(
            record_no=f"BUSY-{batch}-{i}",
            region=world["district"],
            item=items[i % 2],
            institution=world["hall"],
            window=windows[i % 2][0],
            staff=windows[i % 2][1],
            mode=ServiceRecord.Mode.ONSITE,
            on_the_spot=True,
            applicant=applicant,
            status=ServiceRecord.Status.COMPLETED,
            accepted_at=at - dt.timedelta(minutes=20),
            completed_at=at,
        )
        for i in range(n)
    ]
    ServiceRecord.objects.bulk_create(records, batch_size=2000)
    slots = [
        slot_build(kind=RatingSlot.Kind.COMPLETION, region_id=r.region_id, at=at, window_days=7, record=r)
        for r in records
    ]
    RatingSlot.objects.bulk_create(slots, batch_size=2000)
    return list(RatingSlot.objects.select_related(*SLOT_RELATED).filter(record__record_no__startswith=f"BUSY-{batch}-"))


def busy_day(world: dict[str, Any], n: int) -> None:
    """`n` services rated today, one in fifty of them bad (with a comment), across channels."""
    now = timezone.now()
    rows: list[Evaluation] = []
    for i, slot in enumerate(open_slots(world, n, at=now - dt.timedelta(hours=1))):
        level = 1 + i % 2 if i % 50 == 0 else 5 - i % 3
        rows.append(
            evaluation_build(
                slot,
                level=level,
                source=Evaluation.Source.ACTIVE,
                channel=CHANNELS[i % len(CHANNELS)],
                rated_by="applicant",
                rated_at=now - dt.timedelta(minutes=i % 50),
                created_at=now,
                answers={},
                reasons=["efficiency"] if level <= 2 else [],
                comment=COMMENTS[i % len(COMMENTS)] if level <= 2 else "",
                receipt=f"B{i:015d}"[:20],
                client_ref="",
            )
        )
    Evaluation.objects.bulk_create(rows, batch_size=1000)
