"""The rating page for every applicant: no cookie needed, nothing lost to an expired page, a busy
database or a rate limit; QR codes that render; HEAD like GET; a receipt that promises only what is true."""

from __future__ import annotations

import asyncio
import io
import re
import time
import xml.etree.ElementTree as ET
from typing import Any
from unittest import mock

import pytest
import zxingcpp
from django.core import signing
from django.db import OperationalError
from django.test import Client
from PIL import Image

from haoping.errors import Busy
from haoping.evaluations.models import Evaluation
from haoping.evaluations.tests.test_fastpath import _asgi_call
from haoping.evaluations.tests.test_rating_page import form_token, page_path
from haoping.tests.test_recordpath import application  # noqa: F401  (the served application)

COMMENT = "窗口工作人员让我跑了三趟"


def bad_rating(token: dict[str, str]) -> dict[str, Any]:
    return {**token, "level": "2", "reasons": ["efficiency"], "comment": COMMENT}


def assert_kept(html: str) -> None:
    """The page shows again what the applicant entered."""
    assert COMMENT in html
    checked = [re.sub(r' id="[^"]*"', "", tag) for tag in re.findall(r"<input[^>]* checked>", html)]
    assert checked == [
        '<input type="radio" name="level" value="2" required checked>',
        '<input type="checkbox" name="reasons" value="efficiency" checked>',
    ]


def test_a_rating_posted_without_any_cookie_is_stored(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    token = form_token(Client(), url)
    # A browser that keeps no cookie: a fresh client, with Django's CSRF check enforced.
    res = Client(enforce_csrf_checks=True).post(url, bad_rating(token))
    assert res.status_code == 302, res.content.decode()[:500]
    assert Evaluation.objects.get().comment == COMMENT


@pytest.mark.parametrize("problem", ["missing", "forged", "other_link", "expired"])
def test_a_form_token_that_does_not_hold_keeps_the_input(
    world: dict[str, Any], record_payload: Any, problem: str
) -> None:
    url = page_path(world, record_payload)
    client = Client(enforce_csrf_checks=True)
    if problem == "missing":
        token: dict[str, str] = {}
    elif problem == "forged":
        token = {"form_token": form_token(client, url)["form_token"][:-3] + "AAA"}
    elif problem == "other_link":
        token = form_token(client, page_path(world, record_payload, record_no="OTHER-1"))
    else:
        long_ago = signing.b62_encode(int(time.time()) - 7 * 60 * 60)
        with mock.patch.object(signing.TimestampSigner, "timestamp", return_value=long_ago):
            token = form_token(client, url)
    res = client.post(url, bad_rating(token))
    html = res.content.decode()
    assert res.status_code == 403
    assert "您的评价尚未提交" in html and "CSRF" not in html
    assert_kept(html)
    assert Evaluation.objects.count() == 0
    # The page came back with a fresh token: pressing the button again stores the rating.
    again = client.post(url, bad_rating(form_token_from(html)))
    assert again.status_code == 302 and Evaluation.objects.get().comment == COMMENT


def form_token_from(html: str) -> dict[str, str]:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match
    return {"form_token": match.group(1)}


@pytest.mark.parametrize(
    "busy", [OperationalError("database is locked"), Busy("busy", "busy")], ids=["unreachable", "retries_spent"]
)
def test_a_busy_database_keeps_the_rating_on_the_page(
    world: dict[str, Any], record_payload: Any, busy: Exception
) -> None:
    url = page_path(world, record_payload)
    client = Client()
    with mock.patch("haoping.evaluations.views.evaluation_submit", side_effect=busy):
        res = client.post(url, bad_rating(form_token(client, url)))
    html = res.content.decode()
    assert res.status_code == 503
    assert "系统繁忙，评价没有保存" in html
    assert_kept(html)
    assert Evaluation.objects.count() == 0
    again = client.post(url, bad_rating(form_token_from(html)))
    assert again.status_code == 302 and Evaluation.objects.count() == 1


def test_the_receipt_promises_only_what_is_true(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    client = Client()
    res = client.post(url, bad_rating(form_token(client, url)))
    html = client.get(res["Location"]).content.decode()
    # Nothing public can look a receipt up yet, and an answer reaches only a known number.
    assert "以便查询评价处理情况" not in html and "处理结果将与您联系反馈" not in html
    assert "工作人员可凭此找到您的评价" in html and "如您办理时留有手机号码" in html


def test_head_answers_like_get_without_a_body(world: dict[str, Any], record_payload: Any) -> None:
    url = page_path(world, record_payload)
    client = Client()
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head["Content-Length"]) > 1000 and head["Content-Type"].startswith("text/html")
    qr = client.head(url + "qr.svg")
    assert qr.status_code == 200 and qr.content == b"" and qr["Content-Type"] == "image/svg+xml"
    png = client.head(url + "qr.png")
    assert png.status_code == 200 and png.content == b"" and png["Content-Type"] == "image/png"
    assert int(png["Content-Length"]) == len(client.get(url + "qr.png").content) > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_head_through_the_served_application_answers_like_get_without_a_body(
    world: dict[str, Any],
    record_payload: Any,
    application: Any,  # noqa: F811 (the fixture)
) -> None:
    # The test client drops a HEAD answer's body itself; the served ASGI application (gate and fast
    # paths in front of Django) must send none.
    url = page_path(world, record_payload)
    paths = [url, url + "qr.svg", url + "qr.png"]

    async def calls(method: str) -> list[tuple[int, dict[bytes, bytes], bytes]]:
        return [await _asgi_call(application, method, path, [("host", "testserver")]) for path in paths]

    heads, gets = asyncio.run(calls("HEAD")), asyncio.run(calls("GET"))
    for path, head, get in zip(paths, heads, gets, strict=True):
        head_headers = {k.lower(): v for k, v in head[1].items()}
        get_headers = {k.lower(): v for k, v in get[1].items()}
        assert head[0] == get[0] == 200 and get[2], path
        assert head[2] == b"", path
        assert head_headers[b"content-type"] == get_headers[b"content-type"], path
        if b"content-length" in head_headers:
            assert int(head_headers[b"content-length"]) == len(get[2]), path


def test_the_qr_codes_are_images_of_the_link(world: dict[str, Any], record_payload: Any) -> None:
    res = world["api"].post("/records", record_payload())
    link = res.json()["completion"]["evaluation_url"]
    qr_url = res.json()["completion"]["qr_url"].removeprefix("http://127.0.0.1:8000")
    svg = Client().get(qr_url)
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(svg.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.attrib["width"]) > 0 and float(root.attrib["height"]) > 0
    png = Client().get(qr_url.removesuffix(".svg") + ".png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.width >= 100
    decoded = zxingcpp.read_barcodes(image.convert("L"))
    assert [code.text for code in decoded] == [link + "?via=qr"]
