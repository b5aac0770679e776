"""Errors on the console's pages name a field by the label its form shows, never by the API's name."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client

from haoping.directory.models import Department
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.support import bad_case
from haoping.rectification.tests.test_console import login


@pytest.fixture
def people(world: dict[str, Any]) -> dict[str, Client]:
    return {
        "handler": login("handler", "handler", department=Department.objects.get(code="D-MKT")),
        "manager": login("manager", "manager", region=world["district"]),
    }


@pytest.fixture
def case(world: dict[str, Any], record_payload: Any) -> BadReviewCase:
    return bad_case(world, record_payload)


def _alert(html: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    assert found is not None, "no error on the page"
    return found.group(1)


def test_a_missing_note_is_named_by_its_label(people: dict[str, Client], case: BadReviewCase) -> None:
    res = people["handler"].post(f"/console/cases/{case.pk}/act/contact/", {"note": " "})
    assert res.status_code == 422
    assert _alert(res.content.decode()) == "说明：必填"


def test_a_wrong_evidence_file_is_named_by_its_label(people: dict[str, Client], case: BadReviewCase) -> None:
    upload = io.BytesIO(b"not a picture")
    upload.name = "说明.txt"
    res = people["handler"].post(f"/console/cases/{case.pk}/act/contact/", {"note": "已电话联系", "evidence": upload})
    assert res.status_code == 422
    assert _alert(res.content.decode()) == "佐证材料：说明.txt 不是 JPEG、PNG 或 PDF 文件"


def test_spot_check_errors_name_the_form_fields(people: dict[str, Client], case: BadReviewCase) -> None:
    res = people["manager"].post("/console/spot-checks/", {"from": "2026-01-01", "to": "2026-01-31", "count": "5000"})
    assert res.status_code == 422
    assert _alert(res.content.decode()) == "抽查数量：1 到 1000"
