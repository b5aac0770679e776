"""Public pages at /gongkai/ (no login, no JavaScript, cacheable) and the console page where
managers choose what their region publishes and when (R19).

Published pages read only the stored figures of a published month (`Publication.figures`); the
receipt check reads the rating and the chain, and shows nothing that names the rater (R10)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from haoping.accounts.access import Actor, actor_for_user, within_region
from haoping.directory.models import Region
from haoping.disclosure.models import Publication
from haoping.disclosure.selectors import (
    PublishedCase,
    publication_find,
    published_cases,
    published_months,
    published_regions,
    rates_of,
    receipt_check,
)
from haoping.disclosure.services import (
    KINDS,
    disclosure_setting_update,
    month_of,
    publication_publish,
    setting_for,
    shown_tables,
)
from haoping.errors import DomainError, error_labelled
from haoping.indicators.counting import COUNTS, RATES, annex_a_rates
from haoping.indicators.services import day_bounds, month_end
from haoping.throttle import public_limit

RECEIPT_FORMAT = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
# Published months change only when republished: shared caches may keep a page a few minutes.
PUBLIC_MAX_AGE = 300
RENDERED_TTL = 24 * 3600
TABLES = ("summary", "trend", "regions", *KINDS)
COUNT_COLUMNS = (*COUNTS, "valid_bad")


def _cacheable(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    return response


def _rendered(key: str, build: Callable[[], HttpResponse]) -> HttpResponse:
    """A published page as rendered once for its publication's revision: a city's page has hundreds
    of rows, and its figures change only when republished (bench/README.md, "Public pages")."""
    cached = cache.get(key)
    if cached is None:
        response = build()
        cache.set(key, (response.content, response["Content-Type"], response.get("Content-Disposition")), RENDERED_TTL)
    else:
        content, content_type, disposition = cached
        response = HttpResponse(content, content_type=content_type)
        if disposition:
            response["Content-Disposition"] = disposition
    return _cacheable(response)


def _key(publication: Publication, request: HttpRequest, *extra: object) -> str:
    return ":".join(["gongkai", str(publication.pk), str(publication.revision), request.path, *map(str, extra)])


def _publication(code: str, month_text: str | None) -> Publication:
    month = None
    if month_text is not None:
        month = month_of(month_text)
        if month is None:
            raise Http404(_("page not found"))
    publication = publication_find(region_code=code, month=month)
    if publication is None:
        # An unpublished month, or a region with nothing published: neither exists for the public.
        raise Http404(_("page not found"))
    return publication


def _line(line: dict[str, Any]) -> dict[str, Any]:
    return {
        **line,
        "month_rates": rates_of(line["month"]),
        "year_rates": rates_of(line["year"]),
    }


def _trend_lines(trend: list[list[Any]]) -> list[dict[str, Any]]:
    return [{"month": month, "counts": counts, "rates": rates_of(counts)} for month, counts in trend]


def _published_below(publication: Publication) -> set[str]:
    """The regions below whose same month is published too (their lines link to them)."""
    below = Publication.objects.filter(month=publication.month, region__parent_id=publication.region_id)
    return set(below.values_list("region__code", flat=True))


def _page_context(publication: Publication, published: set[str], months: list[dt.date]) -> dict[str, Any]:
    figures = publication.figures
    return {
        "publication": publication,
        "figures": figures,
        "region": figures["region"],
        "month": figures["month"],
        "rate_labels": [str(label) for _key, label in RATES],
        "whole": _line(figures["whole"]),
        "trend": _trend_lines(figures["whole"]["trend"]),
        "regions": [{**_line(r), "published": r["code"] in published} for r in figures["regions"]],
        "tables": [
            (table, _table_title(table), [_line(line) for line in figures[table]])
            for table in KINDS
            if figures["shows"].get(table)
        ],
        "corrections": list(publication.corrections.all()),
        "months": months,
    }


def _table_title(table: str) -> str:
    return {
        "institutions": _("Halls and centres"),
        "departments": _("Departments"),
        "items": _("Service items"),
        "staff": _("Window staff (by staff number)"),
    }[table]


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _cacheable(render(request, "disclosure/index.html", {"regions": published_regions()}))


@require_GET
def region_page(request: HttpRequest, code: str, month: str | None = None) -> HttpResponse:
    publication = _publication(code, month)
    below = _published_below(publication)
    months = published_months(publication.region)
    return _rendered(
        _key(publication, request, ",".join(sorted(below)), ",".join(f"{m:%Y%m}" for m in months)),
        lambda: render(request, "disclosure/region.html", _page_context(publication, below, months)),
    )


@require_GET
def object_page(request: HttpRequest, code: str, month: str, table: str, object_code: str) -> HttpResponse:
    publication = _publication(code, month)
    if table not in KINDS or table == "staff":
        raise Http404(_("page not found"))

    def build() -> HttpResponse:
        figures = publication.figures
        line = next((line for line in figures[table] if line["code"] == object_code), None)
        if not figures["shows"].get(table) or line is None:
            raise Http404(_("page not found"))
        context = {
            "publication": publication,
            "figures": figures,
            "region": figures["region"],
            "month": figures["month"],
            "table": table,
            "table_title": _table_title(table),
            "object": _line(line),
            "trend": _trend_lines(line["trend"]),
            "ranked": table in ("institutions", "departments"),
            "rate_labels": [str(label) for _key, label in RATES],
        }
        return render(request, "disclosure/object.html", context)

    return _rendered(_key(publication, request), build)


def _rate_cells(counts: dict[str, int]) -> list[Any]:
    rates = annex_a_rates(counts)
    return [_percent(rates[key]) for key, _label in RATES]


def _percent(rate: float | None) -> float | str:
    return "" if rate is None else round(rate * 100, 2)


def table_rows(figures: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """A published table as flat rows (open data): counts, and rates in percent ("" for no data)."""
    rates = [key for key, _label in RATES]

    def flat(base: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
        cells = _rate_cells(counts)
        return {**base, **{n: counts[n] for n in COUNT_COLUMNS}, **dict(zip(rates, cells, strict=True))}

    region = figures["region"]
    if table == "summary":
        return [
            flat({"region": region["code"], "name": region["name"], "period": period}, figures["whole"][period])
            for period in ("month", "year")
        ]
    if table == "trend":
        return [flat({"region": region["code"], "month": month}, counts) for month, counts in figures["whole"]["trend"]]
    lines = figures.get(table) or []
    rows = []
    for line in lines:
        for period in ("month", "year"):
            base = {"code": line["code"], "name": line.get("name", ""), "period": period}
            if "rank" in line:
                base["rank"] = line["rank"] if period == "month" and line["rank"] is not None else ""
            if table == "staff":
                base.pop("name")
            rows.append(flat(base, line[period]))
    return rows


def _safe_cell(value: Any) -> Any:
    # A spreadsheet would run a cell that starts like a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@require_GET
def download(request: HttpRequest, code: str, month: str, table: str, fmt: str) -> HttpResponse:
    publication = _publication(code, month)
    if fmt not in ("csv", "json") or table not in TABLES:
        raise Http404(_("page not found"))
    return _rendered(_key(publication, request), lambda: _download(publication, table, fmt))


def _download(publication: Publication, table: str, fmt: str) -> HttpResponse:
    figures = publication.figures
    if table in KINDS and not figures["shows"].get(table):
        raise Http404(_("page not found"))
    rows = table_rows(figures, table)
    name = f"{figures['region']['code']}-{figures['month']}-{table}"
    if fmt == "json":
        body = {
            "region": figures["region"],
            "month": figures["month"],
            "published_at": publication.published_at.isoformat(),
            "corrections": [{"at": c.corrected_at.isoformat(), "note": c.note} for c in publication.corrections.all()],
            "table": table,
            "rows": rows,
        }
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
        )
    else:
        out = io.StringIO()
        columns = list(rows[0]) if rows else ["code"]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _safe_cell(v) for k, v in row.items()})
        # With a byte-order mark, so that spreadsheet programs read the Chinese names as UTF-8.
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@require_GET
@public_limit()
def receipt(request: HttpRequest) -> HttpResponse:
    """Anyone with a receipt code sees that the rating is stored and counted, and that the chain
    holding it verifies; guessing is bounded by the public pages' rate limit."""
    code = (request.GET.get("code") or "").strip().upper()
    context: dict[str, Any] = {"code": code}
    status = 200
    if code:
        if not RECEIPT_FORMAT.fullmatch(code):
            context["error"] = _("A receipt code is 12 letters and digits, written XXXX-XXXX-XXXX.")
            status = 400
        else:
            found = receipt_check(code)
            if found is None:
                context["error"] = _("No rating has this receipt code. Check the code and try again.")
                status = 404
            context["found"] = found
    response = render(request, "disclosure/receipt.html", context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


RECTIFICATION_PAGE = 50
CASES_PAGE = 20


def _paged(request: HttpRequest, rows: Any, size: int) -> tuple[Any, str]:
    """One page of `rows` (`?page=N`; anything else is the first or the last page) and the query
    string that the page links keep (the search), ready to take `page=`."""
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    query = kept.urlencode()
    return page, f"{query}&" if query else ""


def _case_row(case: PublishedCase) -> dict[str, Any]:
    satisfied = {True: _("satisfied"), False: _("not satisfied"), None: ""}[case.satisfied]
    return {
        "date": case.day.isoformat(),
        "item": case.item,
        "place": case.place,
        "adopted": _("adopted") if case.adopted else _("not adopted"),
        "invalid_reason": case.invalid_reason,
        "reasons": "、".join(case.reasons),
        "summary": case.summary,
        "state": case.state,
        "rectification": case.rectification,
        "satisfied": satisfied,
    }


@require_GET
def rectification_page(request: HttpRequest, code: str, month: str) -> HttpResponse:
    """整改公示 (R19): the month's bad reviews and what became of them, as they stand now."""
    publication = _publication(code, month)
    cases = published_cases(region=publication.region, month=publication.month)
    page, page_query = _paged(request, cases, RECTIFICATION_PAGE)
    context = {
        "publication": publication,
        "region": {"code": publication.region.code, "name": publication.region.name},
        "month": f"{publication.month:%Y-%m}",
        "cases": cases,
        "page": page,
        "page_query": page_query,
        "adopted": sum(1 for c in cases if c.adopted),
    }
    return _cacheable(render(request, "disclosure/rectification.html", context))


@require_GET
def rectification_download(request: HttpRequest, code: str, month: str, fmt: str) -> HttpResponse:
    publication = _publication(code, month)
    if fmt not in ("csv", "json"):
        raise Http404(_("page not found"))
    rows = [_case_row(c) for c in published_cases(region=publication.region, month=publication.month)]
    name = f"{publication.region.code}-{publication.month:%Y-%m}-rectification"
    return _cacheable(
        _file(rows, fmt, name, {"region": publication.region.code, "month": f"{publication.month:%Y-%m}"})
    )


def _file(rows: list[dict[str, Any]], fmt: str, name: str, head: dict[str, Any]) -> HttpResponse:
    if fmt == "json":
        body = json.dumps({**head, "rows": rows}, ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["date"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _safe_cell(v) for k, v in row.items()})
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# ---------------------------------------------------------------------------------------------
# Console


def _manager(request: HttpRequest) -> Actor:
    actor = actor_for_user(request.user)
    if actor is None or actor.region is None or not actor.has("manager"):
        raise Http404(_("page not found"))
    return actor


def _past_months(count: int = 24) -> list[str]:
    month = timezone.localdate().replace(day=1)
    found = []
    for _i in range(count):
        month = (month - dt.timedelta(days=1)).replace(day=1)
        found.append(f"{month:%Y-%m}")
    return found


@login_required
def console_page(request: HttpRequest) -> HttpResponse:
    """Managers choose per region what is published and publish (or correct) a month."""
    actor = _manager(request)
    assert actor.region is not None
    regions = list(Region.objects.filter(within_region(actor.region, field="")).order_by("path"))
    by_code = {r.code: r for r in regions}
    chosen = by_code.get(request.POST.get("region") or request.GET.get("region") or "", actor.region)
    error = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "settings":
                disclosure_setting_update(
                    actor=actor,
                    region=chosen,
                    show_institutions=bool(request.POST.get("show_institutions")),
                    show_departments=bool(request.POST.get("show_departments")),
                    show_items=bool(request.POST.get("show_items")),
                    show_staff=bool(request.POST.get("show_staff")),
                )
            else:
                month = month_of(request.POST.get("month") or "")
                if month is None:
                    raise DomainError("bad_month", _("month: choose a month, written YYYY-MM"), field="month")
                publication_publish(actor=actor, region=chosen, month=month, note=request.POST.get("note") or "")
            return redirect(f"{request.path}?region={chosen.code}")
        except DomainError as exc:
            error = error_labelled(exc, {"month": _("Month"), "note": _("Correction note")}).detail
            status = exc.status if exc.status < 500 else 400
    setting = setting_for(chosen)
    publications = (
        Publication.objects.filter(region__in=regions)
        .select_related("region")
        .prefetch_related("corrections")
        .order_by("region__path", "-month")
    )
    context = {
        "actor": actor,
        "title": _("Public disclosure"),
        "regions": regions,
        "chosen": chosen,
        "shows": shown_tables(setting),
        "months": _past_months(),
        "publications": publications,
        "error": error,
        "month_end": month_end,
    }
    return render(request, "disclosure/console.html", context, status=status)


@login_required
def console_rectification(request: HttpRequest) -> HttpResponse:
    """整改公示: a manager approves, case by case, what the public reads of a month's bad reviews."""
    from haoping.disclosure.services import rectification_notice_approve
    from haoping.lib.masking import redact_text
    from haoping.rectification.models import BadReviewCase, CaseEvent

    actor = _manager(request)
    assert actor.region is not None
    regions = {r.code: r for r in Region.objects.filter(within_region(actor.region, field=""))}
    region = regions.get(request.GET.get("region") or "", actor.region)
    month = month_of(request.GET.get("month") or "") or (
        timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    ).replace(day=1)
    error = None
    status = 200
    if request.method == "POST":
        case = BadReviewCase.objects.filter(within_region(actor.region), pk=request.POST.get("case") or 0).first()
        if case is None:
            raise Http404(_("page not found"))
        try:
            rectification_notice_approve(
                actor=actor,
                case=case,
                summary=request.POST.get("summary") or "",
                rectification=request.POST.get("rectification") or "",
            )
            return redirect(f"{request.path}?region={region.code}&month={month:%Y-%m}#case-{case.pk}")
        except DomainError as exc:
            error = error_labelled(exc, {"summary": _("Problem, as published")}).detail
            status = exc.status
    start, end = day_bounds(month, month_end(month))
    cases = list(
        BadReviewCase.objects.filter(within_region(region))
        .filter(evaluation__rated_at__gte=start, evaluation__rated_at__lt=end, evaluation__blocked=False)
        .select_related("evaluation", "item", "institution", "unit", "notice")
        .order_by("evaluation__rated_at", "pk")
    )
    notes = {}
    for event in CaseEvent.objects.filter(case__in=cases, action__in=("rectify", "explain")).order_by("at"):
        notes[event.case_id] = event.note
    rows = []
    for case in cases:
        notice = getattr(case, "notice", None)
        rows.append(
            {
                "case": case,
                "notice": notice,
                "comment": redact_text(case.evaluation.comment),
                "summary": notice.summary if notice else redact_text(case.evaluation.comment),
                "rectification": notice.rectification if notice else redact_text(notes.get(case.pk, "")),
            }
        )
    context = {
        "actor": actor,
        "title": _("Rectification of bad reviews"),
        "regions": sorted(regions.values(), key=lambda r: r.path),
        "chosen": region,
        "month": f"{month:%Y-%m}",
        "months": _past_months(),
        "rows": rows,
        "error": error,
    }
    return render(request, "disclosure/console_rectification.html", context, status=status)


# ---------------------------------------------------------------------------------------------
# 案例库 and bulletins (R19, GB/T 39735 8.4.4)


def _region_or_404(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404(_("page not found"))
    return region


def _tag_choices() -> list[tuple[str, str]]:
    from haoping.evaluations.rules import REASON
    from haoping.evaluations.selectors import option_labels

    return list(option_labels(REASON).items())


@require_GET
def cases_page(request: HttpRequest, code: str) -> HttpResponse:
    from haoping.disclosure.selectors import case_studies

    region = _region_or_404(code)
    query = {k: (request.GET.get(k) or "").strip()[:50] for k in ("item", "department", "tag", "year", "kind")}
    year = int(query["year"]) if query["year"].isascii() and query["year"].isdigit() else None
    studies = case_studies(
        region=region,
        item=query["item"],
        department=query["department"],
        tag=query["tag"],
        year=year,
        kind=query["kind"] if query["kind"] in ("good", "bad") else "",
    )
    labels = dict(_tag_choices())
    page, page_query = _paged(request, studies, CASES_PAGE)
    context = {
        "region": region,
        "query": query,
        "studies": [{"study": s, "tags": [labels.get(t, t) for t in s.tags]} for s in page.object_list],
        "page": page,
        "page_query": page_query,
        "tags": _tag_choices(),
    }
    return _cacheable(render(request, "disclosure/cases.html", context))


def period_of(text: str) -> tuple[dt.date, dt.date, str] | None:
    """A bulletin's period: a month (YYYY-MM) or a quarter (YYYY-Qn), as its first and last days."""
    month = month_of(text)
    if month is not None:
        return month, month_end(month), "month"
    if len(text) == 7 and text[4:6] == "-Q" and text[:4].isascii() and text[:4].isdigit() and text[6] in "1234":
        first = dt.date(int(text[:4]), 3 * (int(text[6]) - 1) + 1, 1)
        last = month_end(first.replace(month=first.month + 2))
        return first, last, "quarter"
    return None


def bulletin_context(code: str, period: str) -> dict[str, Any]:
    """月度/季度通报: the period's published figures of the region (its published months summed)
    and its published typical cases. 404 when neither was published."""
    from haoping.disclosure.selectors import case_studies

    region = _region_or_404(code)
    span = period_of(period)
    if span is None:
        raise Http404(_("page not found"))
    first, last, length = span
    publications = list(Publication.objects.filter(region=region, month__gte=first, month__lte=last).order_by("month"))
    studies = case_studies(region=region, first=first, last=last)
    if not publications and not studies:
        raise Http404(_("page not found"))
    counts = {name: 0 for name in COUNT_COLUMNS}
    for p in publications:
        for name in COUNT_COLUMNS:
            counts[name] += p.figures["whole"]["month"][name]
    halls: dict[str, dict[str, Any]] = {}
    for p in publications:
        for line in p.figures.get("institutions") or []:
            entry = halls.setdefault(line["code"], {"name": line["name"], "counts": {n: 0 for n in COUNT_COLUMNS}})
            for name in COUNT_COLUMNS:
                entry["counts"][name] += line["month"][name]
    labels = dict(_tag_choices())
    return {
        "region": region,
        "period": period,
        "length": length,
        "months": [f"{p.month:%Y-%m}" for p in publications],
        "counts": counts,
        "rates": rates_of(counts),
        "halls": sorted(
            ({**h, "rates": rates_of(h["counts"])} for h in halls.values()), key=lambda h: -h["counts"]["total"]
        ),
        "good": [{"study": s, "tags": [labels.get(t, t) for t in s.tags]} for s in studies if s.kind == "good"],
        "bad": [{"study": s, "tags": [labels.get(t, t) for t in s.tags]} for s in studies if s.kind == "bad"],
        "rate_labels": [str(label) for _key, label in RATES],
    }


@require_GET
def bulletin_page(request: HttpRequest, code: str, period: str) -> HttpResponse:
    return _cacheable(render(request, "disclosure/bulletin.html", bulletin_context(code, period)))


@require_GET
def bulletin_pdf(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """The bulletin as an A4 PDF, laid out by WeasyPrint as the monthly reports are."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    context = bulletin_context(code, period)
    pdf = HTML(string=render_to_string("disclosure/bulletin_pdf.html", context)).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{code}-{period}-bulletin.pdf"'
    return _cacheable(response)


@login_required
def console_cases(request: HttpRequest) -> HttpResponse:
    """案例库: a manager turns a closed case (by its number) or an outstanding good review (by its
    receipt) into a typical case, edits its anonymised text, and publishes it."""
    from haoping.disclosure.models import CaseStudy
    from haoping.disclosure.services import case_study_create, case_study_publish
    from haoping.evaluations.models import Evaluation
    from haoping.rectification.models import BadReviewCase

    actor = _manager(request)
    assert actor.region is not None
    studies = CaseStudy.objects.filter(within_region(actor.region)).select_related("item").order_by("-created_at")
    error = None
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("publish"):
                study = studies.filter(pk=request.POST["publish"]).first()
                if study is None:
                    raise Http404(_("page not found"))
                case_study_publish(actor=actor, study=study)
            else:
                source = (request.POST.get("source") or "").strip().upper()
                case = evaluation = None
                if source.isascii() and source.lstrip("#").isdigit():
                    case = BadReviewCase.objects.filter(within_region(actor.region), pk=int(source.lstrip("#"))).first()
                elif source:
                    evaluation = (
                        Evaluation.objects.filter(within_region(actor.region), receipt=source, source="active")
                        .order_by("pk")
                        .first()
                    )
                if case is None and evaluation is None:
                    raise DomainError(
                        "unknown_source", _("source: no closed case or good review with this number"), field="source"
                    )
                case_study_create(
                    actor=actor,
                    title=request.POST.get("title") or "",
                    text=request.POST.get("text") or "",
                    source_case=case,
                    source_evaluation=evaluation,
                )
            return redirect(request.path)
        except DomainError as exc:
            error = error_labelled(exc, {"source": _("Case number or receipt"), "text": _("Text")}).detail
            status = exc.status
    context = {
        "actor": actor,
        "title": _("Typical cases"),
        "studies": studies[:200],
        "error": error,
        "values": request.POST,
    }
    return render(request, "disclosure/console_cases.html", context, status=status)
