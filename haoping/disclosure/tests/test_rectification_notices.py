"""整改公示: every bad review of a published month, anonymised; the evaluator's words only as a
manager approved them; not-adopted reviews with their category only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.disclosure.services import rectification_notice_approve
from haoping.disclosure.tests.test_public_results import manager, publish, this_month
from haoping.errors import Forbidden, Invalid
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import BadReviewCase

COMMENT = "窗口王芳态度很差，我叫张三，电话13812345678"


@pytest.fixture
def commented(world: dict[str, Any], district: dict[str, str], record_payload: Any) -> BadReviewCase:
    api = world["api"]
    assert api.post("/records", record_payload(record_no="C1")).status_code == 201
    body = {"record_no": "C1", "level": 1, "channel": "pad", "reasons": ["attitude"], "comment": COMMENT}
    assert api.post("/evaluations", body).status_code == 201
    return BadReviewCase.objects.get(record__record_no="C1")


def page(month: str | None = None) -> str:
    response = Client().get(f"/gongkai/320102/{month or f'{this_month():%Y-%m}'}/rectification/")
    assert response.status_code == 200
    return response.content.decode()


def test_every_bad_review_is_listed_without_who_or_what_they_wrote(
    world: dict[str, Any], commented: BadReviewCase
) -> None:
    publish(manager("m", world["district"]), world["district"])
    html = page()
    # R3, R4, R5 of the district fixture and C1: four bad reviews, R4 not adopted.
    assert html.count('class="card case"') == 4
    assert "不予采纳（误评）" in html
    assert "服务态度差" in html and "已办结" in html and "满意" in html
    for value in ("王芳", "张三", "13812345678", "态度很差", "S001", "1号窗口"):
        assert value not in html, value
    assert "摘要待审核" in html


def test_an_approved_summary_is_published_with_names_and_numbers_removed(
    world: dict[str, Any], commented: BadReviewCase
) -> None:
    actor = manager("m", world["district"])
    publish(actor, world["district"])
    notice = rectification_notice_approve(
        actor=actor, case=commented, summary=COMMENT, rectification="已对王芳进行批评教育，窗口增设引导员"
    )
    assert "王芳" not in notice.summary and "13812345678" not in notice.summary and "张三" not in notice.summary
    assert "态度很差" in notice.summary
    html = page()
    assert "态度很差" in html and "窗口增设引导员" in html
    assert "王芳" not in html and "张三" not in html
    rows = Client().get(f"/gongkai/320102/{this_month():%Y-%m}/rectification.json").json()["rows"]
    assert len(rows) == 4 and any("窗口增设引导员" in r["rectification"] for r in rows)
    invalid = next(r for r in rows if r["adopted"] == "不予采纳")
    assert invalid["reasons"] == "" and invalid["summary"] == "" and invalid["invalid_reason"] == "误评"


def test_approval_needs_a_manager_of_the_region_and_a_summary(world: dict[str, Any], commented: BadReviewCase) -> None:
    with pytest.raises(Forbidden):
        rectification_notice_approve(
            actor=manager("o", world["other"]), case=commented, summary="态度差", rectification=""
        )
    with pytest.raises(Invalid) as empty:
        rectification_notice_approve(
            actor=manager("m", world["district"]), case=commented, summary="  ", rectification=""
        )
    assert empty.value.code == "summary_required"


def test_the_rectification_of_an_unpublished_month_is_not_found(
    world: dict[str, Any], commented: BadReviewCase
) -> None:
    client = Client()
    assert client.get(f"/gongkai/320102/{this_month():%Y-%m}/rectification/").status_code == 404
    publish(manager("m", world["district"]), world["district"])
    assert client.get(f"/gongkai/320104/{this_month():%Y-%m}/rectification/").status_code == 404
    assert client.get(f"/gongkai/320102/{this_month():%Y-%m}/rectification.xml").status_code == 404


def test_a_manager_approves_in_the_console(world: dict[str, Any], commented: BadReviewCase) -> None:
    user = get_user_model().objects.create_user(username="m", password="x")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client()
    client.force_login(user)
    month = f"{this_month():%Y-%m}"
    listing = client.get(f"/console/disclosure/rectification/?region=320102&month={month}")
    assert listing.status_code == 200 and f'id="case-{commented.pk}"' in listing.content.decode()
    done = client.post(
        f"/console/disclosure/rectification/?region=320102&month={month}",
        {"case": commented.pk, "summary": "窗口服务态度差", "rectification": "已批评教育"},
    )
    assert done.status_code == 302
    refused = client.post(
        f"/console/disclosure/rectification/?region=320102&month={month}", {"case": commented.pk, "summary": ""}
    )
    assert refused.status_code == 422
    other = Client()
    other.force_login(get_user_model().objects.create_user(username="o", password="x"))
    Membership.objects.create(user=get_user_model().objects.get(username="o"), role="manager", region=world["other"])
    assert other.post("/console/disclosure/rectification/", {"case": commented.pk, "summary": "x"}).status_code == 404
    publish(manager("m2", world["district"]), world["district"])
    assert "已批评教育" in page()
    assert Evaluation.objects.get(record__record_no="C1").comment not in page()


def test_the_rectification_list_is_paged_with_links_that_need_no_script(
    world: dict[str, Any], commented: BadReviewCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haoping.disclosure import views

    monkeypatch.setattr(views, "RECTIFICATION_PAGE", 3)
    publish(manager("m", world["district"]), world["district"])
    first = page()
    assert first.count('class="card case"') == 3 and "第 1 页，共 2 页" in first
    assert 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    # The count above the list is the month's, not the page's.
    assert "4" in first.split('class="hint"')[1].split("</p>")[0]
    second = Client().get(f"/gongkai/320102/{this_month():%Y-%m}/rectification/", {"page": "2"})
    html = second.content.decode()
    assert second.status_code == 200 and html.count('class="card case"') == 1 and 'id="case-4"' in html
    assert 'href="?page=1" rel="prev"' in html and 'rel="next"' not in html
    # A page out of range or not a number is the last or the first page, never an error.
    url = f"/gongkai/320102/{this_month():%Y-%m}/rectification/"
    assert 'id="case-4"' in Client().get(url, {"page": "99"}).content.decode()
    assert 'id="case-1"' in Client().get(url, {"page": "x"}).content.decode()
