"""Writes of the exchange: the sweep that turns new ratable services, evaluations, case steps and
the evaluation chain's checkpoints into outgoing rows, the push that sends them, and a manager's
resend.

Nothing here runs inside a rating or case request: the sweep reads what was stored since its
marks (as the rollups do, haoping.indicators.services), so the rating path pays nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.functions import Mod
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import within_region
from haoping.audit.services import audit_record
from haoping.directory.models import Region, path_within
from haoping.evaluations.chain import chain_anchors
from haoping.evaluations.models import Evaluation
from haoping.evaluations.rules import Party, counted
from haoping.evaluations.selectors import questionnaire_of_evaluation
from haoping.exchange import national, transport
from haoping.exchange.models import Batch, CodeTable, Endpoint, ExchangeMark, OutgoingRow
from haoping.fields import cert_key
from haoping.indicators.counting import case_outcomes
from haoping.lib.masking import redact_text
from haoping.records.models import RatingSlot
from haoping.rectification.models import BadReviewCase, CaseEvent

BATCH = 500
# Ids missing this far below a mark may still commit (a transaction in flight); further back, never.
LOOKBACK = 10_000
MAX_GAPS = 200
MARKS = ("slots", "evaluations", "case_events")
# A row's order in its record: the service number's hundreds, then 0 the service, 1 its evaluation,
# 2 a paper form's row replacing that evaluation (a default sent before), 3… the case steps.
SEQ_PER_SERVICE = 100
SEQ_EVALUATION, SEQ_REPLACEMENT, SEQ_CASE_STEPS = 1, 2, 3
# A row that failed transport is tried again after this, doubled per attempt (with jitter in the call).
RETRY_AFTER = dt.timedelta(minutes=1)
RETRY_CAP = dt.timedelta(hours=6)
# Longer than a batch's tries with their pauses (transport.TIMEOUT each).
LEASE = dt.timedelta(minutes=10)


def codes_for(table: CodeTable) -> national.Codes:
    return national.codes_from_entries(table.content_version, table.entries.values_list("field", "local", "code"))


def endpoint_for_region(region: Region) -> Endpoint | None:
    """The endpoint a region's rows go to: its own, else its nearest ancestor's (None: nowhere yet)."""
    return _Endpoints().for_region(region)


class _Endpoints:
    """Each region's endpoint: its own, else its nearest ancestor's (one lookup per region a sweep meets)."""

    def __init__(self) -> None:
        self.by_path = {
            e.region.path: e for e in Endpoint.objects.select_related("region", "code_table").filter(active=True)
        }
        self.found: dict[int, Endpoint | None] = {}
        self.codes: dict[int, national.Codes] = {}

    def for_region(self, region: Region) -> Endpoint | None:
        if region.pk not in self.found:
            best = [(len(path), e) for path, e in self.by_path.items() if path_within(region.path, path)]
            self.found[region.pk] = max(best, key=lambda pair: pair[0])[1] if best else None
        return self.found[region.pk]

    def codes_of(self, endpoint: Endpoint) -> national.Codes:
        if endpoint.code_table_id not in self.codes:
            self.codes[endpoint.code_table_id] = codes_for(endpoint.code_table)
        return self.codes[endpoint.code_table_id]


@dataclass
class SweepResult:
    read: int = 0
    created: int = 0


def exchange_sweep() -> SweepResult:
    """Outgoing rows for every ratable service, evaluation and case step stored since the last
    sweep. Safe to run at any time: sweeps take the marks' row locks in turn, and rows are made once
    per natural key."""
    result = SweepResult()
    endpoints = _Endpoints()
    if not endpoints.by_path:
        return result
    for name in MARKS:
        while True:
            read, created = _step(name, endpoints)
            result.read += read
            result.created += created
            if read == 0:
                break
    for endpoint in endpoints.by_path.values():
        if endpoint.send_checkpoints:
            while created := _checkpoint_rows(endpoint):
                result.read += created
                result.created += created
    return result


@transaction.atomic
def _checkpoint_rows(endpoint: Endpoint) -> int:
    """Rows for the chain's signed checkpoints the endpoint has no row for yet, a batch of them,
    oldest first; the first run sends the whole history. The checkpoints are the deployment's: each
    counts the evaluations of every region, as signed."""
    # One sweep at a time makes an endpoint's checkpoint rows.
    Endpoint.objects.select_for_update().filter(pk=endpoint.pk).values_list("pk").first()
    made = OutgoingRow.objects.filter(endpoint=endpoint, kind=OutgoingRow.Kind.CHECKPOINT).aggregate(last=Max("seq"))
    entries = chain_anchors(after=made["last"] or 0, limit=BATCH)
    if not entries:
        return 0
    ids = {int(region) for entry in entries for region in entry["regions"]}
    codes = {
        str(pk): national.area_code(code) for pk, code in Region.objects.filter(pk__in=ids).values_list("pk", "code")
    }
    now = timezone.now()
    OutgoingRow.objects.bulk_create(
        OutgoingRow(
            region=endpoint.region,
            endpoint=endpoint,
            kind=OutgoingRow.Kind.CHECKPOINT,
            natural_key=national.checkpoint_key(entry["number"]),
            source_key=national.checkpoint_key(entry["number"]),
            record=None,
            project_no="",
            seq=entry["number"],
            payload=national.checkpoint_row(entry, area_codes=codes, data_source=endpoint.data_source),
            created_at=now,
        )
        for entry in entries
    )
    return len(entries)


@transaction.atomic
def _step(name: str, endpoints: _Endpoints) -> tuple[int, int]:
    for each in {"slots", name}:
        ExchangeMark.objects.get_or_create(name=each)
    # Service rows are numbered per record by counting them: whichever step makes one (an
    # evaluation's service may come first) holds the services' lock, always taken first.
    locked = {
        m.name: m for m in ExchangeMark.objects.select_for_update().filter(name__in={"slots", name}).order_by("-name")
    }
    mark = locked[name]
    model: Any = {"slots": RatingSlot, "evaluations": Evaluation, "case_events": CaseEvent}[name]
    ids = list(model.objects.filter(_pending(mark)).order_by("pk").values_list("pk", flat=True)[:BATCH])
    if not ids:
        return 0, 0
    maker = _Maker(endpoints)
    if name == "slots":
        slots = RatingSlot.objects.filter(pk__in=ids, record__isnull=False).select_related(*_RECORD_PATHS)
        # In the order they were opened: a record's services are numbered so.
        for slot in slots.order_by("pk"):
            maker.service(slot)
    elif name == "evaluations":
        found = Evaluation.objects.filter(pk__in=ids).select_related("slot", "record", *_RECORD_PATHS)
        for ev in found.order_by("pk"):
            maker.evaluation(ev)
    else:
        case_ids = set(CaseEvent.objects.filter(pk__in=ids).values_list("case_id", flat=True))
        maker.case_steps(case_ids)
    mark.last_id, mark.gaps = _advance(mark, ids)
    mark.save(update_fields=["last_id", "gaps"])
    return len(ids), maker.created


_RECORD = ("region", "item__department", "applicant")
_RECORD_PATHS = tuple(f"record__{p}" for p in _RECORD)


class _Maker:
    def __init__(self, endpoints: _Endpoints) -> None:
        self.endpoints = endpoints
        self.created = 0
        self.now = timezone.now()

    def _add(self, **fields: Any) -> OutgoingRow:
        row = OutgoingRow.objects.filter(region=fields["region"], source_key=fields["source_key"]).first()
        if row is None:
            row = OutgoingRow.objects.filter(region=fields["region"], natural_key=fields["natural_key"]).first()
        if row is not None:
            return row
        problems = fields.pop("problems")
        if problems:
            # Refused here as the upstream would refuse it, shown with the others until fixed.
            fields.update(status=OutgoingRow.Status.REJECTED, reason="; ".join(str(p) for p in problems))
        row = OutgoingRow.objects.create(created_at=self.now, **fields)
        self.created += 1
        return row

    def service(self, slot: RatingSlot) -> OutgoingRow | None:
        record = slot.record
        assert record is not None
        endpoint = self.endpoints.for_region(record.region)
        if endpoint is None or national.self_built(record.item.code):
            return None
        existing = OutgoingRow.objects.filter(region=record.region, source_key=f"slot:{slot.pk}").first()
        if existing is not None:
            return existing
        taken = OutgoingRow.objects.filter(record=record, kind=OutgoingRow.Kind.SERVICE)
        # Numbered in the order the sweep meets the record's services (1…99), once for good.
        number = taken.count() + 1
        project_no = endpoint.project_no_prefix + record.record_no
        payload, problems = self._service_payload(slot, endpoint, number)
        return self._add(
            region=record.region,
            endpoint=endpoint,
            kind=OutgoingRow.Kind.SERVICE,
            natural_key=national.service_key(project_no, number),
            source_key=f"slot:{slot.pk}",
            record=record,
            project_no=project_no,
            seq=number * SEQ_PER_SERVICE,
            payload=payload,
            problems=problems,
        )

    def _service_payload(
        self, slot: RatingSlot, endpoint: Endpoint, number: int
    ) -> tuple[dict[str, str], list[national.RowError]]:
        record = slot.record
        assert record is not None
        done = slot.kind == RatingSlot.Kind.COMPLETION
        project_no = endpoint.project_no_prefix + record.record_no
        facts = national.ServiceFacts(
            project_no=project_no,
            service_number=number,
            service_name="办结" if done else ("申报" if number == 1 else "补正"),
            service_time=slot.opens_at,
            accepted_at=record.accepted_at,
            completed_at=(record.completed_at or slot.opens_at) if done else None,
            item_code=record.item.code,
            item_name=record.item.name,
            item_type=record.item.type,
            region_code=record.region.code,
            dept_code=record.item.department.code,
            applicant_kind=record.applicant.kind,
            cert_key=cert_key(record.applicant.id_number or ""),
            instant=record.on_the_spot or record.item.promised_days == 0,
            mode=record.mode,
            data_source=endpoint.data_source,
        )
        return national.service_row(facts, self.endpoints.codes_of(endpoint))

    def _service_of(self, ev: Evaluation) -> OutgoingRow | None:
        slot = ev.slot
        if slot.record_id != ev.record_id:
            # A theme's overall rating: the service rated is the record's completion.
            found = RatingSlot.objects.filter(record_id=ev.record_id, kind=RatingSlot.Kind.COMPLETION).first()
            if found is None:
                return None
            slot = found
        slot.record = ev.record
        return self.service(slot)

    def evaluation(self, ev: Evaluation) -> OutgoingRow | None:
        # R15: a rating from the registry of malicious evaluators is counted nowhere, upstream neither.
        if not counted(Party(person_id=None, blocked=ev.blocked)):
            return None
        service = self._service_of(ev)
        if service is None:
            return None
        number = int(service.payload["serviceNumber"])
        if ev.supersedes_id is not None:
            replacing = self._replacement(ev, service)
            if replacing is not None:
                return replacing
        payload, problems, version = self._evaluation_payload(ev, service)
        return self._add(
            region=service.region,
            endpoint=service.endpoint,
            kind=OutgoingRow.Kind.EVALUATION,
            natural_key=national.evaluation_key(service.project_no, number),
            source_key=f"evaluation:{ev.pk}",
            record=service.record,
            project_no=service.project_no,
            seq=number * SEQ_PER_SERVICE + SEQ_EVALUATION,
            payload=payload,
            content_version=version,
            problems=problems,
        )

    def _replacement(self, ev: Evaluation, service: OutgoingRow) -> OutgoingRow | None:
        """R2 with R4: a paper form replaced the default rating `ev.supersedes`. A default row not
        sent and not taken by a push is made the form's row in place, so that only the form goes
        up; a default sent (or leased to a push, or waiting out a failed call) is followed by the
        form's row under the same projectNo + assessNumber, marked as replacing it, sent once the
        default is accepted. None when the default has no row (the form's row is made as any)."""
        source = f"evaluation:{ev.pk}"
        made = OutgoingRow.objects.filter(region=service.region, source_key=source).first()
        if made is not None:
            return made
        default = OutgoingRow.objects.filter(
            region=service.region, source_key=f"evaluation:{ev.supersedes_id}", kind=OutgoingRow.Kind.EVALUATION
        ).first()
        if default is None:
            return None
        payload, problems, version = self._evaluation_payload(ev, service)
        unsent = Q(status=OutgoingRow.Status.REJECTED) | Q(status__in=SENDABLE, next_attempt_at__isnull=True)
        # Conditional: a push claims a row by setting its lease (next_attempt_at) in one update.
        if OutgoingRow.objects.filter(unsent, pk=default.pk).update(
            source_key=source,
            payload=payload,
            content_version=version,
            status=OutgoingRow.Status.REJECTED if problems else OutgoingRow.Status.PENDING,
            reason="; ".join(str(p) for p in problems),
        ):
            default.refresh_from_db()
            return default
        number = int(service.payload["serviceNumber"])
        return self._add(
            region=service.region,
            endpoint=service.endpoint,
            kind=OutgoingRow.Kind.EVALUATION,
            natural_key=national.replacement_key(service.project_no, number),
            source_key=source,
            record=service.record,
            project_no=service.project_no,
            seq=number * SEQ_PER_SERVICE + SEQ_REPLACEMENT,
            payload=national.replacing_row(payload),
            content_version=version,
            problems=problems,
        )

    def _evaluation_payload(
        self, ev: Evaluation, service: OutgoingRow
    ) -> tuple[dict[str, str], list[national.RowError], str]:
        endpoint = service.endpoint
        codes = self.endpoints.codes_of(endpoint)
        number = int(service.payload["serviceNumber"])
        facts = national.EvaluationFacts(
            project_no=service.project_no,
            # One rating per service (R4): the service's number tells the ratings of a record apart.
            assess_number=number,
            service_number=number,
            channel=ev.channel,
            default=ev.source == Evaluation.Source.DEFAULT,
            level=ev.level,
            reasons=list(ev.reasons or []),
            answers=dict(ev.answers or {}),
            # R10: what goes up names nobody (the rater or anyone else named in the comment).
            comment=redact_text(ev.comment),
            rated_at=ev.rated_at,
            data_source=endpoint.data_source,
            # R8, R9: the options of what it rated carry their evalDetail codes.
            questionnaire=questionnaire_of_evaluation(ev, service.region.path),
        )
        payload, problems = national.evaluation_row(facts, codes)
        return payload, problems, national.detail_codes(facts, codes)[1] if payload["evalDetail"] else ""

    def rebuild(self, row: OutgoingRow) -> None:
        """The row made again from its source with the code table as it is now (a manager fixed a
        code, say): same key and number, new content; pending unless still refused here."""
        kind, _sep, pk = row.source_key.partition(":")
        problems: list[national.RowError] = []
        if kind == "slot":
            slot = RatingSlot.objects.select_related(*_RECORD_PATHS).filter(pk=int(pk)).first()
            if slot is not None:
                number = int(row.natural_key.rpartition(":")[2])
                row.payload, problems = self._service_payload(slot, row.endpoint, number)
        elif kind == "evaluation":
            ev = Evaluation.objects.select_related("slot", "record").filter(pk=int(pk)).first()
            service = self._service_of(ev) if ev is not None else None
            if ev is not None and service is not None:
                replacing = national.replaces_default(row.payload)
                row.payload, problems, row.content_version = self._evaluation_payload(ev, service)
                if replacing:
                    row.payload = national.replacing_row(row.payload)
        row.status = OutgoingRow.Status.REJECTED if problems else OutgoingRow.Status.PENDING
        row.reason = "; ".join(str(p) for p in problems)
        row.next_attempt_at = None
        row.save(update_fields=["payload", "content_version", "status", "reason", "next_attempt_at"])

    def case_steps(self, case_ids: Iterable[int]) -> None:
        outcomes = case_outcomes()
        cases = BadReviewCase.objects.filter(pk__in=list(case_ids)).annotate(
            **{f"is_{name}": _flag(q) for name, q in outcomes.items()}
        )
        for case in cases:
            rated = OutgoingRow.objects.filter(
                region_id=case.region_id,
                kind=OutgoingRow.Kind.EVALUATION,
                source_key__in=[
                    f"evaluation:{pk}"
                    for pk in Evaluation.objects.filter(region_id=case.region_id, receipt=case.receipt).values_list(
                        "pk", flat=True
                    )
                ],
            )
            for ev_row in rated:
                for step, at, extra in _steps(case):
                    number = int(ev_row.payload["serviceNumber"])
                    payload = national.case_step_row(
                        national.CaseStepFacts(
                            project_no=ev_row.project_no,
                            assess_number=number,
                            service_number=number,
                            step=step,
                            at=at,
                            data_source=ev_row.endpoint.data_source,
                            **extra,
                        )
                    )
                    key = national.case_step_key(payload)
                    self._add(
                        region=ev_row.region,
                        endpoint=ev_row.endpoint,
                        kind=OutgoingRow.Kind.CASE_STEP,
                        natural_key=key,
                        source_key=key[:80],
                        record=ev_row.record,
                        project_no=ev_row.project_no,
                        seq=number * SEQ_PER_SERVICE + SEQ_CASE_STEPS + national.CASE_STEPS.index(step),
                        payload=payload,
                        problems=[],
                    )


def _flag(q: Q) -> Any:
    from django.db.models import BooleanField, Case, Value, When

    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def _steps(case: Any) -> list[tuple[str, dt.datetime, dict[str, Any]]]:
    """The steps the upper level counts, as the indicators count them (Annex A): not adopted,
    answered, rectified after revisit, and the revisit with its result."""
    steps: list[tuple[str, dt.datetime, dict[str, Any]]] = []
    if case.is_invalid_bad:
        at = case.closed_at or case.classified_at or case.opened_at
        steps.append(("invalidated", at, {"invalid_type": case.invalid_reason}))
    if case.is_replied:
        steps.append(("replied", case.replied_at, {}))
    if case.is_rectified:
        steps.append(("rectified", case.rectified_at, {}))
    if case.revisited_at is not None and case.satisfied is not None:
        steps.append(("revisited", case.revisited_at, {"satisfied": case.satisfied}))
    return steps


def _pending(mark: ExchangeMark) -> Q:
    q = Q(pk__gt=mark.last_id)
    for low, high in mark.gaps:
        q |= Q(pk__gte=low, pk__lte=high)
    return q


def _advance(mark: ExchangeMark, read: list[int]) -> tuple[int, list[list[int]]]:
    """The mark after reading `read` (ascending): ids skipped below the newest read are gaps,
    looked for again until they are too far back."""
    gaps = {pk for low, high in mark.gaps for pk in range(low, high + 1)} - set(read)
    top = max(mark.last_id, read[-1] if read else 0)
    gaps |= set(range(mark.last_id + 1, top + 1)) - set(read)
    ranges: list[list[int]] = []
    for pk in sorted(pk for pk in gaps if pk > top - LOOKBACK):
        if ranges and ranges[-1][1] == pk - 1:
            ranges[-1][1] = pk
        else:
            ranges.append([pk, pk])
    return top, ranges[-MAX_GAPS:]


# Sending.

SENDABLE = (OutgoingRow.Status.PENDING, OutgoingRow.Status.TRANSPORT_ERROR)


def credentials(endpoint: Endpoint) -> transport.Credentials:
    return transport.Credentials(
        url=endpoint.url,
        app_mark=endpoint.app_mark,
        app_word=endpoint.app_word,
        private_key=endpoint.sign_private_key,
        public_key=endpoint.sign_public_key,
        platform_public_key=endpoint.platform_public_key,
        tenancy_id=endpoint.tenancy_id,
        api_key=endpoint.api_key,
    )


def _next_batch(endpoint: Endpoint, now: dt.datetime) -> list[OutgoingRow]:
    """Rows due, oldest first, at most a batch. A row waits while a row it follows is not accepted
    (an evaluation its service, a case step its evaluation: the rows of one service number, whose
    `seq` share the hundreds; a checkpoint the checkpoints before it), so the order per record and
    of the chain holds and nothing else is held up. Rows of one batch go in order."""
    first_of_service = OuterRef("seq") - Mod(OuterRef("seq"), SEQ_PER_SERVICE)
    earlier = OutgoingRow.objects.filter(
        endpoint=endpoint, record_id=OuterRef("record_id"), seq__lt=OuterRef("seq"), seq__gte=first_of_service
    ).exclude(status=OutgoingRow.Status.SENT)
    # A checkpoint row (only: the kinds must match) waits while an earlier one is refused, or waits
    # out a failed call or another push's lease; the earlier ones due now go before it in its call.
    held_checkpoint = OutgoingRow.objects.filter(
        Q(status=OutgoingRow.Status.REJECTED) | Q(status__in=SENDABLE, next_attempt_at__gt=now),
        endpoint=endpoint,
        kind=OutgoingRow.Kind.CHECKPOINT,
        seq__lt=OuterRef("seq"),
    ).filter(kind=OuterRef("kind"))
    due = (
        OutgoingRow.objects.filter(endpoint=endpoint, status__in=SENDABLE)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(~Exists(earlier), ~Exists(held_checkpoint))
        .order_by("pk")
    )
    return list(due[: endpoint.batch_size])


def _claim(rows: list[OutgoingRow]) -> list[OutgoingRow]:
    """The rows this push may send: each taken by a conditional update that leases it for longer
    than a call with its retries lasts, so that a command run beside the scheduled push never sends
    a row twice at once (the lease ends when the row's outcome is written)."""
    now = timezone.now()
    lease = now + LEASE
    ids = [r.pk for r in rows]
    OutgoingRow.objects.filter(pk__in=ids, status__in=SENDABLE).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ).update(next_attempt_at=lease)
    # Read again as claimed: a row's content may have changed since it was listed (a paper form
    # that replaced a default rating not yet sent takes over its row).
    return list(OutgoingRow.objects.filter(pk__in=ids, next_attempt_at=lease).order_by("pk"))


@dataclass
class PushResult:
    batches: int = 0
    sent: int = 0
    rejected: int = 0
    transport_errors: int = 0


def exchange_push(
    *,
    endpoint: Endpoint | None = None,
    due_only: bool = False,
    tries: int = 3,
    base_delay: float = 1.0,
    sleep: Any = None,
) -> PushResult:
    """Send every due row, endpoint by endpoint, batch by batch. A failing upstream leaves its rows
    waiting for a later run (with a growing delay); local work is never held up by it."""
    result = PushResult()
    endpoints = [endpoint] if endpoint is not None else list(Endpoint.objects.filter(active=True))
    for ep in endpoints:
        # The scheduled run keeps each endpoint's own interval; a command or a resend sends now.
        if (
            due_only
            and ep.last_run_at is not None
            and timezone.now() < ep.last_run_at + dt.timedelta(minutes=ep.every_minutes)
        ):
            continue
        creds = credentials(ep)
        while rows := _claim(_next_batch(ep, timezone.now())):
            result.batches += 1
            ok = _push_batch(ep, creds, rows, result, tries=tries, base_delay=base_delay, sleep=sleep)
            if not ok:
                break
        Endpoint.objects.filter(pk=ep.pk).update(last_run_at=timezone.now())
    return result


def _push_batch(
    endpoint: Endpoint,
    creds: transport.Credentials,
    rows: list[OutgoingRow],
    result: PushResult,
    **retry: Any,
) -> bool:
    batch = Batch.objects.create(endpoint=endpoint, started_at=timezone.now(), size=len(rows))
    OutgoingRow.objects.filter(pk__in=[r.pk for r in rows]).update(batch=batch)

    def tried(attempt: int) -> None:
        batch.tries = attempt

    options = {k: v for k, v in retry.items() if v is not None}
    try:
        answer = transport.send([r.payload for r in rows], creds, now=timezone.now, on_try=tried, **options)
    except transport.TransportError as exc:
        now = timezone.now()
        message = _("the platform could not be reached: %(error)s") % {"error": exc}
        batch.outcome, batch.message, batch.finished_at = Batch.Outcome.TRANSPORT_ERROR, message, now
        batch.save(update_fields=["outcome", "message", "finished_at", "tries"])
        for row in rows:
            row.attempts += 1
            row.status = OutgoingRow.Status.TRANSPORT_ERROR
            row.reason = message
            row.next_attempt_at = now + min(RETRY_CAP, RETRY_AFTER * 2 ** (row.attempts - 1))
        OutgoingRow.objects.bulk_update(rows, ["attempts", "status", "reason", "next_attempt_at"])
        result.transport_errors += len(rows)
        return False
    now = timezone.now()
    batch.outcome, batch.message, batch.finished_at = Batch.Outcome.OK, answer.message, now
    batch.http_status = answer.http_status
    batch.save(update_fields=["outcome", "message", "finished_at", "tries", "http_status"])
    for row, rejection, duplicate in zip(rows, answer.rejections, answer.duplicates, strict=True):
        row.attempts += 1
        row.next_attempt_at = None
        if rejection is None and duplicate and national.replaces_default(row.payload):
            # "Already exists" to a replacement: the platform kept the default sent before.
            rejection = _("the platform kept the default rating sent before (it takes no replacement): %(answer)s") % {
                "answer": duplicate
            }
        if rejection is None:
            row.status, row.reason, row.sent_at = OutgoingRow.Status.SENT, "", now
            result.sent += 1
        else:
            row.status, row.reason = OutgoingRow.Status.REJECTED, rejection
            result.rejected += 1
    OutgoingRow.objects.bulk_update(rows, ["attempts", "status", "reason", "sent_at", "next_attempt_at"])
    return True


@transaction.atomic
def exchange_resend(*, user: Any, region: Region, statuses: Iterable[str]) -> int:
    """A manager sends the region's rejected or undelivered rows again (after fixing a code table,
    say): they are due at once, and the next push takes them. Audited."""
    wanted = [s for s in statuses if s in (OutgoingRow.Status.REJECTED, OutgoingRow.Status.TRANSPORT_ERROR)]
    rows = OutgoingRow.objects.filter(within_region(region), status__in=wanted).select_related("endpoint")
    maker = _Maker(_Endpoints())
    count = 0
    for row in rows.order_by("pk").iterator(chunk_size=500):
        maker.rebuild(row)
        count += 1
    audit_record(
        actor=user, action="exchange_resend", target=f"region:{region.code}", reason=",".join(wanted) + f" ({count})"
    )
    return count
