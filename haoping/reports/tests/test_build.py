"""Building a monthly report of the hand-computed district: what the workbook and the PDF say, how
the progress moves, and what a failure leaves behind."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db.models import F
from openpyxl import load_workbook
from pypdf import PdfReader

from haoping.directory.models import RegionPolicy
from haoping.rectification.models import BadReviewCase
from haoping.reports import services
from haoping.reports.models import MonthlyReport
from haoping.reports.services import report_build, report_request
from haoping.reports.tests.conftest import JUNE, actor, person


@pytest.fixture
def small_sample(settings: Any, world: dict[str, Any]) -> None:
    # The district has seven ratings in June; rank everything, and mark the lowest one of each ranking.
    settings.HAOPING_RANKING_MIN_SAMPLE = 1
    RegionPolicy.objects.update_or_create(region=world["district"], defaults={"key_targets_lowest": 1})


def built(world: dict[str, Any], region_key: str = "district") -> MonthlyReport:
    user, _client = person("zhouming", role="manager", region=world["city"])
    report = report_request(actor=actor(user), region=world[region_key], month=JUNE)
    assert report_build(report_id=report.pk) == "done"
    return MonthlyReport.objects.get(pk=report.pk)


def table(sheet: Any) -> list[list[Any]]:
    """The rows under the header (row 3) of a sheet."""
    return [list(row) for row in sheet.iter_rows(min_row=4, values_only=True)]


def by_name(sheet: Any) -> dict[Any, list[Any]]:
    return {row[0]: row for row in table(sheet)}


def test_the_workbook_holds_the_hand_computed_figures(world: dict[str, Any], june: dt.date, small_sample: None) -> None:
    # R3 answered 30 hours after it was opened, R5 after 6: 18 hours on average.
    BadReviewCase.objects.filter(record__record_no="R3").update(replied_at=F("opened_at") + dt.timedelta(hours=30))
    BadReviewCase.objects.filter(record__record_no="R5").update(replied_at=F("opened_at") + dt.timedelta(hours=6))
    report = built(world)
    book = load_workbook(io.BytesIO(bytes(report.xlsx)))
    assert book.sheetnames == [
        "综述",
        "概况",
        "每日趋势",
        "按下级区划",
        "按政务服务机构",
        "按部门",
        "排名",
        "重点评测对象",
        "堵点难点",
        "差评整改",
    ]

    summary = book["概况"]
    assert summary["A1"].value == "玄武区2026年6月好差评月度报告"
    assert [c.value for c in summary[3]] == ["指标", "本月", "上月", "变化"]
    assert summary.freeze_panes == "A4"
    assert summary["A3"].font.bold and summary["A3"].fill.fgColor.rgb == "00C8161D"
    assert summary.column_dimensions["A"].width == 28
    rows = by_name(summary)
    # June: 好评率 5/7; May: one rating of 5, so 100 %: 28.6 points down.
    assert rows["好评率"][1] == pytest.approx(5 / 7) and rows["好评率"][2] == 1.0 and rows["好评率"][3] == -28.6
    assert summary.cell(4, 2).number_format == "0.0%"
    assert rows["主动评价好评率"][1:] == [pytest.approx(0.4), 1.0, -60.0]
    assert rows["差评回访整改率"][1:] == [0.5, None, None]  # no bad review in May: no data, not 0 %
    assert rows["评价总数"][1:] == [7, 1, 6]
    assert rows["有效差评"][1:] == [2, 0, 2]

    hall = by_name(book["按政务服务机构"])["玄武区政务服务中心"]
    assert hall == [
        "玄武区政务服务中心",
        7,
        pytest.approx(5 / 7),
        pytest.approx(0.4),
        pytest.approx(2 / 7),
        pytest.approx(2 / 3),
        0.5,
        1.0,
        2,
    ]
    assert by_name(book["按部门"])["市场监督管理局"][1] == 7

    # Staff: S001 rated 5, 4, 2, 3 (75 %); S002 one not adopted, one bad, one default (2/3).
    rankings = table(book["排名"])
    assert [r[:4] for r in rankings] == [
        ["政务服务机构", 1, "玄武区政务服务中心", pytest.approx(5 / 7)],
        ["工作人员", 1, "王芳（S001）", 0.75],
        ["工作人员", 2, "李强（S002）", pytest.approx(2 / 3)],
    ]
    # The only institution ranks first: the best of a ranking is never a key target (R20).
    assert [r[6] for r in rankings] == [None, None, "是"]
    assert [(r[0], r[1]) for r in table(book["重点评测对象"])] == [("工作人员", "李强（S002）")]

    problems = table(book["堵点难点"])
    assert problems[0][:4] == ["政务服务事项", "企业开办", 2, 7]
    assert "办理慢、等候时间长" in problems[0][4]

    cases = by_name(book["差评整改"])
    # R3 closed after a satisfied revisit, R4 not adopted (closed), R5 answered and awaiting revisit.
    assert cases["所有单位"][1:] == [3, 2, 2, 2, 1, 0, 18.0]
    assert cases["市场监督管理局"][1:] == [3, 2, 2, 2, 1, 0, 18.0]


def test_the_cases_sheet_counts_a_case_overdue_now_or_before(
    world: dict[str, Any], june: dt.date, small_sample: None
) -> None:
    """R12's deadlines: a case the sweep marked overdue and still open counts, as does one closed
    after having been overdue; one closed in time does not."""
    BadReviewCase.objects.filter(record__record_no="R5").update(overdue_at=F("opened_at"))
    BadReviewCase.objects.filter(record__record_no="R3").update(was_overdue=True)
    cases = by_name(load_workbook(io.BytesIO(bytes(built(world).xlsx)))["差评整改"])
    assert cases["所有单位"][6] == 2 and cases["市场监督管理局"][6] == 2


def test_the_pdf_is_a_chinese_document_with_charts(world: dict[str, Any], june: dt.date, small_sample: None) -> None:
    report = built(world)
    pdf = bytes(report.pdf)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "玄武区2026年6月好差评月度报告" in text.replace(" ", "")
    for words in ("好评率", "玄武区政务服务中心", "李强", "71.4%", "-28.6", "重点评测对象", "市场监督管理局"):
        assert words in text, words
    assert "张三" not in text and "13812345678" not in text  # the evaluator of every record
    fonts = {str(font.get("/BaseFont")) for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-CJK-SC" in name for name in fonts), fonts


def test_the_build_moves_through_its_steps(
    world: dict[str, Any], june: dt.date, small_sample: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _client = person("zhouming", role="manager", region=world["district"])
    report = report_request(actor=actor(user), region=world["district"], month=JUNE)
    assert (report.state, report.progress) == ("queued", 0)
    seen = []
    advance = services.report_advance

    def watched(report_id: int, step: str, progress: int) -> None:
        advance(report_id, step, progress)
        seen.append(tuple(MonthlyReport.objects.filter(pk=report_id).values_list("state", "step", "progress").get()))

    monkeypatch.setattr(services, "report_advance", watched)
    assert report_build(report_id=report.pk) == "done"
    assert seen == [
        ("running", "rates", 5),
        ("running", "regions", 10),
        ("running", "institutions", 20),
        ("running", "departments", 30),
        ("running", "rankings", 40),
        ("running", "problems", 50),
        ("running", "cases", 60),
        ("running", "excel", 70),
        ("running", "pdf", 80),
    ]
    done = MonthlyReport.objects.get(pk=report.pk)
    assert (done.state, done.progress, done.step, done.error) == ("done", 100, "", "")
    assert done.started_at is not None and done.finished_at is not None
    # Only a queued report is built: a second run leaves it as it is.
    assert report_build(report_id=report.pk) == "done"
    assert len(seen) == 9


def test_a_failure_marks_the_report_failed_without_files(
    world: dict[str, Any], june: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(content: Any) -> bytes:
        raise RuntimeError("no font")

    monkeypatch.setattr("haoping.reports.pdf.pdf_bytes", broken)
    user, _client = person("zhouming", role="manager", region=world["district"])
    report = report_request(actor=actor(user), region=world["district"], month=JUNE)
    assert report_build(report_id=report.pk) == "failed"
    failed = MonthlyReport.objects.get(pk=report.pk)
    assert (failed.state, failed.step, failed.progress, failed.error) == ("failed", "pdf", 80, "RuntimeError: no font")
    assert failed.xlsx is None and failed.pdf is None and failed.finished_at is not None
    # A failed report no longer blocks the month: the next request queues a new build.
    again = report_request(actor=actor(user), region=world["district"], month=JUNE)
    assert again.pk != report.pk and again.state == "queued"


def test_the_queued_task_builds_the_report(world: dict[str, Any], june: dt.date, huey_immediate: Any) -> None:
    from haoping.reports.tasks import build_report

    user, _client = person("zhouming", role="manager", region=world["district"])
    report = report_request(actor=actor(user), region=world["district"], month=JUNE)
    build_report(report.pk)
    assert MonthlyReport.objects.get(pk=report.pk).state == "done"
