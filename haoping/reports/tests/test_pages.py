"""The report pages over HTTP: who may request, follow and download which report, and what the
downloads look like."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from haoping.directory.models import Staff
from haoping.rectification.tests.support import at
from haoping.reports.models import MonthlyReport
from haoping.reports.services import report_build, report_request
from haoping.reports.tests.conftest import JUNE, actor, person


def request_june(client: Any, region: str = "320102") -> Any:
    return client.post("/console/reports/", {"region": region, "month": "2026-06"})


def test_a_manager_requests_follows_and_downloads_a_report(world: dict[str, Any], june: dt.date) -> None:
    _user, manager = person("zhouming", role="manager", region=world["city"])
    page = manager.get("/console/reports/")
    html = page.content.decode()
    assert page.status_code == 200
    # The form offers the manager's subtree and last month (May, on the clock of these tests).
    assert 'value="2026-05"' in html and "示例市" in html and "玄武区" in html and "秦淮区" in html

    response = request_june(manager)
    report = MonthlyReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/reports/{report.pk}/"
    assert (report.region.code, report.month, report.state) == ("320102", JUNE, "queued")
    detail = manager.get(f"/console/reports/{report.pk}/").content.decode()
    assert "玄武区2026年6月好差评月度报告" in detail and "排队中" in detail and "report.xlsx" not in detail
    assert manager.get(f"/console/reports/{report.pk}/status").json() == {
        "state": "queued",
        "state_label": "排队中",
        "progress": 0,
        "step": "",
        "step_label": "",
    }
    assert manager.get(f"/console/reports/{report.pk}/report.xlsx").status_code == 404

    report_build(report_id=report.pk)
    assert manager.get(f"/console/reports/{report.pk}/status").json()["state"] == "done"
    detail = manager.get(f"/console/reports/{report.pk}/").content.decode()
    assert "已完成" in detail and f"/console/reports/{report.pk}/report.pdf" in detail

    xlsx = manager.get(f"/console/reports/{report.pk}/report.xlsx")
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = quote("玄武区2026年6月好差评月度报告")
    assert xlsx["Content-Disposition"] == f"attachment; filename*=utf-8''{name}.xlsx"
    summary = load_workbook(io.BytesIO(xlsx.content))["概况"]
    assert summary["A4"].value == "好评率" and summary["B4"].value == pytest.approx(5 / 7)

    pdf = manager.get(f"/console/reports/{report.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f"attachment; filename*=utf-8''{name}.pdf"
    assert pdf.content.startswith(b"%PDF")

    listed = manager.get("/console/reports/").content.decode()
    assert "2026-06" in listed and "已完成" in listed and f"/console/reports/{report.pk}/report.pdf" in listed


def test_a_repeated_request_gets_the_report_under_way(world: dict[str, Any], june: dt.date) -> None:
    _user, manager = person("zhouming", role="manager", region=world["district"])
    first = request_june(manager)
    second = request_june(manager)
    assert first["Location"] == second["Location"]
    assert MonthlyReport.objects.count() == 1
    # Once it is built, a new request builds the month again (the figures may have changed since).
    report_build(report_id=MonthlyReport.objects.get().pk)
    third = request_june(manager)
    assert third["Location"] != first["Location"] and MonthlyReport.objects.count() == 2


def test_a_build_lost_for_half_an_hour_is_given_up(
    world: dict[str, Any], june: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    user, _client = person("zhouming", role="manager", region=world["district"])
    lost = report_request(actor=actor(user), region=world["district"], month=JUNE)
    MonthlyReport.objects.filter(pk=lost.pk).update(state="running", started_at=lost.created_at)
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 6, 16, 10, 29))
    assert report_request(actor=actor(user), region=world["district"], month=JUNE).pk == lost.pk
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 6, 16, 10, 31))
    fresh = report_request(actor=actor(user), region=world["district"], month=JUNE)
    assert fresh.pk != lost.pk
    lost.refresh_from_db()
    assert lost.state == "failed" and lost.error == "已中断：报告未生成完毕即停止"


def test_bad_months_and_regions_are_refused_on_the_form(world: dict[str, Any], june: dt.date) -> None:
    _user, manager = person("zhouming", role="manager", region=world["district"])
    future = manager.post("/console/reports/", {"region": "320102", "month": "2026-07"})
    assert future.status_code == 422 and "只能选择已经开始的月份" in future.content.decode()
    garbled = manager.post("/console/reports/", {"region": "320102", "month": "June"})
    assert garbled.status_code == 422 and "2026-05" in garbled.content.decode()
    # The city and the neighbouring district are outside a district manager's subtree.
    assert request_june(manager, "320100").status_code == 404
    assert request_june(manager, "320104").status_code == 404
    assert MonthlyReport.objects.count() == 0


def test_reports_exist_only_for_managers_of_their_region(world: dict[str, Any], june: dt.date) -> None:
    user, owner = person("owner", role="manager", region=world["district"])
    report = report_request(actor=actor(user), region=world["district"], month=JUNE)
    report_build(report_id=report.pk)
    urls = [f"/console/reports/{report.pk}/{end}" for end in ("", "status", "report.xlsx", "report.pdf")]
    assert [owner.get(url).status_code for url in urls] == [200, 200, 200, 200]

    _other, neighbour = person("neighbour", role="manager", region=world["other"])
    assert [neighbour.get(url).status_code for url in urls] == [404, 404, 404, 404]
    assert neighbour.get(urls[1]).json()["error"] == "not_found"
    assert "玄武区" not in neighbour.get("/console/reports/").content.decode()

    _staff, staff = person("staff", role="staff", staff=Staff.objects.get(staff_no="S001"))
    _handler, handler = person("handler", role="handler", department=world["item"].department)
    _nobody, outsider = person("outsider")
    for client in (staff, handler, outsider):
        assert client.get("/console/reports/").status_code == 404
        assert request_june(client).status_code == 404
        assert [client.get(url).status_code for url in urls] == [404, 404, 404, 404]
    assert MonthlyReport.objects.count() == 1
    # The console's navigation offers the reports to managers only.
    assert "月度报告" in owner.get("/console/").content.decode()
    staff_console = staff.get("/console/")
    assert staff_console.status_code == 200 and "月度报告" not in staff_console.content.decode()
