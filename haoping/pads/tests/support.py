"""Pads for the tests: a manager registers one, a tablet (a test client) binds it."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from haoping.accounts.models import Membership
from haoping.directory.models import Region


def manager(username: str, region: Region) -> Client:
    user = get_user_model().objects.create_user(username=username, password="x", last_name="周", first_name="明")
    Membership.objects.create(user=user, role=Membership.Role.MANAGER, region=region)
    client = Client()
    client.force_login(user)
    return client


def device_code(console: Client, window_code: str) -> str:
    page = console.post("/console/pads/", {"window": window_code, "label": "柜台平板"})
    assert page.status_code == 200, page.content[:500]
    found = re.search(r'id="device-code">([0-9A-Z-]+)<', page.content.decode())
    assert found, "the console shows the device code"
    return found.group(1)


def bound_pad(console: Client, window_code: str) -> Client:
    tablet = Client()
    answer = tablet.post("/pad/bind/", {"code": device_code(console, window_code)})
    assert answer.status_code == 302 and answer["Location"] == "/pad/"
    return tablet


def visit(api: Any, record_payload: Any, record_no: str, *, window_code: str = "W-XW-01", at: str) -> None:
    body = record_payload(record_no=record_no, on_the_spot=False, completed_at=None, window_code=window_code)
    assert api.post("/records", body).status_code == 201
    res = api.post(f"/records/{record_no}/visits", {"window_code": window_code, "staff_no": "S001", "at": at})
    assert res.status_code == 201, res.content
