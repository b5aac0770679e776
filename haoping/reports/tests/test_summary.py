"""The report a manager sends upward: a breakdown by child region and a written summary whose every
figure comes from the month's data."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db.models import F
from openpyxl import load_workbook
from pypdf import PdfReader

from haoping.rectification.models import BadReviewCase
from haoping.reports.models import MonthlyReport
from haoping.reports.tests.test_build import built, by_name, table


def written(report: MonthlyReport) -> list[str]:
    book = load_workbook(io.BytesIO(bytes(report.xlsx)))
    return [row[0] for row in table(book["综述"])]


def test_the_city_report_breaks_down_by_child_region(world: dict[str, Any], june: dt.date) -> None:
    book = load_workbook(io.BytesIO(bytes(built(world, "city").xlsx)))
    assert book.sheetnames[:4] == ["综述", "概况", "每日趋势", "按下级区划"]
    regions = by_name(book["按下级区划"])
    # All June ratings are in 玄武区; 秦淮区 has none, and its rates are no data, not 0 %.
    assert regions["玄武区"][:3] == ["玄武区", 7, pytest.approx(5 / 7)]
    assert regions["秦淮区"][:3] == ["秦淮区", 0, None]
    assert list(regions) == ["玄武区", "秦淮区"]


def test_the_written_summary_says_what_moved_where_and_what_went_overdue(world: dict[str, Any], june: dt.date) -> None:
    BadReviewCase.objects.filter(record__record_no="R5").update(overdue_at=F("opened_at"))
    sentences = written(built(world, "city"))
    assert sentences[0] == "2026年6月，示例市共收到评价7条（上月1条），其中有效差评2条（上月0条）。"
    # May: one rating of 5; June: 好评率 5/7, 主动评价好评率 2/5, one rating of 7 never rated.
    assert sentences[1] == "较上月上升的有：未评率（28.6个百分点，至28.6%）。"
    fell = "较上月下降的有：好评率（28.6个百分点，至71.4%）、主动评价好评率（60.0个百分点，至40.0%）"
    assert sentences[2].startswith(fell)
    assert "有效差评主要集中在玄武区（2条，占100.0%）。" in sentences
    assert any(s.startswith("有效差评最多的事项是“企业开办”（2条）") for s in sentences)
    assert sentences[-1] == "本月新开差评案件3件，其中1件超期，涉及市场监督管理局（1件）。"
    text = "".join(sentences)
    assert "%(" not in text and not any(c.isascii() and c.isalpha() for c in text)


def test_a_month_without_overdue_cases_says_so(world: dict[str, Any], june: dt.date) -> None:
    sentences = written(built(world))
    assert sentences[-1] == "本月新开差评案件3件，均未超期。"
    # 玄武区 has no child region: no concentration sentence, and the PDF says there is none.
    assert not any("集中在" in s for s in sentences)


def test_the_pdf_opens_with_the_written_summary(world: dict[str, Any], june: dt.date) -> None:
    report = built(world, "city")
    reader = PdfReader(io.BytesIO(bytes(report.pdf)))
    first = reader.pages[0].extract_text().replace(" ", "").replace("\n", "")
    assert "综述" in first and "2026年6月，示例市共收到评价7条" in first
    text = "".join(page.extract_text() for page in reader.pages)
    assert "按下级区划" in text and "秦淮区" in text
