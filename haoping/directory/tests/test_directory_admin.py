"""Directory import and export in the admin: the import command's files uploaded (all or nothing,
every row error on the page), a template and the current directory downloaded as .xlsx."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from haoping.audit.models import AuditEntry
from haoping.directory.models import Region, Staff, Window
from haoping.directory.services import SECTIONS
from haoping.directory.tests.test_import_directory import DIRECTORY

IMPORT = "/admin/directory/region/import/"


def _admin() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    return client


def _upload(client: Client, name: str, content: bytes) -> Any:
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content)})


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(content))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_directory_lists_link_to_the_import_and_the_export(db: Any) -> None:
    html = _admin().get("/admin/directory/staff/").content.decode()
    assert 'href="/admin/directory/region/import/"' in html and "导入基础目录" in html
    assert 'href="/admin/directory/region/export.xlsx"' in html


def test_the_template_has_a_sheet_per_kind_headed_by_the_columns(db: Any) -> None:
    res = _admin().get("/admin/directory/region/template.xlsx")
    assert res.status_code == 200 and res["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _sheets(res.content) == {section: [columns] for section, columns in SECTIONS.items()}


def test_an_upload_imports_the_commands_file_and_is_audited(db: Any) -> None:
    admin = _admin()
    res = _upload(admin, "目录.json", json.dumps(DIRECTORY, ensure_ascii=False).encode())
    assert res.status_code == 200
    html = res.content.decode()
    report = html[html.index('id="import-report"') :].split("</table>")[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td><td>(\d+)</td></tr>", report)
    assert ("行政区划", "3", "0") in cells and ("工作人员", "1", "0") in cells
    assert Staff.objects.get(staff_no="E001").window.code == "WIN-1"
    assert AuditEntry.objects.filter(action="import_directory", target="目录.json", actor_label="root").count() == 1


def test_a_file_with_errors_imports_nothing_and_lists_every_row_error(db: Any) -> None:
    bad = json.loads(json.dumps(DIRECTORY))
    bad["windows"].append({"code": "WIN-2", "name": "二号", "institution": "INS-404", "department": "DEP-RS"})
    bad["staff"].append({"staff_no": "E002", "name": ""})
    res = _upload(_admin(), "directory.json", json.dumps(bad, ensure_ascii=False).encode())
    assert res.status_code == 422
    html = res.content.decode()
    errors = re.findall(r"<li>(.*?)</li>", html[html.index('id="import-errors"') :].split("</div>")[0])
    assert errors == ["staff 第 2 行，name：为必填项"]
    assert Region.objects.count() == 0 and Window.objects.count() == 0
    # The row errors found once every row is present: the unknown institution.
    bad["staff"].pop()
    res = _upload(_admin_again(), "directory.json", json.dumps(bad, ensure_ascii=False).encode())
    assert res.status_code == 422 and "INS-404" in res.content.decode()
    assert Region.objects.count() == 0 and not AuditEntry.objects.filter(action="import_directory").exists()


def _admin_again() -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="root"))
    return client


def test_files_that_are_not_a_directory_get_a_clear_answer(db: Any) -> None:
    admin = _admin()
    res = _upload(admin, "directory.xlsx", b"PK\x03\x04 not really a workbook")
    assert res.status_code == 422 and "directory.xlsx：不是可读取的 .xlsx 工作簿" in res.content.decode()
    res = _upload(admin, "directory.csv", b"code,name\n")
    assert res.status_code == 422 and "directory.csv：仅支持导入 .json 和 .xlsx 文件" in res.content.decode()
    assert admin.post(IMPORT, {}).status_code == 400


def test_the_export_is_the_current_directory_and_imports_again_unchanged(db: Any) -> None:
    admin = _admin()
    assert _upload(admin, "d.json", json.dumps(DIRECTORY, ensure_ascii=False).encode()).status_code == 200
    res = admin.get("/admin/directory/region/export.xlsx")
    assert res.status_code == 200
    sheets = _sheets(res.content)
    assert sheets["regions"] == [
        ["code", "name", "parent"],
        ["330100", "杭州市", None],
        ["330102", "上城区", "330100"],
        ["330102001", "清波街道", "330102"],
    ]
    assert sheets["items"][1] == ["330100-RS-001", "社会保障卡申领", "公共服务", "DEP-RS", 20, 1]
    assert sheets["staff"][1] == ["E001", "陈静", "DEP-RS", "INS-1", "WIN-1"]
    again = _upload(admin, "export.xlsx", res.content)
    assert again.status_code == 200
    assert ("行政区划", "0", "3") in re.findall(
        r"<tr><td>(.*?)</td><td>(\d+)</td><td>(\d+)</td></tr>", again.content.decode()
    )


def test_staff_without_the_directory_permissions_may_not_import_or_export(db: Any) -> None:
    user = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(IMPORT).status_code == 403
    assert client.get("/admin/directory/region/export.xlsx").status_code == 403
    assert client.get("/admin/directory/region/template.xlsx").status_code == 403
