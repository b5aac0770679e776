"""Large text and high contrast (适老化): a link on each applicant page, kept by a cookie."""

from __future__ import annotations

from typing import Any

from django.test import Client

from haoping.pads.tests.support import bound_pad, manager


def test_the_switch_is_kept_and_goes_back_to_the_page(world: dict[str, Any]) -> None:
    client = Client()
    page = client.get("/h/H-XW/").content.decode()
    assert 'id="text-size"' in page and 'class=" large"' not in page
    on = client.get("/text-size/?large=1&next=/h/H-XW/")
    assert on.status_code == 302 and on["Location"] == "/h/H-XW/"
    assert '<body class=" large"' in client.get("/h/H-XW/").content.decode()
    off = client.get("/text-size/?large=0&next=/h/H-XW/")
    assert off.status_code == 302 and 'large"' not in client.get("/h/H-XW/").content.decode().split("<body")[1][:40]


def test_the_switch_never_leads_off_the_site(world: dict[str, Any]) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert Client().get("/text-size/", {"large": "1", "next": target})["Location"] == "/"


def test_the_pad_has_it_too(world: dict[str, Any]) -> None:
    tablet = bound_pad(manager("xw", world["district"]), "W-XW-01")
    tablet.get("/text-size/?large=1&next=/pad/")
    assert 'class="pad idle large"' in tablet.get("/pad/").content.decode()
