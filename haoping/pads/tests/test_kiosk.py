"""R22: a self-service kiosk sends the applicant to the rating page with ?return=<its home>; the
page goes back only to an address a kiosk platform of the service's region lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from haoping.directory.models import Platform
from haoping.evaluations.models import Evaluation
from haoping.records.links import token_for
from haoping.records.models import RatingSlot

HOME = "https://kiosk.example.gov.cn/home/"


@pytest.fixture
def kiosk_link(world: dict[str, Any], record_payload: Any) -> str:
    Platform.objects.create(
        code="K-XW",
        name="自助终端",
        kind="kiosk",
        region=world["city"],
        kiosk_return_urls=f"{HOME}\nhttps://other.example/\n",
    )
    assert world["api"].post("/records", record_payload(record_no="KIOSK-1")).status_code == 201
    return f"/r/{token_for(RatingSlot.objects.get(record__record_no='KIOSK-1').public_id)}/"


def _form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/home/",
        "https://kiosk.example.gov.cn.evil.example/home/",
        "http://kiosk.example.gov.cn/home/",  # another scheme
        "https://kiosk.example.gov.cn/homepage",  # not under /home/
        "javascript:alert(1)",
        "//evil.example/",
        "https://kiosk.example.gov.cn\\@evil.example/home/",
    ],
)
def test_an_address_nobody_listed_is_refused(kiosk_link: str, back: str) -> None:
    page = Client().get(kiosk_link + "?return=" + quote(back, safe=""))
    assert page.status_code == 400 and "return" in page.content.decode()
    assert back not in page.content.decode() or "href" not in page.content.decode().split(back)[0][-10:]


def test_a_listed_kiosk_home_is_where_the_page_goes_back(kiosk_link: str) -> None:
    client = Client()
    back = HOME + "index.html?lang=zh"
    page = client.get(kiosk_link + "?return=" + quote(back, safe=""))
    text = page.content.decode()
    assert page.status_code == 200 and "kiosk.js" in text and 'data-kiosk-return="' in text
    assert 'name="return"' in text
    done = client.post(
        kiosk_link, {"form_token": _form_token(text), "level": "5", "return": back, "rated_by": "applicant"}
    )
    assert done.status_code == 302 and "return=" in done["Location"]
    receipt = client.get(done["Location"]).content.decode()
    assert 'data-kiosk-after="10"' in receipt and 'id="kiosk-home"' in receipt
    # The kiosk's channel (R22), through the same submission.
    assert Evaluation.objects.get().channel == "kiosk"


def test_a_region_without_such_a_kiosk_allows_no_return(world: dict[str, Any], record_payload: Any) -> None:
    Platform.objects.create(code="K-QH", name="自助终端", kind="kiosk", region=world["other"], kiosk_return_urls=HOME)
    assert world["api"].post("/records", record_payload(record_no="KIOSK-2")).status_code == 201
    link = f"/r/{token_for(RatingSlot.objects.get(record__record_no='KIOSK-2').public_id)}/"
    assert Client().get(link + "?return=" + quote(HOME, safe="")).status_code == 400


def test_without_a_return_the_page_is_as_before(kiosk_link: str) -> None:
    text = Client().get(kiosk_link).content.decode()
    assert "kiosk.js" not in text and "data-kiosk-return" not in text
