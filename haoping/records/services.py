"""Writes for service records: registration, visits, completion. Each opens its ratable services."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol, TypeVar, cast

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping import keys
from haoping.accounts.access import access_item, access_region, access_staff, unknown_code
from haoping.accounts.models import ApiClient
from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window, path_within
from haoping.directory.selectors import policy_for_region
from haoping.errors import Conflict, DomainError, Invalid
from haoping.fields import cert_digest, cert_key, lookup_digest
from haoping.lib.gm import constant_time_equal, hmac_sm3
from haoping.records import rules
from haoping.records.links import link_pair, new_public_id
from haoping.records.lookups import DirectoryLookups, directory_lookups
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit
from haoping.records.selectors import record_for_client, record_links

M = TypeVar("M", bound=Model)

MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class PartyData:
    kind: str
    name: str = ""
    phone: str = ""
    id_number: str = ""


def check_time(value: dt.datetime, field: str, *, not_before: dt.datetime | None = None) -> None:
    """A time a client sends: with a zone, not in the future, not before the system or `not_before`."""
    if timezone.is_naive(value):
        raise Invalid("invalid", _("%(field)s: give a time zone (e.g. +08:00)") % {"field": field}, field=field)
    if value.year < EARLIEST_YEAR:  # compared before any zone arithmetic, which overflows near year 1
        raise Invalid("invalid", _("%(field)s: earlier than the year 2000") % {"field": field}, field=field)
    if value > timezone.now() + MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("%(field)s: lies in the future") % {"field": field}, field=field)
    if not_before is not None and value < not_before - MAX_CLOCK_SKEW:
        raise Invalid("invalid", _("%(field)s: earlier than the step before it") % {"field": field}, field=field)


def phone_tail_digest(phone: str) -> str:
    """Keyed SM3 of a phone number's last four digits (or of the four digits searched for)."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c in "0123456789")
    return lookup_digest("phone_tail", digits[-4:]) if len(digits) >= 4 else ""


def party_build(data: PartyData) -> Applicant:
    """An unsaved applicant or agent, with the keyed digests that let R15 match them later."""
    return Applicant(
        kind=data.kind,
        name=data.name,
        phone=data.phone,
        id_number=data.id_number,
        phone_digest=lookup_digest("phone", data.phone),
        phone_tail_digest=phone_tail_digest(data.phone),
        id_digest=lookup_digest("id", data.id_number),
        cert_digest=cert_digest(cert_key(data.id_number)),
    )


def slot_build(
    *,
    kind: str,
    region_id: int,
    at: dt.datetime,
    window_days: int,
    record: ServiceRecord | None = None,
    visit: Visit | None = None,
    bundle: Bundle | None = None,
) -> RatingSlot:
    """An unsaved ratable service; its closing time is fixed when it opens (R2), a theme's never."""
    closes_at = rules.window_closes_at(kind, at, window_days)
    return RatingSlot(
        public_id=new_public_id(),
        kind=kind,
        region_id=region_id,
        record=record,
        visit=visit,
        bundle=bundle,
        opens_at=at,
        closes_at=closes_at,
    )


def slot_open(
    *,
    kind: str,
    region: Region,
    at: dt.datetime,
    record: ServiceRecord | None = None,
    visit: Visit | None = None,
    bundle: Bundle | None = None,
) -> RatingSlot:
    """Open a ratable service under the region's policy in force now."""
    slot = slot_build(
        kind=kind,
        region_id=region.pk,
        at=at,
        window_days=policy_for_region(region).rating_window_days,
        record=record,
        visit=visit,
        bundle=bundle,
    )
    slot.save(force_insert=True)
    return slot


def _bundle(
    *, bundle_no: str | None, bundle_kind: str | None, region: Region, item: ServiceItem, at: dt.datetime
) -> Bundle | None:
    """The bundle a record joins, created by its first record; concurrent first records share it."""
    if not bundle_no:
        return None
    assert bundle_kind is not None  # the schema pairs bundle_no with its kind
    bundle = Bundle.objects.select_for_update().filter(bundle_no=bundle_no).first()
    if bundle is None:
        try:
            with transaction.atomic():
                bundle = Bundle.objects.create(bundle_no=bundle_no, kind=bundle_kind, region=region)
                if bundle.kind == Bundle.Kind.THEME:
                    slot_open(kind=RatingSlot.Kind.THEME, region=region, at=at, bundle=bundle)
                return bundle
        except IntegrityError:
            bundle = Bundle.objects.select_for_update().get(bundle_no=bundle_no)
    if bundle.region_id != region.pk:
        # Checked before anything else about the bundle, and answered without a word about it.
        raise number_unusable("bundle.bundle_no")
    if bundle.kind != bundle_kind:
        raise Invalid(
            "invalid",
            _("bundle.kind: bundle %(no)s is a %(kind)s bundle") % {"no": bundle_no, "kind": bundle.get_kind_display()},
            field="bundle.kind",
        )
    if bundle.kind == Bundle.Kind.BATCH:
        # Every record of a batch is of one item: any one's is the batch's.
        batch_item_id = next(iter(bundle.records.values_list("item_id", flat=True)[:1]), None)
        rules.batch_item_check(bundle.kind, batch_item_id, item.pk)
    return bundle


@dataclass(frozen=True)
class RecordRow:
    """One record as a business system sends it (`POST /records`, or a row of a batch)."""

    record_no: str
    item_code: str
    institution_code: str | None
    platform_code: str | None
    window_code: str | None
    staff_no: str | None
    mode: str
    on_the_spot: bool
    applicant: PartyData
    agent: PartyData | None
    bundle_kind: str | None
    bundle_no: str | None
    accepted_at: dt.datetime
    completed_at: dt.datetime | None

    def digest(self) -> str:
        """Keyed SM3 of the row (personal data included, never stored in clear): the same row sent
        again is recognised as a replay. Times compare as instants, whatever zone they are sent in."""
        values = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("applicant", "agent", "accepted_at", "completed_at")
        }
        # `asdict` of these flat rows, without its deep copies.
        values["applicant"] = dict(vars(self.applicant))
        values["agent"] = dict(vars(self.agent)) if self.agent else None
        for name in ("accepted_at", "completed_at"):
            value = getattr(self, name)
            values[name] = value.timestamp() if value is not None else None
        text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hmac_sm3(keys.index_key(), b"record-row:" + text.encode()).hex()


@dataclass
class CheckedRecord:
    """A row that passed every rule but the number's: what `records_write` stores."""

    row: RecordRow
    digest: str
    region: Region
    item: ServiceItem
    institution: Institution | None
    platform: Platform | None
    window: Window | None
    staff: Staff | None
    window_days: int


def _known(lookups: DirectoryLookups, model: type[M], field: str, code: str | None) -> M | None:
    obj = lookups.get(model, code)
    if code and obj is None:
        raise unknown_code(field, code)
    return cast("M | None", obj)


def _staff(client: ApiClient, staff: Staff | None, institution: Institution | None) -> Staff | None:
    if staff is None:
        return None
    access_staff(client, staff, "staff_no")
    if institution is not None and staff.institution_id not in (None, institution.pk):
        raise Invalid("invalid", _("staff_no: the staff member works at another institution"), field="staff_no")
    return staff


def record_check(*, client: ApiClient, row: RecordRow, lookups: DirectoryLookups) -> CheckedRecord:
    """Every rule a record must pass before its number is looked at, in the order they answer."""
    item = _known(lookups, ServiceItem, "item_code", row.item_code)
    assert item is not None
    access_item(client, item, "item_code")
    institution = _known(lookups, Institution, "institution_code", row.institution_code)
    platform = _known(lookups, Platform, "platform_code", row.platform_code)
    if institution is None and platform is None:
        raise Invalid("invalid", _("institution_code or platform_code: give at least one"), field="institution_code")
    if platform is not None:
        access_region(client, platform.region, "platform_code", platform.code)
        region = platform.region
    if institution is not None:
        access_region(client, institution.region, "institution_code", institution.code)
        region = institution.region
    window = _known(lookups, Window, "window_code", row.window_code)
    if window is not None:
        access_region(client, window.institution.region, "window_code", window.code)
    if window is not None and (institution is None or window.institution_id != institution.pk):
        raise Invalid("invalid", _("window_code: the window does not belong to the institution"), field="window_code")
    staff = _staff(client, _known(lookups, Staff, "staff_no", row.staff_no), institution)
    check_time(row.accepted_at, "accepted_at")
    if row.completed_at is not None:
        check_time(row.completed_at, "completed_at", not_before=row.accepted_at)
    return CheckedRecord(
        row=row,
        digest=row.digest(),
        region=region,
        item=item,
        institution=institution,
        platform=platform,
        window=window,
        staff=staff,
        window_days=lookups.rating_window_days(region),
    )


@dataclass(frozen=True)
class Taken:
    """A record number already registered: where, and the digest of the row that registered it."""

    region_path: str
    digest: str


def records_taken(record_nos: Iterable[str]) -> dict[str, Taken]:
    """The numbers among `record_nos` already registered, in one query."""
    rows = ServiceRecord.objects.filter(record_no__in=set(record_nos)).values_list(
        "record_no", "region__path", "body_digest"
    )
    return {no: Taken(path, digest) for no, path, digest in rows}


def number_unusable(field: str) -> Invalid:
    return Invalid(
        "invalid",
        _("%(field)s: this number cannot be used; send the number your system issued") % {"field": field},
        field=field,
    )


def number_check(*, client: ApiClient, record_no: str, taken: Taken | None, digest: str) -> bool:
    """Whether the number is free (False), or taken by this very row sent before: a replay (True).

    A record number is national: the exchange carries it upward as `projectNo`, so it stays
    unique across regions rather than per region (two records under one number would be ambiguous
    to every key and platform above both). A number taken inside the key's subtree by another row
    is a duplicate it can see anyway (409). One taken elsewhere cannot be registered either; the
    answer names the field and says only that the number cannot be used: never "already
    registered", nor the record's region or state. It comes last, so that a request that fails on
    anything else answers the same whether or not its number is taken.
    """
    if taken is None:
        return False
    if not path_within(taken.region_path, client.region.path):
        raise number_unusable("record_no")
    if taken.digest and constant_time_equal(taken.digest.encode(), digest.encode()):
        return True
    raise Conflict("duplicate", _("record_no: %(no)s is already registered") % {"no": record_no}, field="record_no")


@dataclass
class RecordResult:
    record_no: str
    status: str
    replayed: bool
    links: dict[str, dict[str, str]]


def _result(record: ServiceRecord, slot: RatingSlot | None) -> RecordResult:
    links = record_links(record) if record.bundle_id else {"completion": link_pair(slot.public_id)} if slot else {}
    return RecordResult(record.record_no, record.status, False, links)


def _replayed(record_no: str) -> RecordResult:
    record = ServiceRecord.objects.get(record_no=record_no)
    return RecordResult(record.record_no, record.status, True, record_links(record))


def records_write(checked: Sequence[CheckedRecord]) -> list[RecordResult]:
    """Store checked rows in one transaction, a few statements for all of them: the applicants
    and agents, the records, their completion slots. The caller bounds how many (WRITE_CHUNK)."""
    applicants = [party_build(c.row.applicant) for c in checked]
    agents = {i: party_build(c.row.agent) for i, c in enumerate(checked) if c.row.agent}
    with transaction.atomic():
        Applicant.objects.bulk_create([*applicants, *agents.values()])
        records = []
        for i, c in enumerate(checked):
            row = c.row
            bundle = _bundle(
                bundle_no=row.bundle_no, bundle_kind=row.bundle_kind, region=c.region, item=c.item, at=row.accepted_at
            )
            completed = row.completed_at is not None
            records.append(
                ServiceRecord(
                    record_no=row.record_no,
                    body_digest=c.digest,
                    region=c.region,
                    item=c.item,
                    institution=c.institution,
                    platform=c.platform,
                    window=c.window,
                    staff=c.staff,
                    mode=row.mode,
                    on_the_spot=row.on_the_spot,
                    applicant=applicants[i],
                    agent=agents.get(i),
                    bundle=bundle,
                    accepted_at=row.accepted_at,
                    status=ServiceRecord.Status.COMPLETED if completed else ServiceRecord.Status.IN_PROGRESS,
                    completed_at=row.completed_at,
                )
            )
        ServiceRecord.objects.bulk_create(records)
        # R4: every record is rated once at completion.
        slots = {
            i: slot_build(
                kind=RatingSlot.Kind.COMPLETION,
                region_id=c.region.pk,
                at=c.row.completed_at,
                window_days=c.window_days,
                record=records[i],
            )
            for i, c in enumerate(checked)
            if c.row.completed_at is not None
        }
        RatingSlot.objects.bulk_create(slots.values())
        for slot in slots.values():
            _follow_completion(slot)
        _slots_opened(list(slots.values()))
    return [_result(record, slots.get(i)) for i, record in enumerate(records)]


def record_register(*, client: ApiClient, row: RecordRow) -> RecordResult:
    """Register one record (`POST /records`); the same row sent again is answered as it was."""
    checked = record_check(client=client, row=row, lookups=directory_lookups())
    if not row.bundle_no:
        # Most numbers are new: the insert itself finds out, and only a number already taken costs
        # the look-up (a bundle is checked before the number is, as it always was).
        try:
            return records_write([checked])[0]
        except IntegrityError:
            pass
    # Only a registration that would otherwise succeed learns whether its number is free.
    taken = records_taken([row.record_no]).get(row.record_no)
    if number_check(client=client, record_no=row.record_no, taken=taken, digest=checked.digest):
        return _replayed(row.record_no)
    try:
        return records_write([checked])[0]
    except IntegrityError:  # a concurrent registration of the same number
        taken = records_taken([row.record_no]).get(row.record_no)
        if number_check(client=client, record_no=row.record_no, taken=taken, digest=checked.digest):
            return _replayed(row.record_no)
        raise


def record_create(**fields: Any) -> ServiceRecord:
    """Register one record from its fields (as `RecordRow` names them); returns the record."""
    client = fields.pop("client")
    result = record_register(client=client, row=RecordRow(**fields))
    return ServiceRecord.objects.get(record_no=result.record_no)


# A batch is written this many rows to a transaction: each stays well under the 200 ms that
# bounds every transaction, whatever the batch's size.
WRITE_CHUNK = 200
MAX_BATCH = 1000


@dataclass
class RowOutcome:
    """What became of one row of a batch: a result (201, or 200 for a replay) or an error."""

    index: int
    record_no: str
    result: Any = None
    error: DomainError | None = None

    @property
    def status(self) -> int:
        if self.error is not None:
            return self.error.status
        return 200 if self.result.replayed else 201


def records_register(*, client: ApiClient, rows: Sequence[RecordRow | DomainError]) -> list[RowOutcome]:
    """Register a batch: every row through the rules of `record_register`, the valid ones stored
    even when others fail, in order. A row given as an error (it failed the schema) stays one."""
    lookups = directory_lookups()
    valid = [r for r in rows if isinstance(r, RecordRow)]
    for model, attr in (
        (ServiceItem, "item_code"),
        (Institution, "institution_code"),
        (Platform, "platform_code"),
        (Window, "window_code"),
        (Staff, "staff_no"),
    ):
        lookups.load(model, (getattr(r, attr) for r in valid))
    outcomes = [RowOutcome(i, r.record_no if isinstance(r, RecordRow) else "") for i, r in enumerate(rows)]
    checked: dict[int, CheckedRecord] = {}
    for i, row in enumerate(rows):
        if isinstance(row, DomainError):
            outcomes[i].error = row
            continue
        try:
            checked[i] = record_check(client=client, row=row, lookups=lookups)
        except DomainError as exc:
            outcomes[i].error = exc
    taken = records_taken(c.row.record_no for c in checked.values())
    to_write: list[int] = []
    replays: dict[int, str] = {}
    written_by: dict[str, int] = {}
    for i, c in checked.items():
        no = c.row.record_no
        try:
            if number_check(client=client, record_no=no, taken=taken.get(no), digest=c.digest):
                replays[i] = no
                continue
        except DomainError as exc:
            outcomes[i].error = exc
            continue
        # The batch's own earlier row with this number counts as registered before it.
        taken[no] = Taken(client.region.path, c.digest)
        written_by[no] = i
        to_write.append(i)
    plain = [i for i in to_write if not checked[i].row.bundle_no]
    for start in range(0, len(plain), WRITE_CHUNK):
        chunk = plain[start : start + WRITE_CHUNK]
        try:
            for i, result in zip(chunk, records_write([checked[i] for i in chunk]), strict=True):
                outcomes[i].result = result
        except IntegrityError:
            # A number registered concurrently since it was looked up: each row on its own.
            for i in chunk:
                _register_alone(client, outcomes[i], checked[i])
    for i in to_write:
        if checked[i].row.bundle_no:  # a bundle is locked and checked row by row
            _register_alone(client, outcomes[i], checked[i])
    for i, no in replays.items():
        # A replay of a row of this batch is answered after it, and fails if it failed.
        first = outcomes[written_by[no]] if no in written_by else None
        if first is not None and first.error is not None:
            outcomes[i].error = first.error
        else:
            outcomes[i].result = _replayed(no)
    return outcomes


def _register_alone(client: ApiClient, outcome: RowOutcome, checked: CheckedRecord) -> None:
    try:
        try:
            outcome.result = records_write([checked])[0]
        except IntegrityError:
            no = checked.row.record_no
            if not number_check(client=client, record_no=no, taken=records_taken([no]).get(no), digest=checked.digest):
                raise
            outcome.result = _replayed(no)
    except DomainError as exc:
        outcome.error = exc


# What else happens when a record completes, each given its new completion slot: evaluations
# registers R5/R6's inheritance (`evaluation_inherit`) from its app's `ready`, so that records,
# which evaluations reads, never imports it.
class CompletionFollower(Protocol):
    def __call__(self, *, slot: RatingSlot) -> object: ...


_completion_followers: list[CompletionFollower] = []


def completion_follower(follow: CompletionFollower) -> None:
    if follow not in _completion_followers:
        _completion_followers.append(follow)


def _follow_completion(slot: RatingSlot) -> None:
    for follow in _completion_followers:
        follow(slot=slot)


# Who else learns that ratable services opened, inside the transaction that opened them: the window
# pads (haoping.pads) register from their app's `ready`, so that records never imports them.
class SlotsOpenedFollower(Protocol):
    def __call__(self, *, slots: Sequence[RatingSlot]) -> object: ...


_slots_opened_followers: list[SlotsOpenedFollower] = []


def slots_opened_follower(follow: SlotsOpenedFollower) -> None:
    if follow not in _slots_opened_followers:
        _slots_opened_followers.append(follow)


def _slots_opened(slots: Sequence[RatingSlot]) -> None:
    if slots:
        for follow in _slots_opened_followers:
            follow(slots=slots)


def _complete(record: ServiceRecord, completed_at: dt.datetime, lookups: DirectoryLookups) -> RatingSlot:
    record.status = ServiceRecord.Status.COMPLETED
    record.completed_at = completed_at
    record.save(update_fields=["status", "completed_at"])
    # R4: every record is rated once at completion.
    slot = slot_build(
        kind=RatingSlot.Kind.COMPLETION,
        region_id=record.region_id,
        at=completed_at,
        window_days=lookups.rating_window_days(record.region),
        record=record,
    )
    slot.save(force_insert=True)
    _follow_completion(slot)
    _slots_opened([slot])
    return slot


@dataclass
class CompletionResult:
    slot: RatingSlot
    replayed: bool = False


@transaction.atomic
def completion_register(*, client: ApiClient, record_no: str, completed_at: dt.datetime) -> CompletionResult:
    """Mark a record completed; the same completion sent again (same time) is answered as it was."""
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    if record.status == ServiceRecord.Status.COMPLETED:
        if record.completed_at == completed_at:
            slot = RatingSlot.objects.select_related("record").get(record=record, kind=RatingSlot.Kind.COMPLETION)
            return CompletionResult(slot, replayed=True)
        raise Conflict("already_completed", _("record %(no)s was completed already") % {"no": record_no})
    last_visit = record.visits.order_by("-at").values_list("at", flat=True).first()
    check_time(completed_at, "completed_at", not_before=max(filter(None, [record.accepted_at, last_visit])))
    return CompletionResult(_complete(record, completed_at, directory_lookups()))


def record_complete(*, client: ApiClient, record_no: str, completed_at: dt.datetime) -> RatingSlot:
    return completion_register(client=client, record_no=record_no, completed_at=completed_at).slot


@dataclass
class VisitResult:
    visit: Visit
    slot: RatingSlot | None
    replayed: bool = False


@transaction.atomic
def visit_create(
    *, client: ApiClient, record_no: str, window_code: str, staff_no: str | None, at: dt.datetime
) -> VisitResult:
    """Register a window visit; sending the same visit again returns it instead of a second one."""
    lookups = directory_lookups()
    record = record_for_client(client=client, record_no=record_no, for_update=True)
    window = _known(lookups, Window, "window_code", window_code)
    assert window is not None
    access_region(client, window.institution.region, "window_code", window.code)
    staff = _staff(client, _known(lookups, Staff, "staff_no", staff_no), window.institution)
    check_time(at, "at", not_before=record.accepted_at)
    earlier = Visit.objects.filter(record=record, window=window, at=at).select_related("slot").first()
    if earlier is not None:
        return VisitResult(earlier, getattr(earlier, "slot", None), replayed=True)
    if record.completed_at is not None and at > record.completed_at + MAX_CLOCK_SKEW:
        raise Conflict("already_completed", _("record %(no)s is completed; no more visits") % {"no": record_no})
    visit = Visit.objects.create(record=record, window=window, staff=staff, at=at)
    slot = None
    if rules.rated_per_visit(record.mode, record.on_the_spot):
        slot = slot_build(
            kind=RatingSlot.Kind.VISIT,
            region_id=record.region_id,
            at=at,
            window_days=lookups.rating_window_days(record.region),
            record=record,
            visit=visit,
        )
        slot.save(force_insert=True)
        _slots_opened([slot])
    return VisitResult(visit, slot)


@dataclass(frozen=True)
class VisitRow:
    record_no: str
    window_code: str
    staff_no: str | None
    at: dt.datetime


@dataclass(frozen=True)
class CompletionRow:
    record_no: str
    completed_at: dt.datetime


def _rows_alone(rows: Sequence[Any], register: Any) -> list[RowOutcome]:
    """Each row through `register`, the single request's own service, WRITE_CHUNK rows to a
    transaction and each in a savepoint of its own: a row that fails leaves the others stored."""
    outcomes = [RowOutcome(i, getattr(r, "record_no", "")) for i, r in enumerate(rows)]
    for start in range(0, len(rows), WRITE_CHUNK):
        with transaction.atomic():
            for i in range(start, min(len(rows), start + WRITE_CHUNK)):
                row = rows[i]
                if isinstance(row, DomainError):
                    outcomes[i].error = row
                    continue
                try:
                    outcomes[i].result = register(row)
                except DomainError as exc:
                    outcomes[i].error = exc
    return outcomes


def visits_register(*, client: ApiClient, rows: Sequence[VisitRow | DomainError]) -> list[RowOutcome]:
    """Register a batch of visits, each by the rules of `visit_create`."""
    directory_lookups().load(Window, (r.window_code for r in rows if isinstance(r, VisitRow)))
    return _rows_alone(rows, lambda row: visit_create(client=client, **asdict(row)))


def completions_register(*, client: ApiClient, rows: Sequence[CompletionRow | DomainError]) -> list[RowOutcome]:
    """Mark a batch of records completed, each by the rules of `completion_register`."""
    return _rows_alone(rows, lambda row: completion_register(client=client, **asdict(row)))
