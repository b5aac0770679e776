"""The monthly report as an A4 PDF: a Django template rendered by WeasyPrint, its charts drawn as
inline SVG on the server and its Chinese set in Noto CJK (Debian's fonts-noto-cjk)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from haoping.indicators.counting import RATES
from haoping.lib.charts import Series, bar_chart, hbar_chart, line_chart
from haoping.lib.points import signed_points
from haoping.reports.selectors import MonthlyContent

RED, BLUE, GREY = "#c8161d", "#7d9cc4", "#b5bcc4"
# The charts show the largest institutions and problems; the tables show all of them.
CHART_ROWS = 12


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _summary(content: MonthlyContent) -> list[dict[str, Any]]:
    rows = []
    for line in content.summary:
        if line.is_rate:
            shown = (_percent(line.value), _percent(line.previous))  # type: ignore[arg-type]
            change = "—" if line.change is None else signed_points(line.change) + " " + _("points")
        else:
            shown = (str(line.value), str(line.previous))
            change = "—" if line.change is None else f"{line.change:+d}"
        rows.append(
            {"label": line.label, "value": shown[0], "previous": shown[1], "change": change, "rate": line.is_rate}
        )
    return rows


def _charts(content: MonthlyContent) -> dict[str, SafeString]:
    rates = [line for line in content.summary if line.is_rate]
    days_by_date = {d["day"]: d for d in content.days}
    days = [content.first.replace(day=n) for n in range(1, content.last.day + 1)]
    daily = [days_by_date.get(day, {}) for day in days]
    institutions = content.institutions[:CHART_ROWS]
    items = [p for p in content.problems if p.kind == "item"][:CHART_ROWS]
    everyone = content.cases[0] if content.cases else None
    charts = {
        "rates": bar_chart(
            [line.label for line in rates],
            [
                Series(_("This month"), [line.value for line in rates], RED),
                Series(_("Previous month"), [line.previous for line in rates], GREY),
            ],
            percent=True,
            title=_("The six rates"),
        ),
        "ratings": bar_chart(
            [str(day.day) for day in days],
            [Series(_("Ratings"), [d.get("total", 0) for d in daily], BLUE)],
            height=170,
            title=_("Ratings per day"),
        ),
        "good_rate": line_chart(
            [str(day.day) for day in days],
            [Series(_("Good rate"), [d.get("good_rate") for d in daily], RED)],
            height=170,
            percent=True,
            title=_("Good rate per day"),
        ),
        "institutions": hbar_chart(
            [line.name for line in institutions],
            [line.rates["good_rate"] for line in institutions],
            percent=True,
            title=_("Good rate by institution"),
        ),
        "problems": hbar_chart(
            [p.name for p in items], [p.valid_bad for p in items], color=BLUE, title=_("Valid bad by service item")
        ),
    }
    if everyone is not None:
        figures = [
            (_("Cases opened"), everyone.opened),
            (_("Answered"), everyone.replied),
            (_("Rectified"), everyone.rectified),
            (_("Closed"), everyone.closed),
            (_("Overdue"), everyone.overdue),
        ]
        charts["cases"] = bar_chart(
            [label for label, _n in figures],
            [Series(_("Cases"), [n for _label, n in figures], BLUE)],
            height=170,
            title=_("Rectification performance"),
        )
    # The chart helper escapes every label it draws.
    return {name: mark_safe(svg) for name, svg in charts.items()}


def pdf_html(content: MonthlyContent) -> str:
    return render_to_string(
        "reports/pdf.html",
        {
            "c": content,
            "rates": RATES,
            "summary": _summary(content),
            "charts": _charts(content),
        },
    )


def pdf_bytes(content: MonthlyContent) -> bytes:
    from weasyprint import HTML

    document: bytes = HTML(string=pdf_html(content)).write_pdf()
    return document
