"""Rating links cannot be forged; evaluations are append-only and chained with SM3."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client

from haoping.evaluations.chain import chain_seal, chain_verify
from haoping.evaluations.models import ChainSeal, Evaluation
from haoping.records.links import token_for


def new_token(world: dict[str, Any], record_payload: Any, record_no: str) -> str:
    res = world["api"].post("/records", record_payload(record_no=record_no))
    return res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]


def test_tokens_are_long_random_and_distinct(world: dict[str, Any], record_payload: Any) -> None:
    tokens = {new_token(world, record_payload, f"TK{n}") for n in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        public_id, signature = token.split(".")
        assert len(public_id) >= 16 and len(signature) >= 16


def test_forged_and_altered_tokens_are_refused(world: dict[str, Any], record_payload: Any) -> None:
    api = world["api"]
    token = new_token(world, record_payload, "TK")
    public_id, signature = token.split(".")
    altered_id = ("A" if public_id[0] != "A" else "B") + public_id[1:] + "." + signature
    altered_sig = public_id + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    unknown_but_signed = token_for("x" * 16)
    cases = {altered_id: 403, altered_sig: 403, "garbage": 404, unknown_but_signed: 404, public_id: 404}
    for bad, status in cases.items():
        res = api.post("/evaluations", {"token": bad, "level": 5, "channel": "mobile"})
        assert res.status_code == status, (bad, res.json())
        page = Client().get(f"/r/{bad}/")
        assert page.status_code == status
    assert Evaluation.objects.count() == 0
    assert api.post("/evaluations", {"token": token, "level": 5, "channel": "mobile"}).status_code == 201


def test_token_from_another_region_is_not_found_for_that_key(world: dict[str, Any], record_payload: Any) -> None:
    token = new_token(world, record_payload, "TK-R")
    res = world["other_api"].post("/evaluations", {"token": token, "level": 5, "channel": "pad"})
    assert res.status_code == 404


def rate_some(world: dict[str, Any], record_payload: Any, n: int) -> None:
    for i in range(n):
        token = new_token(world, record_payload, f"CH{i}")
        world["api"].post(
            "/evaluations",
            {"token": token, "level": 1 + i % 5, "channel": "pad", "comment": f"第{i}条", "reasons": ["other"]},
        )


def test_chain_verifies_when_untouched(world: dict[str, Any], record_payload: Any) -> None:
    rate_some(world, record_payload, 5)
    assert chain_seal() == 5
    assert chain_seal() == 0
    checked, problem = chain_verify()
    assert (checked, problem) == (5, None)
    assert list(ChainSeal.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def tamper(sql: str, params: list[Any]) -> None:
    """What an intruder with superuser rights could do: bypass the append-only trigger."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_verify_chain_reports_the_first_altered_row(world: dict[str, Any], record_payload: Any) -> None:
    rate_some(world, record_payload, 6)
    chain_seal()
    ids = list(Evaluation.objects.order_by("id").values_list("id", flat=True))
    tamper("UPDATE evaluations_evaluation SET level = 5 WHERE id IN (%s, %s)", [ids[2], ids[4]])
    checked, problem = chain_verify()
    # ids[4] was rated 5 already: its content did not change.
    assert problem is not None and problem.evaluation_id == ids[2] and checked == 5
    assert problem.reason == "evaluation altered"
    with pytest.raises(CommandError, match=f"评价 {ids[2]}（.*办件 CH2）"):
        call_command("verify_chain")


def test_verify_chain_detects_a_deleted_row(world: dict[str, Any], record_payload: Any) -> None:
    rate_some(world, record_payload, 3)
    chain_seal()
    # A good rating: no case refers to it, so the database stays consistent for teardown.
    first = Evaluation.objects.filter(level__gte=3).order_by("id").first()
    assert first is not None
    tamper("DELETE FROM evaluations_evaluation WHERE id = %s", [first.pk])
    assert chain_verify()[1].reason == "evaluation deleted"  # type: ignore[union-attr]


def test_unsealed_rows_are_checked_too(world: dict[str, Any], record_payload: Any) -> None:
    rate_some(world, record_payload, 2)
    last = Evaluation.objects.order_by("id").last()
    assert last is not None
    tamper("UPDATE evaluations_evaluation SET comment = 'changed' WHERE id = %s", [last.pk])
    problem = chain_verify()[1]
    assert problem is not None and problem.evaluation_id == last.pk


def test_evaluations_are_append_only(world: dict[str, Any], record_payload: Any) -> None:
    rate_some(world, record_payload, 1)
    chain_seal()
    for sql in (
        "UPDATE evaluations_evaluation SET level = 1",
        "DELETE FROM evaluations_evaluation",
        "UPDATE evaluations_chainseal SET chain_hash = 'x'",
        "DELETE FROM evaluations_chainseal",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Evaluation.objects.count() == 1


def test_periodic_seal_continues_from_the_newest_seal(
    world: dict[str, Any], record_payload: Any, monkeypatch: Any
) -> None:
    from haoping.evaluations import chain

    monkeypatch.setattr(chain, "SEAL_LOOKBACK", 0)
    rate_some(world, record_payload, 2)
    assert chain_seal() == 2
    for i in range(2, 5):
        token = new_token(world, record_payload, f"LATER{i}")
        world["api"].post("/evaluations", {"token": token, "level": 4, "channel": "sms"})
    assert chain_seal(batch_size=2) == 3
    assert chain_verify() == (5, None)
