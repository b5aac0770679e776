"""Intake from lower-level systems (汇聚, R21): rows of the national format, read back through the
sending system's code table into our records, ratable services, evaluations and case steps.

Each row is taken on its own, in its own short transaction, and answered on its own: stored (201),
the same row again (200), a conflict with what is stored (409), or invalid (422, naming the
row's field). Every row is kept in `IncomingRow` once per natural key, refused ones included, so
nothing sent is lost and a retried batch never counts twice. The rules are asked, never restated:
the rating rules of haoping.evaluations.rules through the same checks a local rating passes.

An imported rating keeps how it was rated below (active, or default when nobody rated in time) and
names its system (`Evaluation.origin`). The lower system works its own cases: a bad imported
rating gets a case here only to hold the steps it reports (closed, no deadlines, nobody here to
act), so that Annex A counts it exactly as the lower system does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.directory.models import Region, ServiceItem, path_within
from haoping.errors import DomainError
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import (
    DEFAULT_RECEIPT,
    content_check,
    default_to_replace,
    evaluation_build,
    new_receipt,
    seal_answers,
    slot_facts_now,
    slot_questionnaire,
)
from haoping.exchange import national
from haoping.exchange.models import IncomingRow, LowerSystem
from haoping.exchange.services import codes_for
from haoping.fields import cert_digest, seal_free_text
from haoping.lib.gm import sm3
from haoping.ops.rollups import rollups_soon
from haoping.records.links import new_public_id
from haoping.records.models import Applicant, RatingSlot, ServiceRecord
from haoping.records.services import check_time
from haoping.rectification.deadlines import IMPORTED_RULES
from haoping.rectification.models import BadReviewCase, CaseEvent

# Our fields, as a rating rule names them, and the national row's field that carries each.
NATIONAL_FIELD = {
    "level": "satisfaction",
    "channel": "pf",
    "rated_by": "pf",
    "reasons": "evalDetail",
    "answers": "evalDetail",
    "comment": "writingEvaluation",
}
# The case timeline's action for each reported step (haoping.rectification.workflow).
STEP_ACTIONS = {
    "invalidated": "approve_invalidation",
    "replied": "reply",
    "rectified": "rectify",
    "revisited": "revisit",
}
MAX_KEY = 160


@dataclass
class RowResult:
    index: int
    key: str
    kind: str
    status: int  # 201 stored, 200 the same row again, 409 conflict, 422 invalid
    field: str = ""
    message: str = ""

    @property
    def stored(self) -> bool:
        return self.status in (200, 201)


class Refused(Exception):
    def __init__(self, status: int, fld: str, message: str) -> None:
        super().__init__(f"{fld}: {message}")
        self.status, self.field, self.message = status, fld, message


@dataclass
class _Taken:
    status: int
    links: dict[str, Any] = field(default_factory=dict)


def row_digest(row: Any) -> str:
    return sm3(json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()).hex()


def row_key(kind: str, row: Any, digest: str) -> str:
    """The row's natural key, from its fields as sent (a row too broken to name one: its digest)."""

    def raw(name: str) -> str:
        value = row.get(name)
        return "" if value is None or isinstance(value, dict | list) else str(value).strip()

    key = ""
    if kind == "service" and raw("projectNo"):
        key = national.service_key(raw("projectNo"), raw("serviceNumber"))
    elif kind == "evaluation" and raw("projectNo"):
        key = national.evaluation_key(raw("projectNo"), raw("assessNumber"))
        if national.replaces_default(row):
            key = national.replacement_key(raw("projectNo"), raw("assessNumber"))
    elif kind == "case_step" and raw("projectNo"):
        stamp = "".join(c for c in raw("handleTime") if c.isdigit())
        key = f"case:{raw('projectNo')}:{raw('assessNumber')}:{raw('handleStep')}:{stamp}"
    elif kind == "checkpoint" and raw("checkpointNumber"):
        key = national.checkpoint_key(raw("checkpointNumber"))
    return key[:MAX_KEY] if key else f"row:{digest}"


class _Directory:
    """Regions by area code and items by code, read once per batch."""

    def __init__(self, system: LowerSystem) -> None:
        self.system = system
        self.regions: dict[str, Region | None] = {}
        self.items: dict[str, ServiceItem | None] = {}

    def region(self, area: str) -> Region:
        if area not in self.regions:
            # A 6- or 9-digit division code is padded to the 12 of areaCode.
            found = [
                r
                for r in Region.objects.filter(code__in={area[:6], area[:9], area}).only("pk", "code", "path")
                if national.area_code(r.code) == area
            ]
            self.regions[area] = found[0] if found else None
        region = self.regions[area]
        if region is None:
            raise Refused(422, "areaCode", _("no region with area code %(code)s here") % {"code": area})
        if not path_within(region.path, self.system.region.path):
            raise Refused(422, "areaCode", _("%(code)s lies outside this system's region") % {"code": area})
        return region

    def item(self, code: str) -> ServiceItem:
        if code not in self.items:
            self.items[code] = _only(ServiceItem.objects.filter(code=code))
        item = self.items[code]
        if item is None:
            raise Refused(422, "taskCode", _("item %(code)s is not in this system's directory") % {"code": code})
        return item


def _only(rows: QuerySet[Any]) -> Any:
    """The row a unique key names, or None: fetched without `first()`'s ORDER BY id, which can make
    PostgreSQL walk the primary key instead of using the key's index."""
    return next(iter(rows.order_by()[:1]), None)


def _time(value: dt.datetime, fld: str) -> None:
    try:
        check_time(value, fld)
    except DomainError as exc:
        raise Refused(422, fld, exc.detail) from exc


def _parse(parse: Any, *args: Any) -> Any:
    try:
        return parse(*args)
    except national.RowError as exc:
        raise Refused(422, exc.field, exc.message) from exc


def intake_rows(*, system: LowerSystem, rows: Sequence[Any], now: dt.datetime | None = None) -> list[RowResult]:
    """Take a lower system's rows, each on its own; one result per row, in order."""
    now = now or timezone.now()
    codes = codes_for(system.code_table)
    directory = _Directory(system)
    results = [_one(system, codes, directory, index, row, now) for index, row in enumerate(rows)]
    if any(r.status == 201 for r in results):
        rollups_soon()
    return results


def _one(
    system: LowerSystem, codes: national.Codes, directory: _Directory, index: int, row: Any, now: dt.datetime
) -> RowResult:
    kind = national.row_kind(row)
    digest = row_digest(row)
    key = row_key(kind, row, digest) if kind else f"row:{digest}"
    result = RowResult(index=index, key=key, kind=kind or IncomingRow.Kind.UNKNOWN, status=201)
    try:
        if not kind:
            raise Refused(
                422,
                "row",
                _("not a row of the format: a service, an evaluation, a case step or a chain checkpoint"),
            )
        with transaction.atomic():
            logged = _only(IncomingRow.objects.select_for_update().filter(system=system, natural_key=key))
            stored = logged if logged is not None and logged.status == IncomingRow.Status.STORED else None
            taken = _take(system, codes, directory, kind, row, stored, digest, now)
            result.status = taken.status
            if taken.status == 201:
                _log(system, result, row, digest, now, logged, **taken.links)
            elif logged is not None:
                IncomingRow.objects.filter(pk=logged.pk).update(updated_at=now, times=F("times") + 1)
    except Refused as exc:
        result.status, result.field, result.message = exc.status, exc.field, exc.message
        _log_refused(system, result, row, digest, now)
    except IntegrityError:
        # Another call stored the same key a moment ago: this is its retry.
        result.status = 200
    return result


def _log(
    system: LowerSystem,
    result: RowResult,
    row: Any,
    digest: str,
    now: dt.datetime,
    logged: IncomingRow | None,
    **links: Any,
) -> None:
    payload = json.dumps(row, ensure_ascii=False, default=str)
    updated = logged is not None and IncomingRow.objects.filter(pk=logged.pk).update(
        kind=result.kind,
        status=IncomingRow.Status.STORED,
        answer=result.status,
        field="",
        message="",
        payload=payload,
        digest=digest,
        updated_at=now,
        times=F("times") + 1,
        **links,
    )
    if not updated:
        IncomingRow.objects.create(
            system=system,
            kind=result.kind,
            natural_key=result.key,
            status=IncomingRow.Status.STORED,
            answer=result.status,
            payload=payload,
            digest=digest,
            received_at=now,
            updated_at=now,
            **links,
        )


def _log_refused(system: LowerSystem, result: RowResult, row: Any, digest: str, now: dt.datetime) -> None:
    """Kept as sent, with why it was refused; a row stored under the same key stays as it is."""
    fields = {
        "kind": result.kind,
        "status": IncomingRow.Status.REFUSED,
        "answer": result.status,
        "field": result.field[:40],
        "message": result.message,
        "payload": json.dumps(row, ensure_ascii=False, default=str),
        "digest": digest,
        "updated_at": now,
    }
    with transaction.atomic():
        stored = IncomingRow.objects.filter(system=system, natural_key=result.key)
        if stored.filter(status=IncomingRow.Status.STORED).update(updated_at=now, times=F("times") + 1):
            return
        if not stored.update(**fields, times=F("times") + 1):
            try:
                with transaction.atomic():
                    IncomingRow.objects.create(system=system, natural_key=result.key, received_at=now, **fields)
            except IntegrityError:
                pass  # logged a moment ago by the same row sent again


def _take(
    system: LowerSystem,
    codes: national.Codes,
    directory: _Directory,
    kind: str,
    row: Any,
    existing: IncomingRow | None,
    digest: str,
    now: dt.datetime,
) -> _Taken:
    """Store one row; `existing` is the row stored before under its key, if any."""
    if kind == "service":
        return _service(system, codes, directory, row, existing, digest)
    if kind == "evaluation":
        return _evaluation(system, codes, row, existing, digest, now)
    if kind == "case_step":
        return _case_step(system, row, existing, now)
    return _checkpoint(system, row, existing, digest)


# Services.


def _service(
    system: LowerSystem,
    codes: national.Codes,
    directory: _Directory,
    row: Any,
    existing: IncomingRow | None,
    digest: str,
) -> _Taken:
    parsed: national.ParsedService = _parse(national.parse_service_row, row, codes)
    for fld, value in (("serviceTime", parsed.service_time), ("acceptDate", parsed.accepted_at)):
        if value is not None:
            _time(value, fld)
    if parsed.completed_at is not None:
        _time(parsed.completed_at, "resultDate")
    region = directory.region(parsed.area_code)
    item = directory.item(parsed.task_code)
    if parsed.applicant_kind is None:
        raise Refused(422, "userProp", _("required"))
    done = parsed.completed_at is not None
    if existing is not None:
        if existing.digest != digest and done and existing.record is not None:
            # A service sent again once completed: the record is completed as it says.
            _complete(existing.record, parsed.completed_at)
        return _Taken(200)
    record = _only(ServiceRecord.objects.select_for_update().filter(record_no=parsed.project_no))
    new = record is None
    if record is None:
        # R15: the applicant as the lower system names them, by the keyed digest of their certKey.
        applicant = Applicant.objects.create(kind=parsed.applicant_kind, cert_digest=cert_digest(parsed.cert_key))
        record = ServiceRecord.objects.create(
            record_no=parsed.project_no,
            region=region,
            item=item,
            mode=parsed.mode or ServiceRecord.Mode.ONSITE,
            on_the_spot=bool(parsed.instant),
            applicant=applicant,
            accepted_at=parsed.accepted_at or parsed.service_time,
            status=ServiceRecord.Status.COMPLETED if done else ServiceRecord.Status.IN_PROGRESS,
            completed_at=parsed.completed_at,
        )
    elif not IncomingRow.objects.filter(system=system, record=record).exists():
        raise Refused(409, "projectNo", _("a record with this number exists here and was not sent by this system"))
    elif record.region_id != region.pk:
        raise Refused(409, "areaCode", _("the record was sent in another region"))
    slot_kind = RatingSlot.Kind.COMPLETION if done else RatingSlot.Kind.VISIT
    if done and not new:
        if record.slots.filter(kind=RatingSlot.Kind.COMPLETION).exists():
            raise Refused(409, "proStatus", _("the record's completion came under another serviceNumber"))
        _complete(record, parsed.completed_at)
    # Rated below, never here: no rating window opens (R2 is the lower system's), so no default
    # rating is made here for it either.
    slot = RatingSlot.objects.create(
        public_id=new_public_id(),
        kind=slot_kind,
        region=record.region,
        record=record,
        opens_at=parsed.service_time,
        closes_at=None,
    )
    return _Taken(201, {"record": record, "slot": slot})


def _complete(record: ServiceRecord, at: dt.datetime | None) -> None:
    if record.status != ServiceRecord.Status.COMPLETED:
        record.status, record.completed_at = ServiceRecord.Status.COMPLETED, at
        record.save(update_fields=["status", "completed_at"])


# Evaluations.


def _evaluation(
    system: LowerSystem,
    codes: national.Codes,
    row: Any,
    existing: IncomingRow | None,
    digest: str,
    now: dt.datetime,
) -> _Taken:
    parsed: national.ParsedEvaluation = _parse(national.parse_evaluation_row, row, codes)
    _time(parsed.rated_at, "assessTime")
    service = _only(
        IncomingRow.objects.filter(
            system=system,
            natural_key=national.service_key(parsed.project_no, parsed.service_number),
            status=IncomingRow.Status.STORED,
        ).select_related("slot__record__item", "slot__visit__window", "slot__region")
    )
    if service is None or service.slot is None:
        raise Refused(422, "serviceNumber", _("its service (projectNo, serviceNumber) was not sent first"))
    if existing is not None:
        if existing.digest == digest:
            return _Taken(200)
        raise Refused(409, "assessNumber", _("stored already with other content: an evaluation is never changed"))
    # R8, R9: the codes read back as the options of what the service rated.
    questionnaire = slot_questionnaire(service.slot)
    parsed = national.read_detail(parsed, codes, questionnaire)
    comment = parsed.comment
    if parsed.default:
        # R2: a rating nobody gave in time is the default level, whatever the code says.
        try:
            rules.level_check(parsed.level)
        except DomainError as exc:
            raise Refused(422, "satisfaction", exc.detail) from exc
        if parsed.level != rules.DEFAULT_LEVEL:
            raise Refused(422, "satisfaction", _("a default rating has the default level"))
        channel, rated_by = "", ""
    else:
        channel, rated_by = parsed.channel or "", rules.APPLICANT
        try:
            content_check(
                level=parsed.level,
                channel=channel,
                rated_by=rated_by,
                answers=parsed.answers,
                reasons=parsed.reasons,
                comment=comment,
                questionnaire=questionnaire,
            )
        except DomainError as exc:
            fld = str(exc.extra.get("field", ""))
            raise Refused(422, NATIONAL_FIELD.get(fld, fld or "row"), exc.detail) from exc
    slot = service.slot
    replacing = _default_replaced(slot) if parsed.replaces_default else None
    try:
        rules.rated_once_check(replacing is None and Evaluation.objects.filter(slot=slot).exists())
    except DomainError as exc:
        raise Refused(409, "assessNumber", exc.detail) from exc
    comment, comment_sealed = seal_free_text(comment)
    answers, suggestion_sealed = seal_answers(dict(parsed.answers))
    # R7 with R15: the evaluator is the applicant the service row named; a rating from someone in
    # the registry is kept and counted nowhere, as a local one.
    who = rules.evaluator(rules.APPLICANT, [slot_facts_now(slot.pk)])
    ev = evaluation_build(
        slot,
        level=parsed.level,
        source=Evaluation.Source.DEFAULT if parsed.default else Evaluation.Source.ACTIVE,
        channel=channel,
        rated_by=rated_by,
        rated_at=parsed.rated_at,
        created_at=now,
        answers=answers,
        reasons=parsed.reasons,
        comment=comment,
        comment_sealed=comment_sealed,
        suggestion_sealed=suggestion_sealed,
        receipt=DEFAULT_RECEIPT if parsed.default else new_receipt(),
        origin=system.name,
        supersedes=replacing,
        blocked=not parsed.default and not rules.counted(who),
    )
    ev.save(force_insert=True)
    # R12 with R15: a bad rating is a case, which the lower system works; ours only holds its steps.
    if not parsed.default and rules.opens_case(parsed.level, who):
        _imported_case(ev, system, now)
    return _Taken(201, {"record": slot.record, "slot": slot, "evaluation": ev})


def _default_replaced(slot: RatingSlot) -> Evaluation | None:
    """A row marked replacesDefault: the lower system's paper form replaced the default rating it
    sent before, as a form keyed in here would (the same rule, `default_to_replace`): the default
    is kept and no longer counts. None when no rating came before (the default never went up):
    then the form is stored as any rating."""
    try:
        return default_to_replace(slot)
    except DomainError as exc:
        raise Refused(409, "assessNumber", exc.detail) from exc


def _imported_case(ev: Evaluation, system: LowerSystem, now: dt.datetime) -> BadReviewCase:
    case = BadReviewCase.objects.create(
        region_id=ev.region_id,
        evaluation=ev,
        receipt=ev.receipt,
        record_id=ev.record_id,
        item_id=ev.item_id,
        unit_id=ev.department_id,
        institution_id=ev.institution_id,
        window_id=ev.window_id,
        staff_id=ev.staff_id,
        level=ev.level,
        state=BadReviewCase.State.CLOSED,
        deadline_rules=IMPORTED_RULES,
        opened_at=ev.rated_at,
        dispatched_at=ev.rated_at,
        contact_due=ev.rated_at,
        step_started_at=ev.rated_at,
        due_at=None,
        public_id=new_public_id(),
    )
    CaseEvent.objects.create(
        case=case,
        at=now,
        action="open",
        to_state=BadReviewCase.State.CLOSED,
        actor_label=system.name,
        data={"imported": "open"},
    )
    return case


# Case steps.


def _case_step(system: LowerSystem, row: Any, existing: IncomingRow | None, now: dt.datetime) -> _Taken:
    parsed: national.ParsedCaseStep = _parse(national.parse_case_step_row, row)
    _time(parsed.at, "handleTime")
    # The evaluation under the key: a replacement of its default (replacesDefault) if one came.
    rated = IncomingRow.objects.filter(
        system=system,
        natural_key__in=[
            national.evaluation_key(parsed.project_no, parsed.assess_number),
            national.replacement_key(parsed.project_no, parsed.assess_number),
        ],
        status=IncomingRow.Status.STORED,
        evaluation__isnull=False,
    ).values_list("evaluation_id", flat=True)
    if not rated:
        raise Refused(422, "assessNumber", _("its evaluation (projectNo, assessNumber) was not sent first"))
    case = _only(BadReviewCase.objects.select_for_update().filter(evaluation_id__in=list(rated)))
    if case is None:
        raise Refused(422, "assessNumber", _("its evaluation is not a bad rating with a case"))
    if existing is not None:
        return _Taken(200)
    changed: dict[str, Any] = {}
    if parsed.step == "invalidated":
        changed = {"invalid": True, "invalid_reason": parsed.invalid_type, "closed_at": parsed.at}
    elif parsed.step == "replied":
        changed = {"replied_at": parsed.at}
    elif parsed.step == "rectified":
        changed = {"rectified_at": parsed.at}
    else:
        changed = {"revisited_at": parsed.at, "satisfied": parsed.satisfied, "closed_at": parsed.at}
    for name, value in changed.items():
        setattr(case, name, value)
    case.save(update_fields=list(changed))
    # The timeline's line is also what tells the rollups to count the case again.
    CaseEvent.objects.create(
        case=case,
        at=parsed.at,
        action=STEP_ACTIONS[parsed.step],
        from_state=BadReviewCase.State.CLOSED,
        to_state=BadReviewCase.State.CLOSED,
        actor_label=system.name,
        data={"imported": parsed.step, **({"satisfied": parsed.satisfied} if parsed.satisfied is not None else {})},
    )
    return _Taken(201, {"record": case.record, "evaluation": case.evaluation})


# Chain checkpoints.


def _checkpoint(system: LowerSystem, row: Any, existing: IncomingRow | None, digest: str) -> _Taken:
    """A lower system's signed checkpoint, kept by number once its signature checks with the key it
    registered and it follows the one before (docs/exchange.md, "Checkpoint rows")."""
    if not system.chain_public_key:
        raise Refused(
            422,
            national.ROW_KIND,
            _("chain checkpoints are not taken from this system: no chain key is registered for it"),
        )
    parsed: national.ParsedCheckpoint = _parse(
        lambda r: national.parse_checkpoint_row(r, public_key=system.chain_public_key), row
    )
    if existing is not None:
        if existing.digest == digest:
            return _Taken(200)
        raise Refused(409, "checkpoint", _("another checkpoint of this number is stored"))
    if parsed.number > 1:
        before = _only(
            IncomingRow.objects.filter(
                system=system,
                natural_key=national.checkpoint_key(parsed.number - 1),
                status=IncomingRow.Status.STORED,
            )
        )
        if before is None:
            raise Refused(422, "checkpointNumber", _("the checkpoint before it has not come yet"))
        if json.loads(before.payload)["checkpoint"]["digest"] != parsed.entry.get("prev"):
            raise Refused(409, "checkpoint", _("it does not follow the checkpoint before it"))
    return _Taken(201)
