"""The phone rating page, through plain HTTP (it works without JavaScript)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.test import Client
from django.utils import timezone

from conftest import iso
from haoping.evaluations.models import Evaluation


def page_path(world: dict[str, Any], record_payload: Any, **overrides: Any) -> str:
    res = world["api"].post("/records", record_payload(**overrides))
    return res.json()["completion"]["evaluation_url"].removeprefix("http://127.0.0.1:8000")


def form_token(client: Client, url: str) -> dict[str, str]:
    """The signed form token of the rating page, as a browser would post it back."""
    html = client.get(url).content.decode()
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return {"form_token": match.group(1)}


def test_page_shows_the_service_and_five_levels(world: dict[str, Any], record_payload: Any) -> None:
    html = Client().get(page_path(world, record_payload)).content.decode()
    for text in (
        "企业开办",
        "玄武区政务服务中心",
        "1号窗口",
        "S001",
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ):
        assert text in html, text
    assert html.count('name="level"') == 5
    assert "<script" not in html
    # Staff never learn who rated them, and the applicant's data is not on the page either.
    assert "张三" not in html and "13812345678" not in html


def test_bad_rating_without_reason_is_refused_then_accepted_with_one(
    world: dict[str, Any], record_payload: Any
) -> None:
    url = page_path(world, record_payload)
    client = Client()
    res = client.post(url, {**form_token(client, url), "level": "2"})
    assert res.status_code == 400 and "请选择原因或填写意见" in res.content.decode()
    assert Evaluation.objects.count() == 0
    res = client.post(
        url + "?via=qr",
        {
            **form_token(client, url),
            "level": "2",
            "reasons": ["efficiency"],
            "comment": "等了很久",
            "q_guide_clear": "3",
        },
    )
    assert res.status_code == 302
    receipt_page = client.get(res["Location"]).content.decode()
    ev = Evaluation.objects.get()
    assert ev.receipt in receipt_page and "不满意" in receipt_page
    assert (ev.level, ev.channel, ev.reasons, ev.comment, ev.answers) == (
        2,
        "qrcode",
        ["efficiency"],
        "等了很久",
        {"guide_clear": 3},
    )
    again = client.get(url).content.decode()
    assert "已评价" in again and 'name="level"' not in again
    assert client.post(url, {"level": "5"}).status_code == 409
    assert Evaluation.objects.count() == 1


def test_receipt_page_needs_the_right_receipt(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    assert Client().get(url + "done/ABCD-EFGH-JKLM/").status_code == 404


def test_closed_window_page(world: dict[str, Any], record_payload: Any) -> None:
    done = timezone.now() - dt.timedelta(days=8)
    url = page_path(world, record_payload, accepted_at=iso(done - dt.timedelta(hours=1)), completed_at=iso(done))
    client = Client()
    assert "评价期限已过" in client.get(url).content.decode()
    assert client.post(url, {"level": "5"}).status_code == 410
    assert Evaluation.objects.count() == 0


def test_agent_can_say_who_is_rating(world: dict[str, Any], record_payload: Any) -> None:
    agent = {"kind": "person", "name": "赵六", "phone": "13900001111", "id_number": ""}
    url = page_path(world, record_payload, agent=agent)
    client = Client()
    assert 'name="rated_by"' in client.get(url).content.decode()
    assert client.post(url, {**form_token(client, url), "level": "5", "rated_by": "agent"}).status_code == 302
    assert Evaluation.objects.get().rated_by == "agent"


def test_oversized_comment_is_a_form_error(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    client = Client()
    res = client.post(url, {**form_token(client, url), "level": "1", "comment": "长" * 1001})
    assert res.status_code == 400 and Evaluation.objects.count() == 0
