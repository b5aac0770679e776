"""Errors on the console's pages name a field by the label its form shows, never by the API's name."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client

from haoping.directory.models import Department
from haoping.rectification.links import revisit_token
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, bad_case, to_handling
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
    assert _alert(res.content.decode()) == (
        "佐证材料：说明.txt 不是照片（JPEG、PNG）、PDF、通话录音（MP3、M4A、AAC、WAV、AMR）或视频片段（MP4、WebM）"
    )


def test_spot_check_errors_name_the_form_fields(people: dict[str, Client], case: BadReviewCase) -> None:
    res = people["manager"].post("/console/spot-checks/", {"from": "2026-01-01", "to": "2026-01-31", "count": "5000"})
    assert res.status_code == 422
    assert _alert(res.content.decode()) == "抽查数量：1 到 1000"


def test_the_evaluators_page_names_the_note_by_its_label(
    world: dict[str, Any], record_payload: Any, clock: Clock
) -> None:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk)
    act_ok(world["api"], case.pk, "rectify", description="已整改")
    act_ok(world["api"], case.pk, "reply", answer="已整改，请评价")
    path = f"/v/{revisit_token(case.public_id)}/"
    client = Client()
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(path).content.decode())
    assert token is not None
    res = client.post(path, {"form_token": token.group(1), "satisfied": "yes", "note": "好" * 2001})
    assert res.status_code == 422
    alert = re.search(r'role="alert" id="revisit-error">(.*?)</p>', res.content.decode())
    assert alert is not None and alert.group(1) == "补充意见（选填）：最多 2000 个字符"
