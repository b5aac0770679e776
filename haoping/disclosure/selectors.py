"""Reads of the public pages: published months (their stored figures, nothing else) and receipts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from haoping.directory.models import Region
from haoping.disclosure.models import Publication
from haoping.evaluations.chain import anchor_entry, anchor_valid, link_hash, row_mac
from haoping.evaluations.models import ChainCheckpoint, ChainSeal, Evaluation
from haoping.indicators.counting import RATES, annex_a_rates
from haoping.rectification.models import BadReviewCase


def publication_find(*, region_code: str, month: dt.date | None) -> Publication | None:
    """A region's published month (its latest when `month` is None), in one query; its figures
    are read when first used (a page already rendered for its revision needs none of them)."""
    rows = Publication.objects.select_related("region").defer("figures").filter(region__code=region_code)
    if month is not None:
        return rows.filter(month=month).first()
    return rows.order_by("-month").first()


def published_months(region: Region) -> list[dt.date]:
    return list(Publication.objects.filter(region=region).order_by("-month").values_list("month", flat=True))


def published_regions() -> list[dict[str, Any]]:
    """Every region with a published month: its code, name and latest month."""
    latest: dict[str, dict[str, Any]] = {}
    for code, name, path, month in Publication.objects.order_by("region__path", "-month").values_list(
        "region__code", "region__name", "region__path", "month"
    ):
        latest.setdefault(code, {"code": code, "name": name, "path": path, "month": month})
    return list(latest.values())


def rates_of(counts: dict[str, int]) -> list[dict[str, Any]]:
    """The six Annex A rates of stored counts, with their names (divided when read)."""
    rates = annex_a_rates(counts)
    return [{"key": key, "label": str(label), "value": rates[key]} for key, label in RATES]


@dataclass(frozen=True)
class ReceiptView:
    """What anyone holding a receipt may learn: never who rated, nor what they wrote (R10)."""

    day: dt.date
    item: str
    place: str
    level: int
    level_label: str
    adopted: bool
    records: int
    # "sealed": in the chain up to a signed checkpoint that verifies, and the checkpoints from it up
    # to the newest one link up; "pending": stored, not sealed yet; "broken": a check failed.
    chain: str
    checkpoint: int | None
    latest_checkpoint: int | None


def _chain_state(rows: Sequence[Evaluation]) -> tuple[str, int | None, int | None]:
    """Whether the receipt's rows verify: each row's MAC and its link, the links from there to the
    checkpoint that covers them, that checkpoint's signature, and the digests from it to the newest
    signed checkpoint (which is verified too)."""
    latest = ChainCheckpoint.objects.order_by("-number").first()
    latest_number = latest.number if latest else None
    seals = {s.evaluation_id: s for s in ChainSeal.objects.filter(evaluation_id__in=[r.pk for r in rows])}
    if len(seals) < len(rows):
        broken = any(row_mac(r) != r.row_mac for r in rows)
        return ("broken" if broken else "pending"), None, latest_number
    for row in rows:
        seal = seals[row.pk]
        if row_mac(row) != seal.row_mac or row.row_mac != seal.row_mac:
            return "broken", None, latest_number
    first = min(s.seq for s in seals.values())
    covering = ChainCheckpoint.objects.filter(last_seq__gte=max(s.seq for s in seals.values())).order_by("number")
    checkpoint = covering.first()
    if checkpoint is None or latest is None:
        return "pending", None, latest_number
    # The links from the one before the first row up to the checkpoint's head (one batch or so).
    previous = ChainSeal.objects.filter(seq=first - 1).values_list("chain_hash", flat=True).first()
    prev_hash = previous if previous is not None else ("0" * 64 if first == 1 else None)
    if prev_hash is None:
        return "broken", checkpoint.number, latest_number
    expected = first
    for seal in ChainSeal.objects.filter(seq__gte=first, seq__lte=checkpoint.last_seq).order_by("seq").iterator():
        if (
            seal.seq != expected
            or link_hash(prev_hash, seal.seq, seal.evaluation_id, seal.row_mac, keyed=seal.keyed) != seal.chain_hash
        ):
            return "broken", checkpoint.number, latest_number
        prev_hash = seal.chain_hash
        expected += 1
    if prev_hash != checkpoint.head or not anchor_valid(anchor_entry(checkpoint)):
        return "broken", checkpoint.number, latest_number
    digest = checkpoint.digest
    for cp in ChainCheckpoint.objects.filter(number__gt=checkpoint.number).order_by("number").iterator():
        if cp.prev_digest != digest:
            return "broken", checkpoint.number, latest_number
        digest = cp.digest
    if latest.number != checkpoint.number and not anchor_valid(anchor_entry(latest)):
        return "broken", checkpoint.number, latest_number
    return "sealed", checkpoint.number, latest_number


def receipt_check(code: str) -> ReceiptView | None:
    """The rating given with a receipt (R10: nothing that names the rater), or None."""
    invalid = BadReviewCase.objects.filter(region_id=OuterRef("region_id"), receipt=OuterRef("receipt"), invalid=True)
    rows = list(
        Evaluation.objects.filter(receipt=code, source=Evaluation.Source.ACTIVE)
        .annotate(invalid=Exists(invalid))
        .select_related("item", "institution", "platform")
        .order_by("id")
    )
    if not rows:
        return None
    first = rows[0]
    rows = [r for r in rows if r.region_id == first.region_id]
    place = first.institution.name if first.institution else (first.platform.name if first.platform else "")
    chain, checkpoint, latest = _chain_state(rows)
    return ReceiptView(
        day=timezone.localtime(first.rated_at).date(),
        item=first.item.name,
        place=place,
        level=first.level,
        level_label=str(first.get_level_display()),
        adopted=not (first.blocked or getattr(first, "invalid", False)),
        records=len(rows),
        chain=chain,
        checkpoint=checkpoint,
        latest_checkpoint=latest,
    )


@dataclass(frozen=True)
class PublishedCase:
    """One bad review as 整改公示 shows it: never the evaluator, the staff member, the window, or
    the evaluator's words unless a manager approved them (RectificationNotice)."""

    day: dt.date
    item: str
    place: str
    adopted: bool
    # Not adopted: the category only (mistaken, malicious, appeal upheld).
    invalid_reason: str
    reasons: list[str]
    summary: str
    state: str
    rectification: str
    satisfied: bool | None


def published_cases(*, region: Region, month: dt.date) -> list[PublishedCase]:
    """The bad reviews rated in a month within a region's subtree, oldest first, in one query."""
    from haoping.accounts.access import within_region
    from haoping.evaluations.rules import REASON
    from haoping.evaluations.selectors import option_labels
    from haoping.indicators.services import day_bounds, month_end

    start, end = day_bounds(month, month_end(month))
    cases = (
        BadReviewCase.objects.filter(within_region(region))
        .filter(evaluation__rated_at__gte=start, evaluation__rated_at__lt=end, evaluation__blocked=False)
        .select_related("evaluation", "item", "institution", "unit", "notice")
        .order_by("evaluation__rated_at", "pk")
    )
    found = []
    labels = option_labels(REASON)
    for case in cases:
        notice = getattr(case, "notice", None)
        adopted = not case.invalid
        found.append(
            PublishedCase(
                day=timezone.localtime(case.evaluation.rated_at).date(),
                item=case.item.name,
                place=case.institution.name if case.institution else case.unit.name,
                adopted=adopted,
                invalid_reason="" if adopted else str(case.get_invalid_reason_display()),
                reasons=[labels[r] for r in case.evaluation.reasons if r in labels] if adopted else [],
                summary=notice.summary if notice is not None and adopted else "",
                state=str(case.get_state_display()),
                rectification=notice.rectification if notice is not None and adopted else "",
                satisfied=case.satisfied if adopted else None,
            )
        )
    return found


def case_studies(
    *,
    region: Region,
    item: str = "",
    department: str = "",
    tag: str = "",
    year: int | None = None,
    kind: str = "",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> list[Any]:
    """案例库: the published typical cases of a region's subtree, newest first, searched by item or
    department (code or words of the name), reason tag, year and kind."""
    from django.db.models import Q

    from haoping.accounts.access import within_region
    from haoping.disclosure.models import CaseStudy

    rows = (
        CaseStudy.objects.filter(within_region(region), published_at__isnull=False)
        .select_related("item", "department")
        .order_by("-day", "-pk")
    )
    if item:
        rows = rows.filter(Q(item__code=item) | Q(item__name__contains=item))
    if department:
        rows = rows.filter(Q(department__code=department) | Q(department__name__contains=department))
    if year is not None:
        rows = rows.filter(day__year=year)
    if kind:
        rows = rows.filter(kind=kind)
    if first is not None and last is not None:
        rows = rows.filter(day__gte=first, day__lte=last)
    found = list(rows[:500])
    # Tags are a JSON list: matched here, which works the same on SQLite and PostgreSQL.
    return [s for s in found if s.tags and tag in s.tags] if tag else found
