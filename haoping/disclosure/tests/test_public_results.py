"""Published results at /gongkai/: the console's figures, frozen once published, only a region's
subtree, 404 for what is not published, and open-data downloads."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haoping.accounts.access import actor_for_user
from haoping.accounts.models import Membership
from haoping.directory.models import Institution, Window
from haoping.disclosure.models import Publication
from haoping.disclosure.services import disclosure_setting_update, publication_publish
from haoping.errors import Forbidden, Invalid
from haoping.indicators.models import DailyCount
from haoping.indicators.selectors import indicator_counts, object_breakdown
from haoping.indicators.services import month_end, rollups_update


def manager(username: str, region: Any) -> Any:
    user = get_user_model().objects.create_user(username=username, password="x", last_name="管", first_name="理")
    Membership.objects.create(user=user, role="manager", region=region)
    return actor_for_user(user)


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def after(month: dt.date) -> dt.date:
    """A day after the month, so that it can be published."""
    return month_end(month) + dt.timedelta(days=1)


def publish(actor: Any, region: Any, **kwargs: Any) -> Publication:
    month = this_month()
    return publication_publish(actor=actor, region=region, month=month, today=after(month), **kwargs)


def shown_rates(html: str, section: str) -> dict[str, str]:
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return dict(re.findall(r'data-rate="(\w+)">([^<]*)<', part))


def test_the_published_month_shows_the_consoles_figures(world: dict[str, Any], district: dict[str, str]) -> None:
    actor = manager("m", world["district"])
    publication = publish(actor, world["district"])
    month = this_month()
    page = Client().get(f"/gongkai/320102/{month:%Y-%m}/")
    assert page.status_code == 200
    html = page.content.decode()
    # As the dashboard test computes them: 好评率 5/7, 主动好评率 2/5, 未评率 2/7, 回复率 2/3, 整改率 1/2, 满意率 1/1.
    assert shown_rates(html, "month") == {
        "good_rate": "71.4%",
        "active_good_rate": "40.0%",
        "unrated_rate": "28.6%",
        "reply_rate": "66.7%",
        "rectification_rate": "50.0%",
        "rectification_satisfaction_rate": "100.0%",
    }
    console = indicator_counts(
        kind=DailyCount.Kind.REGION, object_id=None, first=month, last=month_end(month), within=world["district"]
    )
    assert publication.figures["whole"]["month"] == console
    halls = object_breakdown(kind="institution", first=month, last=month_end(month), within=world["district"])
    published_hall = next(line for line in publication.figures["institutions"] if line["code"] == "H-XW")
    assert published_hall["month"] == halls[world["hall"].pk]["counts"]
    # The last of the 12 months is this one.
    assert publication.figures["whole"]["trend"][-1] == [f"{month:%Y-%m}", console]
    assert len(publication.figures["whole"]["trend"]) == 12
    assert "玄武区政务服务中心" in html and "企业开办" in html and "市场监督管理局" in html
    assert page["Cache-Control"].startswith("public") or "public" in page["Cache-Control"]
    # The latest month at the region's own address.
    assert Client().get("/gongkai/320102/").content.decode().count("71.4%") >= 1


def test_a_published_month_stays_fixed_until_republished_with_a_dated_note(
    world: dict[str, Any], district: dict[str, str], record_payload: Any
) -> None:
    actor = manager("m", world["district"])
    publish(actor, world["district"])
    url = f"/gongkai/320102/{this_month():%Y-%m}/"
    before = shown_rates(Client().get(url).content.decode(), "month")
    api = world["api"]
    assert api.post("/records", record_payload(record_no="R9")).status_code == 201
    assert api.post("/evaluations", {"record_no": "R9", "level": 5, "channel": "pad"}).status_code == 201
    rollups_update()
    assert shown_rates(Client().get(url).content.decode(), "month") == before
    with pytest.raises(Invalid) as refused:
        publish(actor, world["district"])
    assert refused.value.code == "note_required"
    publish(actor, world["district"], note="补录一条窗口评价")
    html = Client().get(url).content.decode()
    # 6 good of 8 now: 75.0%.
    assert shown_rates(html, "month")["good_rate"] == "75.0%"
    assert f"{timezone.localdate():%Y-%m-%d}" in html and "补录一条窗口评价" in html
    correction = Publication.objects.get().corrections.get()
    assert correction.replaced_figures["whole"]["month"]["total"] == 7


def test_a_month_not_over_cannot_be_published_and_others_regions_are_refused(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    actor = manager("m", world["district"])
    with pytest.raises(Invalid) as early:
        publication_publish(actor=actor, region=world["district"], month=this_month(), today=timezone.localdate())
    assert early.value.code == "month_not_over"
    outsider = manager("o", world["other"])
    with pytest.raises(Forbidden):
        publish(outsider, world["district"])
    # A city manager may publish the district below it.
    assert publish(manager("c", world["city"]), world["district"]).region == world["district"]


def test_unpublished_months_and_regions_are_not_found(world: dict[str, Any], district: dict[str, str]) -> None:
    client = Client()
    month = f"{this_month():%Y-%m}"
    assert client.get(f"/gongkai/320102/{month}/").status_code == 404
    assert client.get("/gongkai/320102/").status_code == 404
    publish(manager("m", world["district"]), world["district"])
    assert client.get(f"/gongkai/320102/{month}/").status_code == 200
    for url in (
        "/gongkai/320104/",
        f"/gongkai/320104/{month}/",
        f"/gongkai/320100/{month}/",
        "/gongkai/320102/2020-01/",
        "/gongkai/320102/2026-13/",
        "/gongkai/320102/２０２６-01/",
        f"/gongkai/320102/{month}/institutions/H-QH/",
        f"/gongkai/320102/{month}/staff.csv",
        f"/gongkai/320102/{month}/institutions.xml",
    ):
        assert client.get(url).status_code == 404, url


def test_a_region_publishes_only_its_subtree(
    world: dict[str, Any], district: dict[str, str], record_payload: Any
) -> None:
    other = world["other_api"]
    body = record_payload(
        record_no="Q1", item_code="ITEM-QH", institution_code="H-QH", window_code="W-QH-01", staff_no="S-QH"
    )
    assert other.post("/records", body).status_code == 201
    assert other.post("/evaluations", {"record_no": "Q1", "level": 5, "channel": "pad"}).status_code == 201
    rollups_update()
    district_page = publish(manager("m", world["district"]), world["district"])
    codes = [line["code"] for line in district_page.figures["institutions"]]
    assert codes == ["H-XW"]
    assert "ITEM-QH" not in [line["code"] for line in district_page.figures["items"]]
    city = publish(manager("c", world["city"]), world["city"])
    assert sorted(line["code"] for line in city.figures["institutions"]) == ["H-QH", "H-XW"]
    assert [r["code"] for r in city.figures["regions"]] == ["320102", "320104"]
    html = Client().get(f"/gongkai/320100/{this_month():%Y-%m}/").content.decode()
    # The district is published, so its line links to it; 秦淮区 is not.
    assert f'href="/gongkai/320102/{this_month():%Y-%m}/"' in html
    assert f'href="/gongkai/320104/{this_month():%Y-%m}/"' not in html


def test_staff_appear_only_by_number_and_only_when_chosen(world: dict[str, Any], district: dict[str, str]) -> None:
    actor = manager("m", world["district"])
    first = publish(actor, world["district"])
    assert first.figures["staff"] == []
    disclosure_setting_update(
        actor=actor,
        region=world["district"],
        show_institutions=True,
        show_departments=False,
        show_items=True,
        show_staff=True,
    )
    again = publish(actor, world["district"], note="公示窗口人员")
    assert sorted(line["code"] for line in again.figures["staff"]) == ["S001", "S002"]
    assert again.figures["departments"] == []
    html = Client().get(f"/gongkai/320102/{this_month():%Y-%m}/").content.decode()
    assert "S001" in html and "王芳" not in html and "李强" not in html
    assert 'id="departments"' not in html
    download = Client().get(f"/gongkai/320102/{this_month():%Y-%m}/staff.csv").content.decode()
    assert "S002" in download and "王芳" not in download


def test_downloads_carry_the_published_counts_and_rates(world: dict[str, Any], district: dict[str, str]) -> None:
    publication = publish(manager("m", world["district"]), world["district"])
    month = f"{this_month():%Y-%m}"
    client = Client()
    body = client.get(f"/gongkai/320102/{month}/summary.json").json()
    first = body["rows"][0]
    assert (first["period"], first["total"], first["valid_bad"], first["good_rate"]) == ("month", 7, 2, 71.43)
    text = client.get(f"/gongkai/320102/{month}/institutions.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    hall = publication.figures["institutions"][0]
    assert rows[0]["code"] == "H-XW" and int(rows[0]["total"]) == hall["month"]["total"]
    assert rows[0]["rectification_satisfaction_rate"] == "100.0"
    trend = json.loads(client.get(f"/gongkai/320102/{month}/trend.json").content)
    assert len(trend["rows"]) == 12 and trend["rows"][-1]["total"] == 7


def test_halls_rank_only_with_enough_ratings(world: dict[str, Any], district: dict[str, str], settings: Any) -> None:
    settings.HAOPING_RANKING_MIN_SAMPLE = 8
    unranked = publish(manager("m", world["district"]), world["district"])
    assert unranked.figures["institutions"][0]["rank"] is None
    settings.HAOPING_RANKING_MIN_SAMPLE = 7
    ranked = publish(manager("m2", world["district"]), world["district"], note="样本门槛")
    assert ranked.figures["institutions"][0]["rank"] == 1
    page = Client().get(f"/gongkai/320102/{this_month():%Y-%m}/institutions/H-XW/").content.decode()
    assert "1" in page and "71.4%" in page


def test_the_public_page_reads_only_the_published_figures(world: dict[str, Any], district: dict[str, str]) -> None:
    region = world["district"]
    publish(manager("m", region), region)
    url = f"/gongkai/320102/{this_month():%Y-%m}/"
    with CaptureQueriesContext(connection) as small:
        assert Client().get(url).status_code == 200
    # Many more halls with ratings: the page reads the same rows.
    for i in range(30):
        hall = Institution.objects.create(code=f"H-{i}", name=f"便民服务站{i}", kind="station", region=region)
        Window.objects.create(code=f"W-{i}", name="窗口", institution=hall, department=world["window"].department)
    publish(manager("m2", region), region, note="多站点")
    with CaptureQueriesContext(connection) as large:
        assert Client().get(url).status_code == 200
    tables = {q["sql"].split('FROM "', 1)[1].split('"', 1)[0] for q in large.captured_queries if 'FROM "' in q["sql"]}
    assert tables <= {"disclosure_publication", "directory_region", "disclosure_publicationcorrection"}, tables
    assert len(large.captured_queries) == len(small.captured_queries) <= 5


def test_the_console_publishes_for_managers_only(world: dict[str, Any], district: dict[str, str]) -> None:
    user = get_user_model().objects.create_user(username="m", password="x")
    Membership.objects.create(user=user, role="manager", region=world["district"])
    client = Client()
    client.force_login(user)
    assert client.get("/console/disclosure/").status_code == 200
    month = (this_month() - dt.timedelta(days=1)).replace(day=1)
    done = client.post("/console/disclosure/", {"region": "320102", "action": "publish", "month": f"{month:%Y-%m}"})
    assert done.status_code == 302
    assert Publication.objects.filter(region=world["district"], month=month).exists()
    again = client.post("/console/disclosure/", {"region": "320102", "action": "publish", "month": f"{month:%Y-%m}"})
    assert again.status_code == 422 and "更正说明" in again.content.decode()
    bad = client.post("/console/disclosure/", {"region": "320102", "action": "publish", "month": "2026-1"})
    assert bad.status_code == 400
    staff = get_user_model().objects.create_user(username="s", password="x")
    Membership.objects.create(user=staff, role="staff", staff=world["staff"])
    other = Client()
    other.force_login(staff)
    assert other.get("/console/disclosure/").status_code == 404
