"""Publishing a region's month (R19): its figures are computed from the rollups once, when a
manager publishes it, and stored; the public pages read only what was stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import Actor, manages
from haoping.directory.models import Region, Staff
from haoping.disclosure.models import DisclosureSetting, Publication, PublicationCorrection
from haoping.errors import Forbidden, Invalid
from haoping.indicators.counting import COUNTS
from haoping.indicators.models import DailyCount
from haoping.indicators.selectors import (
    child_regions_breakdown,
    competition_ranks,
    monthly_breakdown,
    object_breakdown,
    ranked_objects,
    ranking_order,
)
from haoping.indicators.services import month_end

# The published tables, in the order the pages show them; "staff" only where the region chose it.
KINDS = {
    "institutions": DailyCount.Kind.INSTITUTION,
    "departments": DailyCount.Kind.DEPARTMENT,
    "items": DailyCount.Kind.ITEM,
    "staff": DailyCount.Kind.STAFF,
}
# Halls and departments are ranked in their region (R20), as on the console.
RANKED = ("institutions", "departments")
RANK_RATE = "good_rate"


def setting_for(region: Region) -> DisclosureSetting:
    found = DisclosureSetting.objects.filter(region=region).first()
    return found if found is not None else DisclosureSetting(region=region)


def shown_tables(setting: DisclosureSetting) -> dict[str, bool]:
    return {
        "institutions": setting.show_institutions,
        "departments": setting.show_departments,
        "items": setting.show_items,
        "staff": setting.show_staff,
    }


def _access(actor: Actor, region: Region) -> None:
    if not manages(actor, region):
        raise Forbidden("forbidden", _("only a manager of this region or of a region above it may publish it"))


@transaction.atomic
def disclosure_setting_update(
    *,
    actor: Actor,
    region: Region,
    show_institutions: bool,
    show_departments: bool,
    show_items: bool,
    show_staff: bool,
) -> DisclosureSetting:
    """What the region's months published from now on show (published months keep theirs)."""
    _access(actor, region)
    setting, _created = DisclosureSetting.objects.select_for_update().get_or_create(region=region)
    setting.show_institutions = show_institutions
    setting.show_departments = show_departments
    setting.show_items = show_items
    setting.show_staff = show_staff
    setting.updated_at = timezone.now()
    setting.updated_by_label = actor.label
    setting.save(
        update_fields=[
            "show_institutions",
            "show_departments",
            "show_items",
            "show_staff",
            "updated_at",
            "updated_by_label",
        ]
    )
    return setting


def month_of(value: str) -> dt.date | None:
    """A month written YYYY-MM (ASCII digits only), as its first day; None when it is not one."""
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isascii():
        return None
    try:
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        return None


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _counts(line: dict[str, Any] | None) -> dict[str, int]:
    """The stored counts of a summary (rates are divided when read)."""
    if line is None:
        return {name: 0 for name in (*COUNTS, "valid_bad")}
    return {name: int(line["counts"][name]) for name in (*COUNTS, "valid_bad")}


def _trend(by_month: dict[dt.date, dict[str, Any]] | None, months: list[dt.date]) -> list[list[Any]]:
    found = by_month or {}
    return [[f"{m:%Y-%m}", _counts(found.get(m))] for m in months]


def _ranks(lines: list[dict[str, Any]], min_sample: int) -> None:
    """R20: rank by the month's good rate among those with at least `min_sample` ratings; the rest
    have no rank (so that two ratings never top a ranking)."""
    from haoping.indicators.counting import annex_a_rates

    rows = [
        {"object_id": i, "counts": line["month"], "rates": annex_a_rates(line["month"])}
        for i, line in enumerate(lines)
        if line["month"]["total"] >= min_sample
    ]
    rows = [r for r in rows if r["rates"][RANK_RATE] is not None]
    ordered, scores, _threshold = ranking_order(rows, RANK_RATE, None)
    for line in lines:
        line["rank"] = None
    for row, rank in zip(ordered, competition_ranks(scores), strict=True):
        lines[row["object_id"]]["rank"] = rank
    for line in lines:
        line["ranked_among"] = len(ordered)


def publication_figures(*, region: Region, month: dt.date, setting: DisclosureSetting) -> dict[str, Any]:
    """What a published month shows, from the rollups: the region's and each chosen object's
    counts for the month and the year so far, the last 12 months, and ranks. Counts only, and
    names of places and services only: nothing in it names a person (R10)."""
    first, last = month, month_end(month)
    year_first = month.replace(month=1)
    months = [_shift(month, -i) for i in range(11, -1, -1)]
    min_sample = int(settings.HAOPING_RANKING_MIN_SAMPLE)
    whole_trend = monthly_breakdown(kind=DailyCount.Kind.REGION, first_month=months[0], last_month=month, within=region)
    year = [m for m in months if m >= year_first]
    whole_year: dict[str, int] = {name: 0 for name in (*COUNTS, "valid_bad")}
    for m in year:
        for name, n in _counts((whole_trend.get(None) or {}).get(m)).items():
            whole_year[name] += n
    figures: dict[str, Any] = {
        "region": {"code": region.code, "name": region.name},
        "month": f"{month:%Y-%m}",
        "min_sample": min_sample,
        "shows": shown_tables(setting),
        "whole": {
            "month": _counts((whole_trend.get(None) or {}).get(month)),
            "year": whole_year,
            "trend": _trend(whole_trend.get(None), months),
        },
    }
    month_children = child_regions_breakdown(region=region, first=first, last=last)
    year_children = child_regions_breakdown(region=region, first=year_first, last=last)
    figures["regions"] = [
        {
            "code": m["region"].code,
            "name": m["region"].name,
            "month": _counts(m),
            "year": _counts(y),
        }
        for m, y in zip(month_children, year_children, strict=True)
    ]
    for table, kind in KINDS.items():
        if not figures["shows"][table]:
            figures[table] = []
            continue
        named = ranked_objects(kind, region)
        by_month = object_breakdown(kind=kind, first=first, last=last, within=region)
        by_year = object_breakdown(kind=kind, first=year_first, last=last, within=region)
        shown = sorted(pk for pk in by_year if pk in named)
        trends = (
            monthly_breakdown(kind=kind, first_month=months[0], last_month=month, within=region, object_ids=shown)
            if table != "staff"
            else {}
        )
        codes = (
            dict(Staff.objects.filter(pk__in=shown).values_list("pk", "staff_no"))
            if table == "staff"
            else {pk: named[pk].code for pk in shown}
        )
        lines = []
        for pk in shown:
            line: dict[str, Any] = {"code": codes[pk], "month": _counts(by_month.get(pk)), "year": _counts(by_year[pk])}
            # 窗口人员公示 shows the staff number only.
            if table != "staff":
                line["name"] = named[pk].label
                line["trend"] = _trend(trends.get(pk), months)
            lines.append(line)
        lines.sort(key=lambda line: line["code"])
        if table in RANKED:
            _ranks(lines, min_sample)
        figures[table] = lines
    return figures


@transaction.atomic
def publication_publish(
    *, actor: Actor, region: Region, month: dt.date, note: str = "", today: dt.date | None = None
) -> Publication:
    """Publish a region's month, or publish it again with a dated correction note (R19).

    Only a month that is over can be published; once published its figures stay as they were
    until a manager publishes it again, saying why."""
    _access(actor, region)
    today = today or timezone.localdate()
    month = month.replace(day=1)
    if month_end(month) >= today:
        raise Invalid("month_not_over", _("month: only a month that is over can be published"), field="month")
    now = timezone.now()
    figures = publication_figures(region=region, month=month, setting=setting_for(region))
    existing = Publication.objects.select_for_update().filter(region=region, month=month).first()
    if existing is None:
        return Publication.objects.create(
            region=region, month=month, figures=figures, published_at=now, published_by_label=actor.label
        )
    note = note.strip()
    if not note:
        raise Invalid(
            "note_required",
            _("note: this month is already published; say what is corrected to publish it again"),
            field="note",
        )
    PublicationCorrection.objects.create(
        publication=existing,
        corrected_at=now,
        note=note,
        corrected_by_label=actor.label,
        replaced_figures=existing.figures,
    )
    existing.figures = figures
    existing.revision += 1
    existing.save(update_fields=["figures", "revision"])
    return existing


def _people_named_in(case: Any) -> list[str]:
    """The names a published text about a case must not hold: the evaluator's, and the staff's of
    the unit and hall (R10)."""
    from django.db.models import Q

    names = [case.evaluator.name] if case.evaluator is not None and case.evaluator.name else []
    where = Q(department_id=case.unit_id)
    if case.institution_id is not None:
        where |= Q(institution_id=case.institution_id)
    staff = Staff.objects.filter(where)
    names += list(staff.values_list("name", flat=True)[:2000])
    if case.staff is not None:
        names.append(case.staff.name)
    return names


@transaction.atomic
def rectification_notice_approve(*, actor: Actor, case: Any, summary: str, rectification: str) -> Any:
    """整改公示: approve what the public reads of a bad review (R19): the problem in a few words and
    what was rectified. Phone and ID numbers and the names of anyone the case knows are removed
    before it is stored (R10)."""
    from haoping.disclosure.models import RectificationNotice
    from haoping.lib.masking import redact_text

    _access(actor, case.region)
    names = _people_named_in(case)
    summary = redact_text(summary.strip(), names)
    rectification = redact_text(rectification.strip(), names)
    if not summary:
        raise Invalid("summary_required", _("summary: say in a few words what the problem was"), field="summary")
    if len(summary) > 500 or len(rectification) > 1000:
        raise Invalid("too_long", _("summary: at most 500 characters; rectification: at most 1000"), field="summary")
    notice, _created = RectificationNotice.objects.update_or_create(
        case=case,
        defaults={
            "region": case.region,
            "summary": summary,
            "rectification": rectification,
            "approved_at": timezone.now(),
            "approved_by_label": actor.label,
        },
    )
    return notice


@transaction.atomic
def case_study_create(
    *,
    actor: Actor,
    title: str,
    text: str,
    source_case: Any = None,
    source_evaluation: Any = None,
) -> Any:
    """案例库: a typical case from a closed bad-review case (a bad example) or an outstanding good
    review (level 5, a good example), its text anonymised (R10) as the manager wrote it."""
    from haoping.disclosure.models import CaseStudy
    from haoping.evaluations.models import Evaluation
    from haoping.lib.masking import redact_text
    from haoping.rectification.models import BadReviewCase

    if (source_case is None) == (source_evaluation is None):
        raise Invalid("source_required", _("source: a closed case or a good review, one of them"), field="source")
    if source_case is not None:
        if source_case.state != BadReviewCase.State.CLOSED or source_case.invalid:
            raise Invalid(
                "case_not_closed", _("source: only a closed, adopted case becomes a typical case"), field="source"
            )
        region, evaluation, kind = source_case.region, source_case.evaluation, CaseStudy.Kind.BAD
        names = _people_named_in(source_case)
    else:
        evaluation = source_evaluation
        if evaluation.source != Evaluation.Source.ACTIVE or evaluation.level < 5 or evaluation.blocked:
            raise Invalid("not_outstanding", _("source: only a 非常满意 review is an outstanding one"), field="source")
        region, kind = evaluation.region, CaseStudy.Kind.GOOD
        names = list(Staff.objects.filter(department_id=evaluation.department_id).values_list("name", flat=True)[:2000])
        if evaluation.record.applicant.name:
            names.append(evaluation.record.applicant.name)
    _access(actor, region)
    title, text = redact_text(title.strip(), names), redact_text(text.strip(), names)
    if not title or not text:
        raise Invalid("text_required", _("text: a typical case needs a title and its story"), field="text")
    return CaseStudy.objects.create(
        region=region,
        kind=kind,
        source_case=source_case,
        source_evaluation=source_evaluation,
        item_id=evaluation.item_id,
        department_id=evaluation.department_id,
        tags=list(evaluation.reasons),
        day=timezone.localtime(evaluation.rated_at).date(),
        title=title[:120],
        text=text,
        created_at=timezone.now(),
        created_by_label=actor.label,
    )


@transaction.atomic
def case_study_publish(*, actor: Actor, study: Any) -> Any:
    _access(actor, study.region)
    if study.published_at is None:
        study.published_at = timezone.now()
        study.save(update_fields=["published_at"])
    return study
