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
from haoping.indicators.tests.locking import timed_transactions

# The bound stated at haoping.directory.services.BATCH_ROWS.
LOCK_BOUND_MS = 200

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


def big_directory(size: int) -> dict[str, list[dict[str, Any]]]:
    """A city with `size` service items and as many staff, over 50 districts and departments."""
    data = json.loads(json.dumps(DIRECTORY))
    for d in range(50):
        data["regions"].append({"code": f"330100{d:03d}", "name": f"区{d}", "parent": "330100"})
        data["departments"].append({"code": f"DEP-{d}", "name": f"部门{d}", "region": f"330100{d:03d}"})
    for i in range(size):
        data["items"].append({"code": f"ITEM-{i}", "name": f"事项{i}", "type": "许可", "department": f"DEP-{i % 50}"})
        data["staff"].append({"staff_no": f"S{i}", "name": f"职员{i}", "department": f"DEP-{i % 50}"})
    return data


def test_an_error_in_the_last_row_writes_nothing(db: Any, tmp_path: Path) -> None:
    bad = big_directory(500)
    bad["staff"][-1]["department"] = "DEP-404"
    with pytest.raises(CommandError, match=f"staff 第 {len(bad['staff'])} 行，department：编码 DEP-404 不存在"):
        call_command("import_directory", write_json(tmp_path, bad))
    assert Region.objects.count() == 0 and ServiceItem.objects.count() == 0 and Staff.objects.count() == 0


def test_duplicate_codes_in_a_sheet_are_reported(db: Any, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DIRECTORY))
    bad["items"].append(dict(bad["items"][0]))
    with pytest.raises(CommandError, match="items 第 2 行，code：在本工作表中重复出现"):
        call_command("import_directory", write_json(tmp_path, bad))
    assert Region.objects.count() == 0


def test_a_second_run_changes_nothing_and_completes_an_interrupted_import(db: Any, tmp_path: Path) -> None:
    data = big_directory(450)
    path = write_json(tmp_path, data)
    call_command("import_directory", path)
    # An import killed between batches: the last batches of staff never got written.
    Staff.objects.filter(staff_no__in=[f"S{i}" for i in range(200, 450)]).delete()
    call_command("import_directory", path)
    assert Staff.objects.count() == 451 and ServiceItem.objects.count() == 451
    with timed_transactions() as seen:
        call_command("import_directory", path)
    # Nothing left to write: only the audit row.
    assert len(seen.durations) <= 1


def test_a_moved_region_carries_its_subtree(db: Any, tmp_path: Path) -> None:
    call_command("import_directory", write_json(tmp_path, DIRECTORY))
    moved = {
        "regions": [
            {"code": "330200", "name": "宁波市", "parent": None},
            {"code": "330102", "name": "上城区", "parent": "330200"},
        ]
    }
    call_command("import_directory", write_json(tmp_path, moved))
    assert Region.objects.get(code="330102001").path == "/330200/330102/330102001/"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_large_import_holds_no_transaction_for_long(tmp_path: Path) -> None:
    """The bound stated at BATCH_ROWS: no write transaction of an import lasts 200 ms."""
    with timed_transactions() as seen:
        call_command("import_directory", write_json(tmp_path, big_directory(2500)))
    assert Staff.objects.count() == 2501
    assert seen.longest_ms < LOCK_BOUND_MS, f"an import held a transaction for {seen.longest_ms:.0f} ms"
