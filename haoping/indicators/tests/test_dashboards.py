"""Dashboards through a browser's eyes: who sees which region, what the numbers say, and that
the staff member's own page never says who rated them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from haoping.accounts.models import Membership
from haoping.directory.models import Staff
from haoping.indicators.services import rollups_update
from haoping.indicators.tests.conftest import act


def login(username: str, **membership: Any) -> Client:
    user = get_user_model().objects.create_user(username=username, password="x")
    if membership:
        Membership.objects.create(user=user, **membership)
    client = Client()
    client.force_login(user)
    return client


def test_the_district_manager_reads_the_overview(world: dict[str, Any], district: dict[str, str]) -> None:
    manager = login("m", role="manager", region=world["district"])
    page = manager.get(f"/console/indicators/?from={district['from']}&to={district['to']}")
    assert page.status_code == 200
    html = page.content.decode()
    # 好评率 5/7, 主动评价好评率 2/5, 未评率 2/7, 差评回复率 2/3, 回访整改率 1/2, 满意率 1/1
    import re

    shown = dict(re.findall(r'data-rate="(\w+)">([^<]*)<', html))
    assert shown == {
        "good_rate": "71.4%",
        "active_good_rate": "40.0%",
        "unrated_rate": "28.6%",
        "reply_rate": "66.7%",
        "rectification_rate": "50.0%",
        "rectification_satisfaction_rate": "100.0%",
    }
    assert "玄武区政务服务中心" in html and "/console/indicators/institution/H-XW/" in html
    assert "echarts.min.js" in html and 'id="chart-data"' in html


def test_drill_down_to_the_hall_its_windows_and_a_staff_member(world: dict[str, Any], district: dict[str, str]) -> None:
    manager = login("m", role="manager", region=world["city"])
    period = f"?from={district['from']}&to={district['to']}"
    hall = manager.get(f"/console/indicators/institution/H-XW/{period}").content.decode()
    assert "1号窗口" in hall and "2号窗口" in hall and "/console/indicators/staff/S002/" in hall
    staff = manager.get(f"/console/indicators/staff/S002/{period}")
    assert staff.status_code == 200 and ">66.7%<" in staff.content.decode()


def test_a_manager_elsewhere_sees_nothing_of_the_district(world: dict[str, Any], district: dict[str, str]) -> None:
    other = login("o", role="manager", region=world["other"])
    assert other.get("/console/indicators/?region=320102").status_code == 404
    assert other.get("/console/indicators/institution/H-XW/").status_code == 404
    assert other.get("/console/indicators/staff/S002/").status_code == 404
    outsider = login("x")
    assert outsider.get("/console/indicators/").status_code == 404
    handler = login("h", role="handler", department=world["item"].department)
    assert handler.get("/console/indicators/").status_code == 404


def test_my_ratings_shows_what_was_said_never_who(world: dict[str, Any], district: dict[str, str]) -> None:
    staff = login("s", role="staff", staff=Staff.objects.get(staff_no="S001"))
    page = staff.get(f"/console/my/?from={district['from']}&to={district['to']}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "我的评价" in html and ">75.0%<" in html  # S001: R1 R2 R3 R7, one bad of four
    assert "张三" not in html and "13812345678" not in html and "张" not in html
    assert staff.get("/console/indicators/").status_code == 404
    # R10: no narrowing one's own figures to a channel (on a day, it could point to who rated).
    narrowed = staff.get(f"/console/my/?from={district['from']}&to={district['to']}&channel=sms").content.decode()
    assert ">75.0%<" in narrowed and 'name="channel"' not in narrowed


def test_the_overview_does_not_grow_with_the_ratings(
    world: dict[str, Any], district: dict[str, str], record_payload: Any
) -> None:
    manager = login("m", role="manager", region=world["district"])
    url = f"/console/indicators/?from={district['from']}&to={district['to']}"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager.get(url).status_code == 200
        return len(captured)

    before = queries()
    for n, channel in enumerate(["pc", "sms", "kiosk", "qrcode", "pad"]):
        assert (
            world["api"]
            .post("/records", record_payload(record_no=f"MORE-{n}", window_code="W-XW-02", staff_no="S002"))
            .status_code
            == 201
        )
        assert (
            world["api"].post("/evaluations", {"record_no": f"MORE-{n}", "level": 4, "channel": channel}).status_code
            == 201
        )
    rollups_update()
    assert queries() == before


def test_rankings_leave_out_small_samples_and_mark_the_key_targets(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    manager = login("m", role="manager", region=world["district"])
    period = f"from={district['from']}&to={district['to']}"

    def table(query: str) -> tuple[list[list[str]], str]:
        import re

        html = manager.get(f"/console/indicators/rankings/?{period}&{query}").content.decode()
        body = html[html.index('id="ranking"') :].split("</table>")[0]
        rows = [
            [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
            for row in body.split("<tr")[2:]
        ]
        return [r[:4] for r in rows if r], html

    # S001: R1 R2 R3 R7, good 3/4; S002: R4 (invalid) R5 R6 (default), good 2/3.
    rows, html = table("by=staff&rate=good_rate&min=1&lowest=1")
    assert rows == [["1", "王芳（S001）", "75.0%", "4"], ["2", "李强（S002）", "66.7%", "3"]]
    watch = html[html.index('id="watch"') :].split("</section>")[0]
    assert "李强" in watch and "王芳" not in watch
    rows, html = table("by=staff&rate=good_rate&min=4&lowest=0")
    assert rows == [["1", "王芳（S001）", "75.0%", "4"]]
    assert "本排名没有重点评测对象" in html and "不参与排名" in html
    # Under a threshold instead of the lowest ones.
    rows, html = table("by=staff&rate=active_good_rate&min=1&lowest=0&below=45")
    assert [r[1] for r in rows] == ["王芳（S001）", "李强（S002）"]  # 2/4 = 50.0 %, 0/1 = 0.0 %
    assert "李强" in html[html.index('id="watch"') :].split("</section>")[0]
    other = login("o", role="manager", region=world["other"])
    assert "王芳" not in other.get(f"/console/indicators/rankings/?{period}&by=staff&min=1").content.decode()


def test_hot_problems_show_the_words_of_valid_bad_reviews_without_personal_data(
    world: dict[str, Any], district: dict[str, str], record_payload: Any
) -> None:
    api = world["api"]
    comments = ["排队时间太长，叫号系统混乱", "排队两个小时，请回电13812345678", "叫号系统又坏了"]
    for n, comment in enumerate(comments):
        # Three people: one person's words count once (test_problems.py).
        someone = {"kind": "person", "name": "李四", "phone": f"1390000{n:04d}", "id_number": ""}
        body = record_payload(record_no=f"HOT-{n}", item_code="ITEM-002", applicant=someone)
        assert api.post("/records", body).status_code == 201
        assert (
            api.post(
                "/evaluations", {"record_no": f"HOT-{n}", "level": 1, "channel": "pad", "comment": comment}
            ).status_code
            == 201
        )
    # One more, found mistaken: never an example of a problem.
    assert api.post("/records", record_payload(record_no="HOT-X", item_code="ITEM-002")).status_code == 201
    body = {"record_no": "HOT-X", "level": 1, "channel": "pad", "comment": "这条是点错了"}
    assert api.post("/evaluations", body).status_code == 201
    act(
        api,
        "HOT-X",
        ("contact", {"note": "已联系"}),
        ("classify", {"category": "mistaken"}),
        ("request_invalidation", {"reason": "误点差评"}),
        ("approve_invalidation", {"note": "同意"}),
        decider=world["manager_api"],
    )
    assert api.post("/records", record_payload(record_no="HOT-3", item_code="ITEM-002")).status_code == 201
    body = {"record_no": "HOT-3", "level": 2, "channel": "pad", "comment": "窗口人员态度差"}
    assert api.post("/evaluations", body).status_code == 201
    rollups_update()
    manager = login("m", role="manager", region=world["district"])
    html = manager.get(f"/console/indicators/problems/?from={district['from']}&to={district['to']}").content.decode()
    section = html[html.index("食品经营许可") :].split("</section>")[0]
    assert '<span class="tag">排队 2</span>' in section and '<span class="tag">叫号系统 2</span>' in section
    assert "13812345678" not in html and "排队两个小时，请回电***" in section
    # The three latest valid ones: the oldest and the mistaken one are not shown.
    assert "窗口人员态度差" in section and "叫号系统又坏了" in section
    assert "排队时间太长" not in section and "这条是点错了" not in section
    # ITEM-001: the reason tag "efficiency" shows by its label.
    first = html[html.index("企业开办") :].split("</section>")[0]
    assert "办理慢、等候时间长 1<" in first  # R3 only: R4 was found mistaken, R5 (phone) gave no reason


def test_a_window_a_department_an_item_and_a_platform_have_their_pages(
    world: dict[str, Any], district: dict[str, str]
) -> None:
    import re

    manager = login("m", role="manager", region=world["district"])
    period = f"?from={district['from']}&to={district['to']}"
    linked = period.replace("&", "&amp;")  # as it appears in a link

    def good_rate(html: str) -> str:
        return dict(re.findall(r'data-rate="(\w+)">([^<]*)<', html))["good_rate"]

    hall = manager.get(f"/console/indicators/institution/H-XW/{period}").content.decode()
    assert f"/console/indicators/window/W-XW-02/{linked}" in hall
    # Window 2: R4 (not adopted), R5 (bad), R6 (default): 2 of 3 good.
    window = manager.get(f"/console/indicators/window/W-XW-02/{period}").content.decode()
    assert good_rate(window) == "66.7%" and "李强" in window and "/console/indicators/staff/S002/" in window
    assert "/console/indicators/institution/H-XW/" in window  # back up to the hall
    # The department and the item hold all seven ratings of the district.
    department = manager.get(f"/console/indicators/department/D-MKT/{period}").content.decode()
    assert good_rate(department) == "71.4%" and f"/console/indicators/item/ITEM-001/{linked}" in department
    item = manager.get(f"/console/indicators/item/ITEM-001/{period}").content.decode()
    assert good_rate(item) == "71.4%" and 'id="chart-data"' in item
    # An upper-level item is read within the district; nothing was rated there: no data, not 0 %.
    assert good_rate(manager.get(f"/console/indicators/item/ITEM-CITY/{period}").content.decode()) == "—"
    assert good_rate(manager.get(f"/console/indicators/platform/P-WEB/{period}").content.decode()) == "—"
    for path in ("item/ITEM-QH", "window/W-QH-01", "department/D-OTHER", "hall/H-XW", "window/NOPE"):
        assert manager.get(f"/console/indicators/{path}/").status_code == 404, path
    other = login("o", role="manager", region=world["other"])
    for path in ("window/W-XW-01", "department/D-MKT", "platform/P-WEB", "item/ITEM-001"):
        assert other.get(f"/console/indicators/{path}/").status_code == 404, path


def test_the_trend_by_week_and_the_usual_periods(world: dict[str, Any], district: dict[str, str]) -> None:
    import datetime as dt

    from django.utils import timezone

    from haoping.indicators.selectors import region_overview

    first, last = dt.date.fromisoformat(district["from"]), dt.date.fromisoformat(district["to"])
    weeks = region_overview(region=world["district"], first=first, last=last, trend="week")["days"]
    assert weeks and all(w["day"].weekday() == 0 for w in weeks)
    assert sum(w["counts"]["total"] for w in weeks) == 7
    manager = login("m", role="manager", region=world["district"])
    html = manager.get(f"/console/indicators/?from={first}&to={last}&trend=week").content.decode()
    assert '<strong aria-current="true">按周</strong>' in html and "周起始" in html
    assert "trend=day" in html  # the way back to days
    today = timezone.localdate()
    assert f'region=320102&trend=week&from={today.replace(day=1)}&to={today}">本月</a>' in html


def test_rankings_link_to_each_object(world: dict[str, Any], district: dict[str, str]) -> None:
    manager = login("m", role="manager", region=world["district"])
    period = f"from={district['from']}&to={district['to']}"
    linked = period.replace("&", "&amp;")
    html = manager.get(f"/console/indicators/rankings/?{period}&min=1").content.decode()
    assert f"/console/indicators/institution/H-XW/?{linked}" in html
    html = manager.get(f"/console/indicators/rankings/?{period}&min=1&by=item").content.decode()
    assert f"/console/indicators/item/ITEM-001/?{linked}" in html


def test_one_channel_on_screen(world: dict[str, Any], district: dict[str, str]) -> None:
    import re

    manager = login("m", role="manager", region=world["district"])
    period = f"from={district['from']}&to={district['to']}&channel=pad"

    def rates(path: str) -> dict[str, str]:
        html = manager.get(f"{path}?{period}").content.decode()
        assert '<option value="pad" selected>' in html
        return dict(re.findall(r'data-rate="(\w+)">([^<]*)<', html))

    # pad: R1 (5), R3 (2, rectified, satisfied), R4 (1, not adopted), R7 (3).
    region = rates("/console/indicators/")
    assert (region["good_rate"], region["active_good_rate"], region["reply_rate"]) == ("75.0%", "33.3%", "50.0%")
    # Window 2 by pad holds R4 alone, not adopted: good, and unrated.
    window = rates("/console/indicators/window/W-XW-02/")
    assert (window["good_rate"], window["unrated_rate"], window["active_good_rate"]) == ("100.0%", "100.0%", "—")
    hall = manager.get(f"/console/indicators/institution/H-XW/?{period}").content.decode()
    assert f"/console/indicators/window/W-XW-01/?{period}".replace("&", "&amp;") in hall


def test_child_regions_sum_their_whole_subtrees(
    world: dict[str, Any], district: dict[str, str], record_payload: Any
) -> None:
    """A city's lines by district (R16): each district with every region below it, and nothing else."""
    from haoping.directory.models import Department, Institution, Window
    from haoping.directory.services import region_create
    from haoping.indicators.selectors import child_regions_breakdown

    other = world["other"]
    town = region_create(code="320104001", name="夫子庙街道", parent=other)
    unit = Department.objects.get(code="D-OTHER")
    town_hall = Institution.objects.create(code="H-TOWN", name="夫子庙街道便民服务中心", kind="station", region=town)
    Window.objects.create(code="W-TOWN-01", name="综合窗口", institution=town_hall, department=unit)
    Staff.objects.create(staff_no="S-TOWN", name="钱七", department=unit, institution=town_hall)
    places = [
        ("QH-1", {"institution_code": "H-QH", "window_code": "W-QH-01", "staff_no": "S-QH"}, 1),
        ("TOWN-1", {"institution_code": "H-TOWN", "window_code": "W-TOWN-01", "staff_no": "S-TOWN"}, 5),
    ]
    for record_no, place, level in places:
        body = record_payload(record_no=record_no, item_code="ITEM-QH", **place)
        assert world["other_api"].post("/records", body).status_code == 201
        rated = world["other_api"].post("/evaluations", {"record_no": record_no, "level": level, "channel": "phone"})
        assert rated.status_code == 201
    rollups_update()
    first, last = dt.date.fromisoformat(district["from"]), dt.date.fromisoformat(district["to"])
    lines = {row["region"].code: row for row in child_regions_breakdown(region=world["city"], first=first, last=last)}
    assert list(lines) == ["320102", "320104"]
    # 玄武区: R1–R5 and R7 rated, R6 defaulted. 秦淮区: its own hall's rating and the town's.
    assert (lines["320102"]["counts"]["total"], lines["320102"]["counts"]["active"]) == (7, 6)
    assert (lines["320104"]["counts"]["total"], lines["320104"]["counts"]["bad"]) == (2, 1)
    assert lines["320104"]["rates"]["good_rate"] == 0.5
