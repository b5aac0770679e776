"""The monthly report as an Excel workbook: one sheet per section, each with the report's title on
top, a styled and frozen header row, rates as percentages and set column widths."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from haoping.indicators.counting import RATES
from haoping.reports.selectors import Line, MonthlyContent

PERCENT = "0.0%"
POINTS = "+0.0;-0.0;0.0"
DIFFERENCE = "+0;-0;0"
HEADER_ROW = 3
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="C8161D")


@dataclass(frozen=True)
class Column:
    label: str
    width: int
    number_format: str | None = None


def _sheet(book: Workbook, name: str, content: MonthlyContent, note: str, columns: Sequence[Column]) -> Worksheet:
    sheet = book.create_sheet(name[:31])
    sheet.cell(1, 1, content.title).font = Font(bold=True, size=14)
    sheet.cell(2, 1, f"{name} · {note}" if note else name).font = Font(color="656D76")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(HEADER_ROW, index, column.label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[HEADER_ROW].height = 30
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    return sheet


def _rows(sheet: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    for offset, values in enumerate(rows, start=HEADER_ROW + 1):
        for index, (value, column) in enumerate(zip(values, columns, strict=True), start=1):
            cell = sheet.cell(offset, index, value)
            if column.number_format:
                cell.number_format = column.number_format


def _summary(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Indicator"), 28),
        Column(_("This month"), 14),
        Column(_("Previous month"), 14),
        Column(pgettext("against the previous period", "Change"), 14),
    ]
    sheet = _sheet(
        book,
        pgettext("report sheet", "Summary"),
        content,
        _("rates against the previous month, in percentage points"),
        columns,
    )
    _rows(sheet, columns, [[s.label, s.value, s.previous, s.change] for s in content.summary])
    for offset, line in enumerate(content.summary, start=HEADER_ROW + 1):
        for index in (2, 3):
            sheet.cell(offset, index).number_format = PERCENT if line.is_rate else "0"
        sheet.cell(offset, 4).number_format = POINTS if line.is_rate else DIFFERENCE


def _written(book: Workbook, content: MonthlyContent) -> None:
    columns = [Column(_("In brief"), 110)]
    sheet = _sheet(book, _("In brief"), content, _("generated from the figures of this report"), columns)
    _rows(sheet, columns, [[sentence] for sentence in content.written])
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _days(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Day"), 14, "yyyy-mm-dd"),
        Column(_("Ratings"), 12),
        Column(_("Good rate"), 12, PERCENT),
        Column(_("Valid bad"), 12),
    ]
    sheet = _sheet(book, _("Daily trend"), content, "", columns)
    _rows(sheet, columns, [[d["day"], d["total"], d["good_rate"], d["valid_bad"]] for d in content.days])


def _lines(book: Workbook, content: MonthlyContent, name: str, heading: str, lines: list[Line]) -> None:
    columns = [
        Column(heading, 30),
        Column(_("Ratings"), 10),
        *[Column(str(label), 14, PERCENT) for _key, label in RATES],
        Column(_("Valid bad"), 10),
    ]
    sheet = _sheet(book, name, content, "", columns)
    rows = [
        [line.name, line.counts["total"], *[line.rates[key] for key, _label in RATES], line.counts["valid_bad"]]
        for line in lines
    ]
    _rows(sheet, columns, rows)


def _rankings(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Ranking"), 16),
        Column(pgettext("position", "Rank"), 8),
        Column(pgettext("object", "Name"), 30),
        Column(_("Good rate"), 12, PERCENT),
        Column(_("Ratings"), 10),
        Column(_("Valid bad"), 10),
        Column(_("Key target"), 12),
    ]
    note = _("by good rate, among those with at least %(min)d ratings") % {"min": content.min_sample}
    sheet = _sheet(book, _("Rankings"), content, note, columns)
    rows = [
        [
            r.label,
            entry.rank,
            str(entry.object),
            entry.rates["good_rate"],
            entry.counts["total"],
            entry.counts["valid_bad"],
            _("yes") if entry.watch else "",
        ]
        for r in content.rankings
        for entry in r.ranked
    ]
    _rows(sheet, columns, rows)


def _watch(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Ranking"), 16),
        Column(pgettext("object", "Name"), 30),
        Column(_("Good rate"), 12, PERCENT),
        Column(_("Ratings"), 10),
        Column(_("Valid bad"), 10),
        Column(pgettext("position", "Rank"), 8),
    ]
    note = content.key_rule
    sheet = _sheet(book, _("Key targets"), content, note, columns)
    rows = [
        [r.label, str(e.object), e.rates["good_rate"], e.counts["total"], e.counts["valid_bad"], e.rank]
        for r, e in content.watch
    ]
    _rows(sheet, columns, rows)


def _problems(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Kind"), 14),
        Column(pgettext("object", "Name"), 30),
        Column(_("Valid bad"), 10),
        Column(_("Ratings"), 10),
        Column(_("Frequent words"), 60),
    ]
    sheet = _sheet(book, _("Hot problems"), content, _("where valid bad reviews concentrate"), columns)
    rows = [
        [p.kind_label, p.name, p.valid_bad, p.total, "、".join(f"{term}（{n}）" for term, n in p.terms)]
        for p in content.problems
    ]
    _rows(sheet, columns, rows)


def _cases(book: Workbook, content: MonthlyContent) -> None:
    columns = [
        Column(_("Unit"), 30),
        Column(_("Cases opened"), 12),
        Column(_("Answered"), 10),
        Column(_("Rectified"), 10),
        Column(_("Closed"), 10),
        Column(_("Not adopted"), 10),
        Column(_("Overdue"), 10),
        Column(_("Average hours to answer"), 16, "0.0"),
    ]
    note = _("cases opened in the month, as they stand now")
    sheet = _sheet(book, _("Rectification"), content, note, columns)
    rows = [
        [c.name, c.opened, c.replied, c.rectified, c.closed, c.invalid, c.overdue, c.hours_to_reply]
        for c in content.cases
    ]
    _rows(sheet, columns, rows)


def workbook_bytes(content: MonthlyContent) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = content.title
    _written(book, content)
    _summary(book, content)
    _days(book, content)
    _lines(book, content, _("By child region"), _("Region"), content.children)
    _lines(book, content, _("By institution"), _("Institution"), content.institutions)
    _lines(book, content, _("By department"), _("Department"), content.departments)
    _rankings(book, content)
    _watch(book, content)
    _problems(book, content)
    _cases(book, content)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
