"""Each way of tampering with the evaluation chain shows in verify_chain, including deletions by
someone who can bypass the append-only triggers (a database superuser)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from haoping.evaluations.chain import (
    GENESIS,
    ChainBroken,
    anchor_log_read,
    anchor_valid,
    chain_anchors,
    chain_audit,
    chain_seal,
    link_hash,
)
from haoping.evaluations.models import ChainCheckpoint, ChainSeal, Evaluation
from haoping.lib.gm import sm3

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")


def rate(world: dict[str, Any], record_payload: Any, n: int, prefix: str = "TP") -> None:
    api = world["api"]
    for i in range(n):
        res = api.post("/records", record_payload(record_no=f"{prefix}{i}"))
        token = res.json()["completion"]["evaluation_url"].rstrip("/").split("/")[-1]
        # Good ratings: no case refers to them, so deleting one leaves no dangling case.
        assert api.post("/evaluations", {"token": token, "level": 4 + i % 2, "channel": "pad"}).status_code == 201


def tamper(*statements: tuple[str, list[Any]]) -> None:
    """What an intruder with superuser rights could do: bypass the append-only triggers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)


@pytest.fixture
def sealed(world: dict[str, Any], record_payload: Any) -> list[int]:
    """Six evaluations sealed in two batches (two checkpoints); their ids in chain order."""
    rate(world, record_payload, 4)
    assert chain_seal() == 4
    rate(world, record_payload, 2, prefix="TQ")
    assert chain_seal() == 2
    assert ChainCheckpoint.objects.count() == 2
    assert chain_audit().problems == []
    return list(ChainSeal.objects.order_by("seq").values_list("evaluation_id", flat=True))


def reasons() -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for p in chain_audit().problems:
        found.setdefault(p.reason, []).append((p.seq, p.last_seq, p.missing, p.checkpoint))
    return found


def test_checkpoints_are_signed_and_anchored_outside_the_database(sealed: list[int], settings: Any) -> None:
    entries = anchor_log_read()
    assert [e["number"] for e in entries if e] == [1, 2]
    assert all(e is not None and anchor_valid(e) for e in entries)
    first, second = entries
    assert first is not None and second is not None
    assert (first["first_seq"], first["last_seq"], second["first_seq"], second["last_seq"]) == (1, 4, 5, 6)
    assert second["prev"] == first["digest"] and first["prev"] == GENESIS
    # Per-region counts are cumulative: all six are the district's.
    district = str(Evaluation.objects.values_list("region_id", flat=True).first())
    assert first["regions"] == {district: 4} and second["regions"] == {district: 6}
    assert second["head"] == ChainSeal.objects.get(seq=6).chain_hash
    # A forged line (another head, signature copied) is not accepted.
    forged = {**second, "head": "0" * 64}
    assert not anchor_valid(forged)
    with settings.HAOPING_CHAIN_ANCHOR_LOG.open("a") as f:
        f.write(json.dumps({**forged, "number": 3, "prev": second["digest"]}) + "\n")
    assert reasons()["anchor invalid"] == [(None, None, 0, 3)]


def test_links_are_keyed(sealed: list[int]) -> None:
    seal = ChainSeal.objects.get(seq=1)
    plain = sm3(f"{GENESIS}|1|{seal.evaluation_id}|{seal.row_mac}".encode()).hex()
    assert seal.keyed and seal.chain_hash == link_hash(GENESIS, 1, seal.evaluation_id, seal.row_mac) != plain


def test_a_changed_row_is_detected(sealed: list[int]) -> None:
    tamper(("UPDATE evaluations_evaluation SET level = 1 WHERE id = %s", [sealed[1]]))
    problems = chain_audit().problems
    assert [(p.reason, p.evaluation_id, p.seq) for p in problems] == [("evaluation altered", sealed[1], 2)]


def test_deleting_the_tail_is_detected(sealed: list[int]) -> None:
    tamper(
        ("DELETE FROM evaluations_evaluation WHERE id IN (%s, %s)", sealed[4:]),
        ("DELETE FROM evaluations_chainseal WHERE seq >= 5", []),
        ("DELETE FROM evaluations_chaincheckpoint WHERE number = 2", []),
    )
    found = reasons()
    assert found["checkpoint deleted"] == [(6, None, 0, 2)]
    assert found["chain tail deleted"] == [(5, 6, 0, None)]
    assert [m for _, _, m, _ in found["region count short"]] == [2]
    # Sealing does not paper over it: new ratings wait until someone looks.
    with pytest.raises(ChainBroken):
        chain_seal()
    with pytest.raises(CommandError) as raised:
        call_command("verify_chain")
    assert "3 个问题" in str(raised.value)


def test_deleting_a_middle_row_and_relinking_is_detected(sealed: list[int]) -> None:
    # The intruder deletes the third row and renumbers and relinks the rest, even with the key.
    rows = list(ChainSeal.objects.order_by("seq").values_list("seq", "evaluation_id", "row_mac"))
    kept = [r for r in rows if r[0] != 3]
    statements: list[tuple[str, list[Any]]] = [
        ("DELETE FROM evaluations_evaluation WHERE id = %s", [sealed[2]]),
        ("DELETE FROM evaluations_chainseal", []),
    ]
    prev = GENESIS
    for seq, (_, evaluation_id, mac) in enumerate(kept, start=1):
        prev = link_hash(prev, seq, evaluation_id, mac)
        statements.append(
            (
                "INSERT INTO evaluations_chainseal (seq, evaluation_id, row_mac, chain_hash, sealed_at, keyed) "
                "VALUES (%s, %s, %s, %s, now(), true)",
                [seq, evaluation_id, mac, prev],
            )
        )
    tamper(*statements)
    found = reasons()
    assert found["chain head differs"]  # the signed heads no longer match
    assert found["chain tail deleted"] == [(6, 6, 0, None)]
    assert [m for _, _, m, _ in found["region count short"]] == [1]


def test_relinking_without_the_key_is_detected(sealed: list[int]) -> None:
    # A plain SM3 relink, as the chain used to accept.
    tamper(("DELETE FROM evaluations_evaluation WHERE id = %s", [sealed[2]]))
    rows = list(ChainSeal.objects.filter(seq__gte=4).order_by("seq").values_list("seq", "evaluation_id", "row_mac"))
    prev = ChainSeal.objects.get(seq=2).chain_hash
    statements: list[tuple[str, list[Any]]] = [("DELETE FROM evaluations_chainseal WHERE seq >= 3", [])]
    for seq, evaluation_id, mac in rows:
        prev = sm3(f"{prev}|{seq - 1}|{evaluation_id}|{mac}".encode()).hex()
        statements.append(
            (
                "INSERT INTO evaluations_chainseal (seq, evaluation_id, row_mac, chain_hash, sealed_at, keyed) "
                "VALUES (%s, %s, %s, %s, now(), true)",
                [seq - 1, evaluation_id, mac, prev],
            )
        )
    tamper(*statements)
    found = reasons()
    assert [s for s, *_ in found["chain link altered"]] == [3, 4, 5]


def test_reordering_is_detected(sealed: list[int]) -> None:
    a, b = ChainSeal.objects.get(seq=2), ChainSeal.objects.get(seq=3)
    swap = "UPDATE evaluations_chainseal SET evaluation_id = %s, row_mac = %s WHERE seq = %s"
    tamper(
        (swap, [-1, "", 2]),  # one evaluation, one link: make room first
        (swap, [a.evaluation_id, a.row_mac, 3]),
        (swap, [b.evaluation_id, b.row_mac, 2]),
    )
    found = reasons()
    assert [s for s, *_ in found["chain link altered"]] == [2, 3]


def test_truncating_the_seals_is_detected(sealed: list[int]) -> None:
    tamper(("TRUNCATE evaluations_chainseal, evaluations_chaincheckpoint", []))
    found = reasons()
    assert found["chain tail deleted"] == [(1, 6, 0, None)]
    assert [c for *_, c in found["checkpoint deleted"]] == [1, 2]
    assert [m for _, _, m, _ in found["region count short"]] == [6]
    with pytest.raises(ChainBroken):
        chain_seal(full=True)
    with pytest.raises(CommandError):
        call_command("verify_chain")
    # The command tried to seal first and was refused: no fresh chain was started.
    assert ChainSeal.objects.count() == 0


def test_a_checkpoint_committed_but_not_yet_logged_is_logged_next_time(sealed: list[int], settings: Any) -> None:
    path = settings.HAOPING_CHAIN_ANCHOR_LOG
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0])  # as if the sealer died between the commit and the append
    assert chain_seal() == 0
    assert path.read_text().splitlines(keepends=True) == lines


@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE evaluations_evaluation CASCADE",
        "TRUNCATE evaluations_chainseal",
        "TRUNCATE evaluations_chaincheckpoint",
        "DELETE FROM evaluations_chaincheckpoint",
        "UPDATE evaluations_chaincheckpoint SET head = 'x'",
        "DELETE FROM evaluations_chainseal",
    ],
)
def test_the_chain_tables_refuse_truncate_and_delete(sealed: list[int], sql: str) -> None:
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of the fixture's inserts would block a TRUNCATE by themselves.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert ChainSeal.objects.count() == 6 and ChainCheckpoint.objects.count() == 2


def test_links_sealed_before_keying_get_a_checkpoint_and_still_verify(
    world: dict[str, Any], record_payload: Any
) -> None:
    # Two links as the chain made them before it was keyed, with no checkpoint.
    rate(world, record_payload, 2, prefix="OLD")
    prev = GENESIS
    statements: list[tuple[str, list[Any]]] = []
    for seq, (evaluation_id, mac) in enumerate(Evaluation.objects.order_by("id").values_list("id", "row_mac"), 1):
        prev = link_hash(prev, seq, evaluation_id, mac, keyed=False)
        statements.append(
            (
                "INSERT INTO evaluations_chainseal (seq, evaluation_id, row_mac, chain_hash, sealed_at, keyed) "
                "VALUES (%s, %s, %s, %s, now(), false)",
                [seq, evaluation_id, mac, prev],
            )
        )
    tamper(*statements)
    rate(world, record_payload, 1, prefix="NEW")
    assert chain_seal() == 1
    first, second = (e for e in anchor_log_read() if e)
    assert (first["first_seq"], first["last_seq"], second["last_seq"]) == (1, 2, 3)
    assert sum(second["regions"].values()) == 3
    assert chain_audit().problems == []


def test_the_exchange_gets_the_same_signed_checkpoints_as_the_log(sealed: list[int]) -> None:
    assert chain_anchors() == anchor_log_read()
    assert [e["number"] for e in chain_anchors(after=1)] == [2]
    assert all(anchor_valid(e) for e in chain_anchors())
