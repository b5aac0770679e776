"""Receipts anyone can verify at /gongkai/receipt/: stored, counted or not adopted, sealed in a
chain that verifies to the latest checkpoint; nothing that names the rater; guessing is limited."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from haoping.evaluations.chain import chain_seal
from haoping.evaluations.models import ChainCheckpoint, Evaluation


def receipt_of(record_no: str) -> str:
    return Evaluation.objects.get(record__record_no=record_no).receipt


def test_a_sealed_rating_verifies_and_shows_what_was_rated(world: dict[str, Any], district: dict[str, str]) -> None:
    code = receipt_of("R1")
    client = Client()
    pending = client.get("/gongkai/receipt/", {"code": code}).content.decode()
    assert 'data-chain="pending"' in pending
    assert chain_seal() > 0
    page = client.get("/gongkai/receipt/", {"code": code.lower()})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-chain="sealed"' in html
    latest = ChainCheckpoint.objects.order_by("-number").first()
    assert latest is not None and f"第 {latest.number} 号" in html
    assert "企业开办" in html and "玄武区政务服务中心" in html and "非常满意" in html
    assert "计入公开的评价结果" in html
    # Nothing that names or reaches the rater, the window or the staff member who served.
    for value in ("张三", "13812345678", "320102199001011234", "8123", "王芳", "S001", "1号窗口", "R1"):
        assert value not in html.replace(code, ""), value
    assert "no-store" in page["Cache-Control"]


def test_a_bad_review_found_mistaken_is_shown_as_not_adopted(world: dict[str, Any], district: dict[str, str]) -> None:
    chain_seal()
    html = Client().get("/gongkai/receipt/", {"code": receipt_of("R4")}).content.decode()
    assert "不予采纳" in html and 'data-chain="sealed"' in html
    kept = Client().get("/gongkai/receipt/", {"code": receipt_of("R3")}).content.decode()
    assert "不予采纳" not in kept


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_an_altered_rating_fails_the_check(world: dict[str, Any], district: dict[str, str]) -> None:
    chain_seal()
    evaluation = Evaluation.objects.get(record__record_no="R2")
    # As someone with the database but not the key would: past the append-only trigger.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE evaluations_evaluation SET level = 5 WHERE id = %s", [evaluation.pk])
    html = Client().get("/gongkai/receipt/", {"code": evaluation.receipt}).content.decode()
    assert 'data-chain="broken"' in html and "校验未通过" in html


def test_wrong_codes_are_answered_and_guessing_is_limited(
    world: dict[str, Any], district: dict[str, str], settings: Any
) -> None:
    client = Client()
    form = client.get("/gongkai/receipt/")
    assert form.status_code == 200 and 'name="code"' in form.content.decode()
    malformed = client.get("/gongkai/receipt/", {"code": "1234"})
    assert malformed.status_code == 400 and "XXXX-XXXX-XXXX" in malformed.content.decode()
    unknown = client.get("/gongkai/receipt/", {"code": "AAAA-BBBB-CCCC"})
    assert unknown.status_code == 404 and "没有与此回执码对应的评价" in unknown.content.decode()
    settings.HAOPING_PUBLIC_RATE = "3/m"
    answers = [client.get("/gongkai/receipt/", {"code": f"AAAA-BBBB-CCC{i}"}).status_code for i in range(5)]
    assert 429 in answers and answers[0] == 404
