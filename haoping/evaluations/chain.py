"""The evaluation chain: each row carries a keyed SM3 MAC of its content, written with the row;
a sealer links the rows in order with keyed SM3 links outside the rating request, in batches.

After each batch the sealer writes a checkpoint: the chain's head, how many evaluations of each
region are sealed so far, and the previous checkpoint's digest, signed with SM2. The checkpoint
is stored in the database and appended to a log outside it (settings.HAOPING_CHAIN_ANCHOR_LOG).

- altering a row breaks its MAC;
- deleting, inserting or reordering links breaks the keyed links (relinking needs the key);
- deleting the newest rows with their links and checkpoints leaves the log's heads unmatched;
- deleting and relinking with the key still changes the head and a region's count, which the log
  keeps.
Triggers refuse UPDATE, DELETE and TRUNCATE on these tables (migrations 0002 and 0005); the chain
is what shows an attack by someone who can bypass them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from haoping import keys
from haoping.lib.gm import sm2_sign, sm2_verify, sm3

GENESIS = "0" * 64
# Any constant will do: it names the lock that serialises sealers on PostgreSQL.
SEAL_LOCK_ID = 0x4850_5345  # "HPSE"
SEAL_LOOKBACK = 10_000


class ChainBroken(Exception):
    """The database no longer matches the anchored checkpoints: sealing stops until it is examined
    (`manage.py verify_chain`), so that new links never paper over a deletion."""


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


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
    # Only on a replacement, so that the rows sealed before it existed keep their MACs.
    if getattr(ev, "supersedes_id", None) is not None:
        fields["supersedes"] = ev.supersedes_id
    return _canonical(fields)


def row_mac(ev: Any) -> str:
    return keys.chain_mac().mac(row_content(ev)).hex()


def link_hash(prev_hash: str, seq: int, evaluation_id: int, mac: str, *, keyed: bool = True) -> str:
    data = f"{prev_hash}|{seq}|{evaluation_id}|{mac}".encode()
    # Keyed, so that whoever can write the tables but lacks the master key cannot relink the chain
    # after deleting a row. Links from before keying stay plain; a checkpoint anchors them.
    return (keys.chain_mac().mac(b"link|" + data) if keyed else sm3(data)).hex()


# ---------------------------------------------------------------------------------------------
# Checkpoints


def checkpoint_payload(
    *,
    number: int,
    first_seq: int,
    last_seq: int,
    head: str,
    region_counts: dict[str, int],
    prev_digest: str,
    sealed_at: str,
) -> dict[str, Any]:
    return {
        "number": number,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "head": head,
        "regions": region_counts,
        "prev": prev_digest,
        "sealed_at": sealed_at,
    }


def _payload_of(cp: Any) -> dict[str, Any]:
    return checkpoint_payload(
        number=cp.number,
        first_seq=cp.first_seq,
        last_seq=cp.last_seq,
        head=cp.head,
        region_counts=cp.region_counts,
        prev_digest=cp.prev_digest,
        sealed_at=_utc(cp.sealed_at),
    )


def anchor_entry(cp: Any) -> dict[str, Any]:
    """A checkpoint as it is anchored outside the database (the log line, and what an upper-level
    platform receives): the signed payload, its digest and signature, and the public key."""
    return {**_payload_of(cp), "digest": cp.digest, "signature": cp.signature, "public_key": keys.chain_public_key()}


def chain_anchors(*, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """The signed checkpoints numbered after `after`, oldest first, as the exchange sends them to
    the upper-level platform (haoping.exchange.national.checkpoint_row): each verifiable there with
    this system's public key, which it also carries."""
    from haoping.evaluations.models import ChainCheckpoint

    return [anchor_entry(cp) for cp in ChainCheckpoint.objects.filter(number__gt=after).order_by("number")[:limit]]


def anchor_valid(entry: dict[str, Any], public_key: str | None = None) -> bool:
    """Whether an anchored entry is a checkpoint signed with `public_key` (by default this
    system's chain key), unaltered."""
    try:
        payload = checkpoint_payload(
            number=entry["number"],
            first_seq=entry["first_seq"],
            last_seq=entry["last_seq"],
            head=entry["head"],
            region_counts=entry["regions"],
            prev_digest=entry["prev"],
            sealed_at=entry["sealed_at"],
        )
        digest = sm3(_canonical(payload)).hex()
    except (KeyError, TypeError):
        return False
    signer = public_key if public_key is not None else keys.chain_public_key()
    return digest == entry.get("digest") and sm2_verify(signer, digest.encode(), str(entry.get("signature", "")))


def _checkpoint_create(*, last_seq: int, head: str, batch_counts: Counter[str] | None, now: dt.datetime) -> Any:
    """Sign and store the checkpoint after `last_seq`; `batch_counts` are the regions of the rows
    sealed since the previous checkpoint (None: count them in the database)."""
    from haoping.evaluations.models import ChainCheckpoint, ChainSeal

    prev = ChainCheckpoint.objects.order_by("-number").first()
    first_seq = prev.last_seq + 1 if prev else 1
    if batch_counts is None:
        rows = (
            ChainSeal.objects.filter(seq__gte=first_seq, seq__lte=last_seq)
            .values("evaluation__region_id")
            .annotate(n=Count("seq"))
        )
        batch_counts = Counter({str(r["evaluation__region_id"]): r["n"] for r in rows})
    counts = Counter(prev.region_counts if prev else {})
    counts.update(batch_counts)
    payload = checkpoint_payload(
        number=(prev.number + 1) if prev else 1,
        first_seq=first_seq,
        last_seq=last_seq,
        head=head,
        region_counts=dict(sorted(counts.items())),
        prev_digest=prev.digest if prev else GENESIS,
        sealed_at=_utc(now),
    )
    digest = sm3(_canonical(payload)).hex()
    return ChainCheckpoint.objects.create(
        number=payload["number"],
        first_seq=first_seq,
        last_seq=last_seq,
        head=head,
        region_counts=payload["regions"],
        prev_digest=payload["prev"],
        digest=digest,
        signature=sm2_sign(keys.chain_signing_key(), keys.chain_public_key(), digest.encode()),
        sealed_at=now,
    )


def anchor_log_path() -> Path:
    return Path(settings.HAOPING_CHAIN_ANCHOR_LOG)


def anchor_log_read(path: Path | None = None) -> list[dict[str, Any] | None]:
    """Every line of the anchor log, parsed (None for a line that is not JSON)."""
    path = path or anchor_log_path()
    if not path.exists():
        return []
    entries: list[dict[str, Any] | None] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    entries.append(None)
    return entries


def _last_line(f: IO[bytes]) -> dict[str, Any] | None:
    """The newest entry, read from the end: the log grows for ever, the sealer reads one line."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    window = 4096
    while True:
        start = max(0, end - window)
        f.seek(start)
        lines = f.read(end - start).rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or start == 0:
            last = lines[-1].strip()
            return json.loads(last) if last else None
        window *= 4


@contextlib.contextmanager
def _anchor_log() -> Iterator[IO[bytes]]:
    path = anchor_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened for appending only; the lock keeps sealers of one host from interleaving lines.
    with path.open("a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield f
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _anchor_sync(log: IO[bytes]) -> None:
    """Append the database's checkpoints the log lacks, after checking that the database still
    holds what the log anchored last. Runs under the sealers' lock."""
    from haoping.evaluations.models import ChainCheckpoint, ChainSeal

    try:
        newest = _last_line(log)
    except ValueError as exc:
        raise ChainBroken("the anchor log's last line is unreadable") from exc
    logged = 0
    if newest is not None:
        logged = int(newest["number"])
        cp = ChainCheckpoint.objects.filter(number=logged).first()
        if cp is None or cp.digest != newest.get("digest"):
            raise ChainBroken(f"checkpoint {logged} of the anchor log is not in the database")
        head = ChainSeal.objects.filter(seq=cp.last_seq).values_list("chain_hash", flat=True).first()
        if head != cp.head:
            raise ChainBroken(f"the chain no longer reaches the head of checkpoint {logged}")
    for cp in ChainCheckpoint.objects.filter(number__gt=logged).order_by("number"):
        log.write(_canonical(anchor_entry(cp)) + b"\n")
    log.flush()
    os.fsync(log.fileno())


def _insert_seals(rows: list[tuple[Any, ...]]) -> None:
    """Store links (seq, evaluation, row_mac, chain_hash, sealed_at, keyed). Their values are
    plain, so the ORM's per-value preparation in bulk_create, most of a sweep's time, is skipped."""
    from haoping.evaluations.models import ChainSeal

    qn = connection.ops.quote_name
    names = ("seq", "evaluation", "row_mac", "chain_hash", "sealed_at", "keyed")
    fields = {f.name: f.column for f in ChainSeal._meta.concrete_fields}
    columns = ", ".join(qn(str(fields[name])) for name in names)
    sql = f"INSERT INTO {qn(ChainSeal._meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def chain_seal(*, batch_size: int = 500, full: bool = False) -> int:
    """Seal evaluations not yet in the chain, in id order, one checkpoint per batch. Safe to run
    concurrently. Raises ChainBroken when the database lost what the anchor log holds.

    The periodic run looks only just behind the newest seal (ids are handed out at insert, and a
    rating commits within milliseconds of it), so it stays cheap on a table of millions;
    `full=True` (verify_chain) looks at the whole table.

    Each batch is read and hashed before its transaction, which only checks that the chain's end
    has not moved, inserts the links and signs the checkpoint: it holds the write lock for
    milliseconds, not for the reads. A batch that finds the end moved (another sealer) is read again.
    """
    from haoping.evaluations.models import ChainCheckpoint, ChainSeal, Evaluation

    sealed = 0
    with _anchor_log() as log:
        while True:
            last = ChainSeal.objects.order_by("-seq").values_list("seq", "chain_hash", "evaluation_id").first()
            seq, prev_hash = (last[0], last[1]) if last else (0, GENESIS)
            end_seq, end_hash = seq, prev_hash
            unsealed = Evaluation.objects.filter(seal__isnull=True)
            if not full and last:
                unsealed = unsealed.filter(id__gt=last[2] - SEAL_LOOKBACK)
            pending = list(unsealed.order_by("id").values_list("id", "row_mac", "region_id")[:batch_size])
            now = timezone.now()
            seals = []
            regions: Counter[str] = Counter()
            sealed_at = connection.ops.adapt_datetimefield_value(now)
            for evaluation_id, mac, region_id in pending:
                seq += 1
                prev_hash = link_hash(prev_hash, seq, evaluation_id, mac)
                seals.append((seq, evaluation_id, mac, prev_hash, sealed_at, True))
                regions[str(region_id)] += 1
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_ID])
                # The previous batch's checkpoint is committed now: anchor it before going on.
                _anchor_sync(log)
                if ChainSeal.objects.order_by("-seq").values_list("seq", "chain_hash", "evaluation_id").first() != last:
                    continue  # another sealer moved the chain's end: read again
                anchored = ChainCheckpoint.objects.order_by("-number").values_list("last_seq", flat=True).first()
                if end_seq > (anchored or 0):
                    # Links sealed before checkpoints existed get one of their own first.
                    _checkpoint_create(last_seq=end_seq, head=end_hash, batch_counts=None, now=now)
                    continue
                if not seals:
                    return sealed
                _insert_seals(seals)
                _checkpoint_create(last_seq=seq, head=prev_hash, batch_counts=regions, now=now)
            sealed += len(seals)


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass
class ChainProblem:
    evaluation_id: int | None
    seq: int | None
    reason: str
    # For gaps: the last position missing; for counts: the region and how many are missing.
    last_seq: int | None = None
    region_id: int | None = None
    missing: int = 0
    checkpoint: int | None = None


@dataclass
class ChainReport:
    checked: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def first(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None


def _reference_checkpoints(report: ChainReport) -> dict[int, dict[str, Any]]:
    """The checkpoints to hold the chain against: the anchor log's, checked for signature and
    order, then the database's newer ones; each compared with its twin."""
    from haoping.evaluations.models import ChainCheckpoint

    reference: dict[int, dict[str, Any]] = {}
    prev = GENESIS
    for number, entry in enumerate(anchor_log_read(), start=1):
        if entry is None or not anchor_valid(entry) or entry["number"] != number or entry["prev"] != prev:
            report.problems.append(ChainProblem(None, None, "anchor invalid", checkpoint=number))
            continue
        reference[number] = entry
        prev = entry["digest"]
    stored = {cp.number: cp for cp in ChainCheckpoint.objects.order_by("number")}
    for number, entry in reference.items():
        cp = stored.get(number)
        if cp is None:
            report.problems.append(ChainProblem(None, entry["last_seq"], "checkpoint deleted", checkpoint=number))
        elif cp.digest != entry["digest"]:
            report.problems.append(ChainProblem(None, entry["last_seq"], "checkpoint altered", checkpoint=number))
    for number, cp in stored.items():
        if number in reference:
            continue
        before = reference.get(number - 1)
        expected_prev = before["digest"] if before else (GENESIS if number == 1 else None)
        entry = anchor_entry(cp)
        if not anchor_valid(entry) or cp.prev_digest != expected_prev:
            report.problems.append(ChainProblem(None, cp.last_seq, "checkpoint altered", checkpoint=number))
            continue
        reference[number] = entry
    return reference


def chain_audit(*, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain against the checkpoints; report every problem found: altered rows,
    deleted rows, gaps, altered links, a missing tail and per-region counts that fell short."""
    from haoping.evaluations.models import ChainSeal, Evaluation

    report = ChainReport()
    reference = _reference_checkpoints(report)
    heads = {entry["last_seq"]: entry for entry in reference.values()}
    newest = reference[max(reference)] if reference else None
    anchored_seq = newest["last_seq"] if newest else 0

    found: Counter[str] = Counter()
    prev_hash: str | None = GENESIS
    expected_seq = 1
    while True:
        seals = list(ChainSeal.objects.filter(seq__gte=expected_seq).order_by("seq")[:batch_size])
        if not seals:
            break
        rows = Evaluation.objects.in_bulk([s.evaluation_id for s in seals])
        for seal in seals:
            if seal.seq != expected_seq:
                report.problems.append(
                    ChainProblem(seal.evaluation_id, expected_seq, "chain links missing", last_seq=seal.seq - 1)
                )
                # The link before is gone: this one cannot be checked, the next ones can.
                prev_hash = None
            ev = rows.get(seal.evaluation_id)
            if ev is not None and seal.seq <= anchored_seq:
                # Counted even when altered: the count is about rows that vanished.
                found[str(ev.region_id)] += 1
            if ev is None:
                report.problems.append(ChainProblem(seal.evaluation_id, seal.seq, "evaluation deleted"))
            elif row_mac(ev) != seal.row_mac or ev.row_mac != seal.row_mac:
                report.problems.append(ChainProblem(ev.pk, seal.seq, "evaluation altered"))
            else:
                report.checked += 1
            if prev_hash is not None:
                expected = link_hash(prev_hash, seal.seq, seal.evaluation_id, seal.row_mac, keyed=seal.keyed)
                if expected != seal.chain_hash:
                    report.problems.append(ChainProblem(seal.evaluation_id, seal.seq, "chain link altered"))
            anchor = heads.get(seal.seq)
            if anchor is not None and anchor["head"] != seal.chain_hash:
                report.problems.append(ChainProblem(seal.evaluation_id, seal.seq, "chain head differs"))
            prev_hash = seal.chain_hash
            expected_seq = seal.seq + 1
    if expected_seq <= anchored_seq:
        # The newest links (and, usually, their rows) were deleted.
        report.problems.append(ChainProblem(None, expected_seq, "chain tail deleted", last_seq=anchored_seq))
    if newest is not None:
        for region, count in sorted(newest["regions"].items()):
            if found[region] < count:
                report.problems.append(
                    ChainProblem(None, None, "region count short", region_id=int(region), missing=count - found[region])
                )
    # Rows not sealed yet are checked against their own MAC.
    for ev in Evaluation.objects.filter(seal__isnull=True).order_by("id").iterator(chunk_size=batch_size):
        if row_mac(ev) != ev.row_mac:
            report.problems.append(ChainProblem(ev.pk, None, "evaluation altered (not sealed yet)"))
        else:
            report.checked += 1
    return report


def chain_verify(*, batch_size: int = 5000) -> tuple[int, ChainProblem | None]:
    """Rows verified and the first problem, if any (chain_audit has them all)."""
    report = chain_audit(batch_size=batch_size)
    return report.checked, report.first
