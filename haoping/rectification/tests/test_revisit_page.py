"""The evaluator's revisit page works without cookies and keeps the answer when it cannot be saved."""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from haoping.rectification.links import revisit_token
from haoping.rectification.models import BadReviewCase
from haoping.rectification.tests.conftest import Clock
from haoping.rectification.tests.support import act_ok, bad_case, to_handling

NOTE = "窗口已经改了，谢谢"


@pytest.fixture
def replied(world: dict[str, Any], record_payload: Any, clock: Clock) -> BadReviewCase:
    case = bad_case(world, record_payload)
    to_handling(world["api"], case.pk)
    act_ok(world["api"], case.pk, "rectify", description="已整改")
    act_ok(world["api"], case.pk, "reply", answer="已整改，请评价")
    return case


def signed(html: str) -> dict[str, str]:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match
    return {"form_token": match.group(1)}


def test_answered_without_any_cookie(replied: BadReviewCase) -> None:
    path = f"/v/{revisit_token(replied.public_id)}/"
    token = signed(Client().get(path).content.decode())
    res = Client(enforce_csrf_checks=True).post(path, {**token, "satisfied": "yes", "note": NOTE})
    assert res.status_code == 302
    replied.refresh_from_db()
    assert replied.satisfied is True


@pytest.mark.parametrize("token", [{}, {"form_token": "forged"}])
def test_a_bad_form_token_keeps_the_answer(replied: BadReviewCase, token: dict[str, str]) -> None:
    path = f"/v/{revisit_token(replied.public_id)}/"
    client = Client(enforce_csrf_checks=True)
    res = client.post(path, {**token, "satisfied": "no", "note": NOTE})
    html = res.content.decode()
    assert res.status_code == 403 and "请核对您的选择后再次提交" in html
    assert NOTE in html and 'value="no" checked' in html
    replied.refresh_from_db()
    assert replied.satisfied is None
    assert client.post(path, {**signed(html), "satisfied": "no", "note": NOTE}).status_code == 302


def test_a_busy_database_keeps_the_answer(replied: BadReviewCase) -> None:
    path = f"/v/{revisit_token(replied.public_id)}/"
    client = Client()
    token = signed(client.get(path).content.decode())
    with mock.patch("haoping.rectification.views.case_revisit_by_evaluator", side_effect=OperationalError("locked")):
        res = client.post(path, {**token, "satisfied": "yes", "note": NOTE})
    html = res.content.decode()
    assert res.status_code == 503 and "系统繁忙" in html and NOTE in html and 'value="yes" required checked' in html
