"""Pages answer bad input with a 4xx naming the problem, never a 500: control characters in a
query, digits `int()` refuses, and directory files with a NUL or a damaged sheet."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from typing import Any

import pytest
from openpyxl import Workbook

from haoping.directory.models import Department
from haoping.directory.services import ImportErrors, read_directory_upload
from haoping.directory.tests.test_import_directory import DIRECTORY
from haoping.lib.numbers import whole_number
from haoping.rectification.tests.test_console import login


def test_whole_numbers_are_ascii_digits_of_a_bounded_length() -> None:
    assert [whole_number(t) for t in ("0", "30", "007")] == [0, 30, 7]
    # str.isdigit() takes these, int() does not (or not in time): they are no numbers here.
    assert [whole_number(t) for t in ("²", "١٢", "３", "9" * 5000, "", None, "-1", "1.5")] == [None] * 8


@pytest.mark.parametrize("query", ["q=%00", "record_no=A%00B", "item=%1b", "state=open&to=2026-01-01%00"])
def test_a_console_query_with_control_characters_is_a_400_naming_it(world: dict[str, Any], query: str) -> None:
    manager = login("m", "manager", region=world["district"])
    res = manager.get(f"/console/?{query}")
    assert res.status_code == 400
    page = res.content.decode()
    name = query.rsplit("&", 1)[-1].split("=")[0]
    assert f"参数“{name}”含有控制字符" in page
    # The same page without the character answers as usual.
    assert manager.get("/console/?q=abc").status_code == 200


def test_numbers_int_refuses_are_refused_as_input_not_a_500(world: dict[str, Any]) -> None:
    manager = login("m", "manager", region=world["district"])
    for params in ("lowest=²", "min=" + "9" * 5000, "lowest=３"):
        assert manager.get(f"/console/indicators/rankings/?{params}").status_code == 200
    handler = login("h", "handler", department=Department.objects.get(code="D-MKT"))
    # No case at all: the number is parsed before the case is looked up, and never raises.
    assert handler.post("/console/cases/999999/act/request_extension/", {"days": "²", "reason": "x"}).status_code == 404


def test_a_directory_file_with_a_nul_is_refused_naming_the_row() -> None:
    bad = copy.deepcopy(DIRECTORY)
    section = next(iter(bad))
    bad[section][0]["name"] = "政务\x00服务"
    with pytest.raises(ImportErrors) as refused:
        read_directory_upload(name="d.json", content=json.dumps(bad, ensure_ascii=False).encode())
    assert any(f"{section} 第 1 行" in str(e) and "控制字符" in str(e) for e in refused.value.errors)


def test_a_workbook_whose_sheet_cannot_be_read_is_refused() -> None:
    book = Workbook()
    book.active.append(["code", "name"])
    book.active.append(["R1", "区"])
    raw = io.BytesIO()
    book.save(raw)
    data = raw.getvalue()
    # Damage the sheet's XML inside a valid archive: the workbook opens, its rows do not parse.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = content[: len(content) // 2]
            dst.writestr(item, content)
    with pytest.raises(ImportErrors) as refused:
        read_directory_upload(name="d.xlsx", content=out.getvalue())
    assert refused.value.errors == ["d.xlsx：不是可读取的 .xlsx 工作簿"]
