"""案例库 and bulletins (R19, GB/T 39735 8.4.4): typical cases from closed cases and outstanding good
reviews, anonymised, published, searchable; a bulletin page and PDF of a period's figures and cases."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from haoping.disclosure.services import case_study_create, case_study_publish
from haoping.disclosure.tests.test_public_results import manager, publish, this_month
from haoping.errors import Forbidden, Invalid
from haoping.evaluations.models import Evaluation
from haoping.rectification.models import BadReviewCase


def case(record_no: str) -> BadReviewCase:
    return BadReviewCase.objects.get(record__record_no=record_no)


def rating(record_no: str) -> Evaluation:
    return Evaluation.objects.get(record__record_no=record_no)


@pytest.fixture
def library(world: dict[str, Any], district: dict[str, str]) -> dict[str, Any]:
    actor = manager("m", world["district"])
    bad = case_study_create(
        actor=actor,
        title="效率问题整改",
        text="申请人反映王芳办理慢，电话13812345678；中心已调整窗口排班。",
        source_case=case("R3"),
    )
    good = case_study_create(
        actor=actor, title="一次办好", text="企业开办当天办结，申请人非常满意。", source_evaluation=rating("R1")
    )
    case_study_publish(actor=actor, study=bad)
    case_study_publish(actor=actor, study=good)
    return {"actor": actor, "bad": bad, "good": good}


def test_typical_cases_come_only_from_closed_cases_and_outstanding_reviews(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    actor = manager("m", world["district"])
    assert case("R3").state == BadReviewCase.State.CLOSED
    with pytest.raises(Invalid):
        case_study_create(actor=actor, title="t", text="x", source_case=case("R5"))  # not closed
    with pytest.raises(Invalid):
        case_study_create(actor=actor, title="t", text="x", source_evaluation=rating("R2"))  # level 4
    with pytest.raises(Invalid):
        case_study_create(actor=actor, title="t", text="x")
    with pytest.raises(Forbidden):
        case_study_create(actor=manager("o", world["other"]), title="t", text="x", source_case=case("R3"))
    study = case_study_create(
        actor=actor, title="王芳的窗口", text="王芳，电话13812345678，已整改", source_case=case("R3")
    )
    assert "王芳" not in study.title + study.text and "13812345678" not in study.text
    assert (study.kind, study.tags, study.item.code) == ("bad", ["efficiency"], "ITEM-001")


def test_the_library_lists_published_cases_and_searches_them(world: dict[str, Any], library: dict[str, Any]) -> None:
    client = Client()
    html = client.get("/gongkai/320102/cases/").content.decode()
    assert "效率问题整改" in html and "一次办好" in html
    assert "王芳" not in html and "13812345678" not in html
    year = library["bad"].day.year
    assert "一次办好" not in client.get("/gongkai/320102/cases/", {"kind": "bad"}).content.decode()
    assert "一次办好" not in client.get("/gongkai/320102/cases/", {"tag": "efficiency"}).content.decode()
    assert (
        "效率问题整改" in client.get("/gongkai/320102/cases/", {"item": "企业开办", "year": str(year)}).content.decode()
    )
    assert "效率问题整改" not in client.get("/gongkai/320102/cases/", {"year": str(year - 1)}).content.decode()
    assert "效率问题整改" in client.get("/gongkai/320102/cases/", {"department": "D-MKT"}).content.decode()
    # The city's library holds its districts'; the other district's does not.
    assert "效率问题整改" in client.get("/gongkai/320100/cases/").content.decode()
    assert "效率问题整改" not in client.get("/gongkai/320104/cases/").content.decode()
    assert client.get("/gongkai/999999/cases/").status_code == 404


def test_an_unpublished_case_stays_out(world: dict[str, Any], district: dict[str, str]) -> None:
    actor = manager("m", world["district"])
    case_study_create(actor=actor, title="尚未公开", text="草稿", source_case=case("R3"))
    assert "尚未公开" not in Client().get("/gongkai/320102/cases/").content.decode()


def test_the_bulletin_gathers_the_periods_figures_and_cases(world: dict[str, Any], library: dict[str, Any]) -> None:
    publish(manager("m2", world["district"]), world["district"])
    month = this_month()
    client = Client()
    page = client.get(f"/gongkai/320102/bulletin/{month:%Y-%m}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert ">71.4%<" in html and "效率问题整改" in html and "一次办好" in html
    quarter = f"{month:%Y}-Q{(month.month - 1) // 3 + 1}"
    assert "效率问题整改" in client.get(f"/gongkai/320102/bulletin/{quarter}/").content.decode()
    pdf = client.get(f"/gongkai/320102/bulletin/{month:%Y-%m}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for bad in (
        f"/gongkai/320102/bulletin/{month:%Y}-Q5/",
        "/gongkai/320102/bulletin/2020-01/",
        "/gongkai/320104/bulletin/2020-Q1/",
    ):
        assert client.get(bad).status_code == 404, bad


def test_the_library_is_paged_and_the_pages_keep_the_search(
    world: dict[str, Any], library: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from haoping.disclosure import views

    monkeypatch.setattr(views, "CASES_PAGE", 1)
    client = Client()
    first = client.get("/gongkai/320102/cases/").content.decode()
    assert first.count('class="card study"') == 1
    assert "第 1 页，共 2 页" in first and 'href="?page=2" rel="next"' in first
    second = client.get("/gongkai/320102/cases/", {"page": "2"}).content.decode()
    titles = {"效率问题整改", "一次办好"}
    assert {t for t in titles if t in first} | {t for t in titles if t in second} == titles
    assert not ({t for t in titles if t in first} & {t for t in titles if t in second})
    searched = client.get("/gongkai/320102/cases/", {"department": "D-MKT"}).content.decode()
    assert 'href="?department=D-MKT&amp;page=2" rel="next"' in searched
