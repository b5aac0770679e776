"""`import_directory`: JSON or xlsx, all or nothing, errors naming sheet, row and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from haoping.audit.models import AuditEntry
from haoping.directory.models import Department, Institution, Region, ServiceItem, Staff, Window

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "regions": [
        {"code": "330102", "name": "上城区", "parent": "330100"},  # child before parent is fine
        {"code": "330100", "name": "杭州市", "parent": None},
        {"code": "330102001", "name": "清波街道", "parent": "330102"},
    ],
    "departments": [{"code": "DEP-RS", "name": "人力资源和社会保障局", "region": "330100"}],
    "institutions": [{"code": "INS-1", "name": "市民中心", "kind": "center", "region": "330100"}],
    "windows": [{"code": "WIN-1", "name": "社保窗口", "institution": "INS-1", "department": "DEP-RS"}],
    "platforms": [{"code": "PLT-1", "name": "浙里办", "kind": "mobile", "region": "330100"}],
    "items": [
        {
            "code": "330100-RS-001",
            "name": "社会保障卡申领",
            "type": "公共服务",
            "department": "DEP-RS",
            "legal_days": 20,
            "promised_days": 1,
        }
    ],
    "staff": [{"staff_no": "E001", "name": "陈静", "department": "DEP-RS", "institution": "INS-1", "window": "WIN-1"}],
}


def write_json(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, data: dict[str, list[dict[str, Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, rows in data.items():
        ws = workbook.create_sheet(sheet)
        columns = list(rows[0].keys())
        ws.append(columns)
        for row in rows:
            ws.append([row.get(c) for c in columns])
    path = tmp_path / "directory.xlsx"
    workbook.save(path)
    return path


@pytest.mark.parametrize("writer", [write_json, write_xlsx])
def test_import_creates_everything(db: Any, tmp_path: Path, writer: Any) -> None:
    call_command("import_directory", writer(tmp_path, DIRECTORY))
    assert Region.objects.get(code="330102001").path == "/330100/330102/330102001/"
    assert Window.objects.get(code="WIN-1").department.code == "DEP-RS"
    assert ServiceItem.objects.get(code="330100-RS-001").legal_days == 20
    assert Staff.objects.get(staff_no="E001").window.code == "WIN-1"
    assert AuditEntry.objects.filter(action="import_directory").count() == 1
    # Importing again updates in place.
    call_command("import_directory", writer(tmp_path, DIRECTORY))
    assert Institution.objects.count() == 1 and Region.objects.count() == 3


def test_errors_name_sheet_row_and_field_and_nothing_is_written(db: Any, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DIRECTORY))
    bad["windows"].append({"code": "WIN-2", "name": "二号", "institution": "INS-404", "department": "DEP-RS"})
    bad["items"][0]["legal_days"] = "twenty"
    bad["institutions"].append({"code": "INS-2", "name": "x", "kind": "palace", "region": "330100"})
    with pytest.raises(CommandError) as exc:
        call_command("import_directory", write_json(tmp_path, bad))
    message = str(exc.value)
    assert "windows 第 2 行，institution：编码 INS-404 不存在" in message
    assert "items 第 1 行，legal_days：必须为整数天数" in message
    assert "institutions 第 2 行，kind：未知类型 palace" in message
    assert Region.objects.count() == 0 and Department.objects.count() == 0


def test_missing_required_value_and_unknown_sheet(db: Any, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DIRECTORY))
    bad["staff"][0]["name"] = ""
    bad["people"] = []
    with pytest.raises(CommandError) as exc:
        call_command("import_directory", write_xlsx(tmp_path, {k: v for k, v in bad.items() if v}))
    assert "staff 第 1 行，name：为必填项" in str(exc.value)
    with pytest.raises(CommandError, match="people：未知的工作表"):
        call_command("import_directory", write_json(tmp_path, bad))
    assert Staff.objects.count() == 0


def test_unknown_parent_region_is_reported(db: Any, tmp_path: Path) -> None:
    data = {"regions": [{"code": "110101", "name": "东城区", "parent": "110100"}]}
    with pytest.raises(CommandError, match="regions 第 1 行，parent：编码 110100 不存在"):
        call_command("import_directory", write_json(tmp_path, data))


def test_not_json_or_wrong_suffix(db: Any, tmp_path: Path) -> None:
    broken = tmp_path / "d.json"
    broken.write_text("{oops", encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 JSON"):
        call_command("import_directory", broken)
    other = tmp_path / "d.csv"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match=r"仅支持导入 \.json 和 \.xlsx"):
        call_command("import_directory", other)


def test_import_refuses_cycles_bad_codes_and_mismatched_staff(db: Any, tmp_path: Path) -> None:
    call_command("import_directory", write_json(tmp_path, DIRECTORY))
    cycle = {"regions": [{"code": "330100", "name": "杭州市", "parent": "330102"}]}
    with pytest.raises(CommandError, match="regions 第 1 行，parent"):
        call_command("import_directory", write_json(tmp_path, cycle))
    assert Region.objects.get(code="330100").path == "/330100/"
    bad_code = {"regions": [{"code": "33/01", "name": "x", "parent": None}]}
    with pytest.raises(CommandError, match="regions 第 1 行，code"):
        call_command("import_directory", write_json(tmp_path, bad_code))
    odd_days = json.loads(json.dumps(DIRECTORY))
    odd_days["items"][0]["legal_days"] = "²"
    with pytest.raises(CommandError, match="items 第 1 行，legal_days"):
        call_command("import_directory", write_json(tmp_path, odd_days))
    moved = json.loads(json.dumps(DIRECTORY))
    moved["institutions"].append({"code": "INS-2", "name": "分中心", "kind": "station", "region": "330102"})
    moved["staff"][0]["institution"] = "INS-2"
    with pytest.raises(CommandError, match="staff 第 1 行，window"):
        call_command("import_directory", write_json(tmp_path, moved))
    assert not Institution.objects.filter(code="INS-2").exists()
