"""The evaluation chain: each row carries a keyed SM3 MAC of its content, written with the row;
a sealer links the rows in order into an SM3 hash chain outside the rating request.

Altering a row breaks its MAC; deleting or reordering rows breaks the chain.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from haoping import keys
from haoping.lib.gm import hmac_sm3, sm3

GENESIS = "0" * 64
# Any constant will do: it names the lock that serialises sealers on PostgreSQL.
SEAL_LOCK_ID = 0x4850_5345  # "HPSE"
SEAL_LOOKBACK = 10_000


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def row_content(ev: Any) -> bytes:
    """Canonical bytes of the fields that must never change."""
    fields = {
        "region": ev.region_id,
        "slot": ev.slot_id,
        "record": ev.record_id,
        "visit": ev.visit_id,
        "level": ev.level,
        "source": ev.source,
        "channel": ev.channel,
        "rated_by": ev.rated_by,
        "rated_at": _utc(ev.rated_at),
        "answers": ev.answers,
        "reasons": ev.reasons,
        "comment": ev.comment,
        "receipt": ev.receipt,
        "overall": ev.overall,
        "blocked": ev.blocked,
        # Who was rated: the indicators read these, so they are sealed too.
        "item": ev.item_id,
        "department": ev.department_id,
        "institution": ev.institution_id,
        "platform": ev.platform_id,
        "window": ev.window_id,
        "staff": ev.staff_id,
        "bundle": ev.bundle_id,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_mac(ev: Any) -> str:
    return hmac_sm3(keys.chain_key(), row_content(ev)).hex()


def link_hash(prev_hash: str, seq: int, evaluation_id: int, mac: str) -> str:
    return sm3(f"{prev_hash}|{seq}|{evaluation_id}|{mac}".encode()).hex()


def chain_seal(*, batch_size: int = 200, full: bool = False) -> int:
    """Seal evaluations not yet in the chain, in id order. Safe to run concurrently.

    The periodic run looks only just behind the newest seal (ids are handed out at insert, and a
    rating commits within milliseconds of it), so it stays cheap on a table of millions;
    `full=True` (verify_chain) looks at the whole table.

    Each batch is read and hashed before its transaction, which only checks that the chain's end
    has not moved and inserts the seals: it holds the write lock for milliseconds, not for the
    reads. A batch that finds the end moved (another sealer) is read again.
    """
    from haoping.evaluations.models import ChainSeal, Evaluation

    sealed = 0
    while True:
        last = ChainSeal.objects.order_by("-seq").values_list("seq", "chain_hash").first()
        seq, prev_hash = last if last else (0, GENESIS)
        unsealed = Evaluation.objects.filter(seal__isnull=True)
        if not full and last:
            newest = ChainSeal.objects.filter(seq=seq).values_list("evaluation_id", flat=True).get()
            unsealed = unsealed.filter(id__gt=newest - SEAL_LOOKBACK)
        pending = list(unsealed.order_by("id").values_list("id", "row_mac")[:batch_size])
        if not pending:
            return sealed
        now = timezone.now()
        seals = []
        for evaluation_id, mac in pending:
            seq += 1
            prev_hash = link_hash(prev_hash, seq, evaluation_id, mac)
            seals.append(
                ChainSeal(seq=seq, evaluation_id=evaluation_id, row_mac=mac, chain_hash=prev_hash, sealed_at=now)
            )
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_ID])
                if ChainSeal.objects.order_by("-seq").values_list("seq", "chain_hash").first() != last:
                    continue
                ChainSeal.objects.bulk_create(seals)
        except IntegrityError:
            continue  # sealed meanwhile by another sealer
        sealed += len(seals)


@dataclass
class ChainProblem:
    evaluation_id: int
    seq: int | None
    reason: str


def chain_verify(*, batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Walk the chain from the start; return rows checked and the first problem, if any."""
    from haoping.evaluations.models import ChainSeal, Evaluation

    checked = 0
    prev_hash = GENESIS
    expected_seq = 1
    while True:
        seals = list(ChainSeal.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not seals:
            break
        rows = Evaluation.objects.in_bulk([s.evaluation_id for s in seals])
        for seal in seals:
            if seal.seq != expected_seq:
                return checked, ChainProblem(seal.evaluation_id, expected_seq, "chain link missing")
            ev = rows.get(seal.evaluation_id)
            if ev is None:
                return checked, ChainProblem(seal.evaluation_id, seal.seq, "evaluation deleted")
            if row_mac(ev) != seal.row_mac or ev.row_mac != seal.row_mac:
                return checked, ChainProblem(ev.pk, seal.seq, "evaluation altered")
            prev_hash = link_hash(prev_hash, seal.seq, seal.evaluation_id, seal.row_mac)
            if prev_hash != seal.chain_hash:
                return checked, ChainProblem(ev.pk, seal.seq, "chain link altered")
            expected_seq += 1
            checked += 1
    # Rows not sealed yet are checked against their own MAC.
    for ev in Evaluation.objects.filter(seal__isnull=True).order_by("id").iterator(chunk_size=batch_size):
        if row_mac(ev) != ev.row_mac:
            return checked, ChainProblem(ev.pk, None, "evaluation altered (not sealed yet)")
        checked += 1
    return checked, None
