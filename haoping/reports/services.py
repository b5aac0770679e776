"""Writes for the monthly reports: a manager's request, and the build that a huey worker runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from haoping.accounts.access import Actor, manages
from haoping.directory.models import Region
from haoping.errors import Invalid, NotFound
from haoping.reports.models import MonthlyReport
from haoping.reports.selectors import (
    MonthlyContent,
    cases_section,
    children_section,
    departments_section,
    institutions_section,
    month_bounds,
    problems_section,
    rankings_section,
    region_section,
    report_title,
)
from haoping.reports.summary import written_summary

logger = logging.getLogger(__name__)
S = MonthlyReport.State
Step = MonthlyReport.Step
# A build takes seconds; one queued or running for longer than this was lost (a worker restart).
STALE_AFTER = dt.timedelta(minutes=30)
UNDER_WAY = (S.QUEUED, S.RUNNING)


@transaction.atomic
def report_request(*, actor: Actor, region: Region, month: dt.date) -> MonthlyReport:
    """Queue a build of a region's report for a month; while one is under way, that one is the answer.

    Only a manager, for a region of their own subtree; months up to the current one.
    """
    if not manages(actor, region):
        raise NotFound("not_found", _("region not found"), field="region")
    month = month.replace(day=1)
    now = timezone.now()
    if month > timezone.localdate(now).replace(day=1):
        raise Invalid("invalid", _("month: a month that has begun"), field="month")
    if month.year < 2000:
        raise Invalid("invalid", _("month: from 2000 on"), field="month")
    _fail_stale(region, month, now)
    existing = MonthlyReport.objects.filter(region=region, month=month, state__in=UNDER_WAY).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            report = MonthlyReport.objects.create(region=region, month=month, requested_by=actor.user, created_at=now)
    except IntegrityError:
        # Another request for the same month won the race.
        return MonthlyReport.objects.get(region=region, month=month, state__in=UNDER_WAY)
    transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def _enqueue(report_id: int) -> None:
    from haoping.reports.tasks import build_report

    build_report(report_id)


def _fail_stale(region: Region, month: dt.date, now: dt.datetime) -> None:
    stale = MonthlyReport.objects.filter(region=region, month=month, state__in=UNDER_WAY).filter(
        created_at__lt=now - STALE_AFTER
    )
    stale.exclude(started_at__gte=now - STALE_AFTER).update(
        state=S.FAILED, error=_("interrupted: the build stopped before it finished"), finished_at=now
    )


def _claim(report_id: int) -> bool:
    """Only a queued report is built, and only by one worker."""
    now = timezone.now()
    taken = MonthlyReport.objects.filter(pk=report_id, state=S.QUEUED).update(
        state=S.RUNNING, started_at=now, progress=0, step=Step.NONE
    )
    return taken == 1


def report_advance(report_id: int, step: str, progress: int) -> None:
    """Show which step the build is at; each step is committed at once so the progress page sees it."""
    MonthlyReport.objects.filter(pk=report_id, state=S.RUNNING).update(step=step, progress=progress)


def _sections() -> list[tuple[str, int, Callable[[MonthlyContent], None]]]:
    min_sample = settings.HAOPING_RANKING_MIN_SAMPLE
    return [
        (Step.RATES, 5, region_section),
        (Step.REGIONS, 10, children_section),
        (Step.INSTITUTIONS, 20, institutions_section),
        (Step.DEPARTMENTS, 30, departments_section),
        (Step.RANKINGS, 40, lambda c: rankings_section(c, min_sample=min_sample)),
        (Step.PROBLEMS, 50, problems_section),
        (Step.CASES, 60, lambda c: cases_section(c, now=timezone.now())),
    ]


def report_content(report: MonthlyReport) -> MonthlyContent:
    """What the report says, computed section by section with the progress shown."""
    first, last = month_bounds(report.month)
    content = MonthlyContent(region=report.region, first=first, last=last)
    content.title = report_title(report.region, report.month)
    for step, progress, compute in _sections():
        report_advance(report.pk, step, progress)
        compute(content)
    content.written = written_summary(content)
    return content


def report_build(*, report_id: int) -> str:
    """Build a queued report: its content from the rollups, then the Excel and the PDF.

    An error marks the report failed with what went wrong; the build reads no evaluator data, so
    the message cannot carry any.
    """
    from haoping.reports.excel import workbook_bytes
    from haoping.reports.pdf import pdf_bytes

    if not _claim(report_id):
        return MonthlyReport.objects.filter(pk=report_id).values_list("state", flat=True).first() or ""
    report = MonthlyReport.objects.select_related("region").defer("xlsx", "pdf").get(pk=report_id)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            content = report_content(report)
            report_advance(report.pk, Step.EXCEL, 70)
            xlsx = workbook_bytes(content)
            report_advance(report.pk, Step.PDF, 80)
            pdf = pdf_bytes(content)
    except Exception as exc:
        logger.exception("monthly report %s failed", report_id)
        MonthlyReport.objects.filter(pk=report_id).update(
            state=S.FAILED, error=f"{type(exc).__name__}: {exc}"[:500], finished_at=timezone.now()
        )
        return S.FAILED
    MonthlyReport.objects.filter(pk=report_id, state=S.RUNNING).update(
        state=S.DONE, progress=100, step=Step.NONE, xlsx=xlsx, pdf=pdf, finished_at=timezone.now()
    )
    return S.DONE
