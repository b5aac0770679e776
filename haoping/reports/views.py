"""Console pages of the monthly reports: the list with a request form, a progress page that follows
the build, and the downloads. Managers only, within their region's subtree; everything else is 404."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from haoping.accounts.access import Actor, actor_for_user, within_region
from haoping.directory.models import Region
from haoping.errors import DomainError, Invalid, NotFound
from haoping.reports.models import MonthlyReport
from haoping.reports.selectors import report_get, report_title, reports_visible
from haoping.reports.services import report_request

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _manager(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None or not actor.has("manager") or actor.region is None:
        raise Http404(_("page not found"))
    return actor


def _report(request: HttpRequest, report_id: int, *, with_files: bool = False) -> tuple[Actor, MonthlyReport]:
    actor = _manager(request)
    try:
        return actor, report_get(actor=actor, report_id=report_id, with_files=with_files)
    except NotFound as exc:
        raise Http404(exc.detail)


def _month(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{(value or '').strip()}-01")
    except ValueError:
        raise Invalid("invalid", _("month: a month such as 2026-05"), field="month")


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """The region's reports, newest first, and the form to request one."""
    actor = _manager(request)
    assert actor.region is not None
    error = None
    chosen = {"region": actor.region.code, "month": f"{_last_month():%Y-%m}"}
    if request.method == "POST":
        chosen = {"region": request.POST.get("region", ""), "month": request.POST.get("month", "")}
        try:
            region = Region.objects.filter(code=chosen["region"]).first()
            if region is None:
                raise NotFound("not_found", _("region not found"), field="region")
            report = report_request(actor=actor, region=region, month=_month(chosen["month"]))
            return redirect("report-detail", report_id=report.pk)
        except DomainError as exc:
            error = exc
    context = {
        "actor": actor,
        "title": _("Monthly reports"),
        "reports": reports_visible(actor).order_by("-created_at", "-id")[:50],
        "regions": Region.objects.filter(within_region(actor.region, field="")).order_by("path"),
        "chosen": chosen,
        "latest": f"{timezone.localdate():%Y-%m}",
        "error": error,
    }
    return render(request, "reports/list.html", context, status=error.status if error else 200)


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """The build's progress while it runs (the page follows it), the downloads when it is done."""
    actor, report = _report(request, report_id)
    context = {"actor": actor, "report": report, "title": report_title(report.region, report.month)}
    return render(request, "reports/detail.html", context)


@login_required
def report_status(request: HttpRequest, report_id: int) -> JsonResponse:
    actor = actor_for_user(request.user)
    report = None
    if actor is not None:
        report = reports_visible(actor).filter(pk=report_id).first()
    if report is None:
        return JsonResponse(
            {"error": "not_found", "detail": _("report %(id)s not found") % {"id": report_id}}, status=404
        )
    return JsonResponse(
        {
            "state": report.state,
            "state_label": report.get_state_display(),
            "progress": report.progress,
            "step": report.step,
            "step_label": report.get_step_display() if report.step else "",
        }
    )


def _download(request: HttpRequest, report_id: int, kind: str, content_type: str) -> HttpResponse:
    _actor, report = _report(request, report_id, with_files=True)
    data = getattr(report, kind)
    if report.state != MonthlyReport.State.DONE or data is None:
        raise Http404(_("file not found"))
    response = HttpResponse(bytes(data), content_type=content_type)
    name = report_title(report.region, report.month).replace(" ", "")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{kind}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def report_xlsx(request: HttpRequest, report_id: int) -> HttpResponse:
    return _download(request, report_id, "xlsx", XLSX)


@login_required
def report_pdf(request: HttpRequest, report_id: int) -> HttpResponse:
    return _download(request, report_id, "pdf", "application/pdf")
