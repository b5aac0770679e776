"""Writes for evaluations: a rating submission (any channel) and the default-rating sweep.

The rating request stays thin: one slot lookup, one insert, one commit. Derived figures are
computed elsewhere.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import access_visible
from haoping.accounts.models import ApiClient
from haoping.directory.models import Region
from haoping.errors import Busy, Conflict, Invalid, NotFound
from haoping.evaluations import rules
from haoping.evaluations.chain import row_mac
from haoping.evaluations.models import BlockedEvaluator, Evaluation
from haoping.evaluations.rules import DEFAULT_LEVEL, SUGGESTION, Content, Party, SlotFacts
from haoping.evaluations.selectors import questionnaire_for, rated_kinds
from haoping.fields import seal_free_text
from haoping.ops.rollups import rollups_soon
from haoping.records.links import public_id_from_token
from haoping.records.models import Bundle, RatingSlot, ServiceRecord
from haoping.records.services import MAX_CLOCK_SKEW, check_time

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
DEFAULT_RECEIPT = "DEFAULT"

SLOT_RELATED = ("region", "record__item", "record__bundle", "visit__window", "bundle")
# Only what a rating reads: a narrow row is cheaper to build, send and plan than seven whole tables.
SLOT_FIELDS = (
    *("public_id", "kind", "opens_at", "closes_at", "region__path"),
    *("record__record_no", "record__item_id", "record__institution_id", "record__platform_id"),
    *("record__window_id", "record__staff_id", "record__agent_id", "record__bundle_id", "record__region_id"),
    "record__applicant_id",
    *("record__item__department_id", "record__bundle__kind", "visit__at", "visit__window_id", "visit__staff_id"),
    *("visit__window__institution_id", "bundle__kind"),
)


@dataclass
class Submission:
    receipt: str
    evaluations: list[Evaluation]
    replayed: bool = False


def new_receipt() -> str:
    # 32 symbols: each random byte's low five bits pick one uniformly (60 bits in all).
    code = "".join(RECEIPT_ALPHABET[b & 31] for b in secrets.token_bytes(12))
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def content_check(
    *,
    level: Any,
    channel: str,
    rated_by: str,
    answers: dict[str, Any],
    reasons: list[str],
    comment: str,
    questionnaire: rules.Questionnaire | None = None,
) -> Content:
    """What a rating says, checked by the rules: R1, R8 before anything is looked up; with the
    `questionnaire` of what it rates, once that is known, R8 and R9's options too."""
    content = Content(
        level=level, channel=channel, rated_by=rated_by, answers=answers, reasons=reasons, comment=comment
    )
    rules.content_check(content)
    if questionnaire is not None:
        rules.offered_check(content, questionnaire)
    return content


def slot_questionnaire(slot: RatingSlot) -> rules.Questionnaire:
    """R8, R9: the questionnaire of what a ratable service rates, in its region (a theme as a whole:
    its units'). From the process's cache: no query for a slot loaded as `_slots()` loads it."""
    if slot.record is None:
        kinds: tuple[str, ...] = (rules.INSTITUTION,)
    else:
        known = {
            path: None if path.startswith("visit__") and slot.visit is None else _follow(slot, path)
            for path in PLACE_VALUES
        }
        kinds = rated_kinds(rated_place(known))
    return questionnaire_for(slot.region.path, kinds)


def seal_answers(answers: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The questionnaire as stored: its free-text suggestion masked like a comment, and the original
    to seal beside it (`seal_free_text`), empty when masking changed nothing."""
    suggestion = answers.get(SUGGESTION)
    if not isinstance(suggestion, str):
        return answers, ""
    masked, sealed = seal_free_text(suggestion)
    return {**answers, SUGGESTION: masked}, sealed


def blocked_exists(person: str) -> Exists:
    """Whether the record's applicant or agent is in the registry (R15), matched by keyed digests."""
    live = BlockedEvaluator.objects.filter(removed_at__isnull=True)
    return Exists(
        live.filter(
            Q(phone_digest=OuterRef(f"record__{person}__phone_digest"))
            | Q(id_digest=OuterRef(f"record__{person}__id_digest"))
            | Q(cert_digest=OuterRef(f"record__{person}__cert_digest"))
        )
    )


def _slots() -> QuerySet[RatingSlot]:
    """Ratable services with the facts the rules ask about: rated yet, and each party's registry entry."""
    return RatingSlot.objects.select_related(*SLOT_RELATED).annotate(
        applicant_blocked=blocked_exists("applicant"),
        agent_blocked=blocked_exists("agent"),
        rated=Exists(Evaluation.objects.filter(slot_id=OuterRef("pk"))),
    )


def slot_facts(slot: RatingSlot) -> SlotFacts:
    """The facts of a slot from `_slots()`, as the rules take them."""
    record, visit = slot.record, slot.visit
    agent_id = record.agent_id if record else None
    return SlotFacts(
        key=slot.pk,
        kind=slot.kind,
        opens_at=slot.opens_at,
        closes_at=slot.closes_at,
        rated=bool(slot.rated),  # type: ignore[attr-defined]
        applicant=Party(record.applicant_id if record else None, bool(slot.applicant_blocked)),  # type: ignore[attr-defined]
        agent=None if agent_id is None else Party(agent_id, bool(slot.agent_blocked)),  # type: ignore[attr-defined]
        visit_window_id=visit.window_id if visit else None,
        visit_day=timezone.localtime(visit.at).date() if visit else None,
    )


def slot_facts_now(slot_id: int) -> SlotFacts:
    """A slot's facts as the rules take them, read afresh (rated yet, each party's registry entry)."""
    return slot_facts(_slots().get(pk=slot_id))


def _resolve_slot(
    *, client: ApiClient | None, token: str | None, record_no: str | None, visit_id: int | None, bundle_no: str | None
) -> RatingSlot:
    slots = _slots()
    given = [name for name, value in (("token", token), ("record_no", record_no), ("bundle_no", bundle_no)) if value]
    if len(given) != 1:
        raise Invalid("invalid", _("token, record_no or bundle_no: give exactly one"), field="token")
    if token:
        slot = next(iter(slots.only(*SLOT_FIELDS).filter(public_id=public_id_from_token(token))[:1]), None)
        if slot is None:
            raise NotFound("token_not_found", _("no such rating link"))
    elif bundle_no:
        bundle = Bundle.objects.filter(bundle_no=bundle_no).first()
        if bundle is None:
            raise NotFound("not_found", _("bundle %(no)s not found") % {"no": bundle_no})
        access_visible(client, bundle.region, _("bundle %(no)s") % {"no": bundle_no})
        if bundle.kind != Bundle.Kind.THEME:
            raise Invalid("invalid", _("bundle_no: a batch is rated through any one of its records"), field="bundle_no")
        slot = slots.get(kind=RatingSlot.Kind.THEME, bundle=bundle)
    else:
        record = ServiceRecord.objects.filter(record_no=record_no).select_related("region").first()
        if record is None:
            raise NotFound("not_found", _("record %(no)s not found") % {"no": record_no})
        access_visible(client, record.region, _("record %(no)s") % {"no": record_no})
        if visit_id is not None:
            if not record.visits.filter(pk=visit_id).exists():
                raise NotFound(
                    "not_found", _("visit %(visit)s of record %(no)s not found") % {"visit": visit_id, "no": record_no}
                )
            found = slots.filter(kind=RatingSlot.Kind.VISIT, visit_id=visit_id).first()
            if found is None:
                # R4: online and on-the-spot services are rated once, at completion.
                raise Conflict("not_ratable", _("this record is rated once, at completion, not per visit"))
            slot = found
        else:
            found = slots.filter(kind=RatingSlot.Kind.COMPLETION, record=record).first()
            if found is None:
                raise Conflict("not_completed", _("record %(no)s is not completed yet") % {"no": record_no})
            slot = found
    access_visible(client, slot.region, _("ratable service"))
    return slot


def _targets(slot: RatingSlot, at: dt.datetime) -> list[RatingSlot]:
    """The ratable services one submission rates (R5, R6), or a 409/410 explaining why none."""
    if slot.kind == RatingSlot.Kind.THEME:
        linked = list(_slots().filter(kind=RatingSlot.Kind.COMPLETION, record__bundle=slot.bundle).order_by("pk"))
        keys = rules.theme_targets([slot_facts(s) for s in linked], at, skew=MAX_CLOCK_SKEW)
    else:
        bundle = slot.record.bundle if slot.record else None
        linked = [slot]
        if bundle is not None and bundle.kind == Bundle.Kind.BATCH:
            linked += list(_slots().filter(kind=slot.kind, record__bundle=bundle).exclude(pk=slot.pk).order_by("pk"))
        keys = rules.batch_targets(slot_facts(slot), [slot_facts(s) for s in linked], at, skew=MAX_CLOCK_SKEW)
    by_key = {s.pk: s for s in linked}
    return [by_key[key] for key in keys]


# What an evaluation copies from its ratable service, as lookup paths from the slot. The fast
# path (haoping.evaluations.fastpath) reads the same paths in one SELECT.
SLOT_VALUES = (
    *("id", "region_id", "record_id", "visit_id", "record__item_id", "record__item__department_id"),
    *("record__institution_id", "record__platform_id", "record__window_id", "record__staff_id"),
    *("record__bundle_id", "visit__window_id", "visit__staff_id", "visit__window__institution_id"),
)


def _follow(obj: Any, path: str) -> Any:
    for name in path.split("__"):
        obj = getattr(obj, name)
    return obj


def rated_ids(values: dict[str, Any]) -> dict[str, Any]:
    """The evaluation's keys from a slot's `SLOT_VALUES`: who was rated, so indicators need no joins.

    A visit rates its window's hall and the staff member at that window (else the record's); a
    completion rates the record's hall or platform, window and staff member.
    """
    return {
        "region_id": values["region_id"],
        "slot_id": values["id"],
        "record_id": values["record_id"],
        "visit_id": values["visit_id"],
        "item_id": values["record__item_id"],
        "department_id": values["record__item__department_id"],
        "bundle_id": values["record__bundle_id"],
        **rated_place(values),
    }


# The paths of SLOT_VALUES that `rated_place` reads.
PLACE_VALUES = (
    *("visit_id", "visit__window__institution_id", "visit__window_id", "visit__staff_id"),
    *("record__institution_id", "record__platform_id", "record__window_id", "record__staff_id"),
)


def rated_place(values: Mapping[str, Any]) -> dict[str, Any]:
    """Where and by whom the service rated was given (`rated_ids`): its hall or platform, window, staff member."""
    if values["visit_id"] is not None:
        place = {
            "institution_id": values["visit__window__institution_id"],
            "platform_id": None,
            "window_id": values["visit__window_id"],
            "staff_id": values["visit__staff_id"] or values["record__staff_id"],
        }
    else:
        place = {
            "institution_id": values["record__institution_id"],
            "platform_id": values["record__platform_id"],
            "window_id": values["record__window_id"],
            "staff_id": values["record__staff_id"],
        }
    return place


def evaluation_build(slot: RatingSlot, **values: Any) -> Evaluation:
    """An unsaved evaluation of `slot`, with who-was-rated copied in and its row MAC set."""
    assert slot.record is not None
    known = {
        path: None if path.startswith("visit__") and slot.visit is None else _follow(slot, path) for path in SLOT_VALUES
    }
    ev = Evaluation(**rated_ids(known), **values)
    # The objects at hand, so that callers reading them cost no queries.
    ev.slot, ev.record, ev.visit = slot, slot.record, slot.visit
    ev.row_mac = row_mac(ev)
    return ev


def default_to_replace(slot: RatingSlot) -> Evaluation | None:
    """The rating a paper form of `slot` replaces (R2 with R4): its default rating, once, never an
    active one (Conflict); None when the service has no rating yet. Used by the paper forms keyed
    in here and by a lower system's replacement rows (haoping.exchange.intake)."""
    existing = Evaluation.objects.filter(slot=slot, supersedes__isnull=True).first()
    if existing is None:
        return None
    replaced = Evaluation.objects.filter(region_id=existing.region_id, supersedes=existing).exists()
    rules.replacement_check(existing.source, replaced)
    return existing


def evaluation_submit(
    *,
    client: ApiClient | None,
    token: str | None = None,
    record_no: str | None = None,
    visit_id: int | None = None,
    bundle_no: str | None = None,
    level: int,
    channel: str,
    rated_by: str = "applicant",
    answers: dict[str, Any] | None = None,
    reasons: list[str] | None = None,
    comment: str = "",
    rated_at: dt.datetime | None = None,
    client_ref: str = "",
    paper_grace: dt.timedelta | None = None,
) -> Submission:
    """Record one rating, whichever channel it came through.

    `client` is the API client (its region bounds what it may rate), or None for the public
    rating page, where the signed token is the authority. A retry carrying the same
    `client_ref` gets the original submission back instead of a second rating.

    `paper_grace` (paper forms, with the form's date as `rated_at`): how long after the window
    closed the form may still be keyed in; a default rating recorded meanwhile is then replaced
    (`Evaluation.supersedes`). Left out, it is the grace of the service's region
    (`paper_grace_source`).
    """
    answers = answers or {}
    reasons = reasons or []
    comment = comment.strip()
    content = content_check(
        level=level, channel=channel, rated_by=rated_by, answers=answers, reasons=reasons, comment=comment
    )
    if len(client_ref) > 64:
        raise Invalid("too_long", _("client_ref: at most %(max)d characters") % {"max": 64}, field="client_ref")
    comment, comment_sealed = seal_free_text(comment)
    answers, suggestion_sealed = seal_answers(answers)
    now = timezone.now()
    if rated_at is not None:
        if channel != Evaluation.Channel.PAPER:
            raise Invalid("invalid", _("rated_at: only paper forms carry their own rating time"), field="rated_at")
        check_time(rated_at, "rated_at")
    at = rated_at or now
    # A reference is the client's own: two clients may use the same one.
    ref = f"{client.pk}:{client_ref}" if client_ref and client else client_ref

    slot = _resolve_slot(client=client, token=token, record_no=record_no, visit_id=visit_id, bundle_no=bundle_no)
    replay = _replay(slot, ref, level)
    if replay:
        return replay
    if paper_grace is None and rated_at is not None and _paper_grace_for is not None:
        # A paper form with its date, from whichever path: its region's grace (R2, R3).
        paper_grace = _paper_grace_for(slot.region)
    # R8, R9: what it may be asked follows from what it rates, known only now.
    rules.offered_check(content, slot_questionnaire(slot))
    if paper_grace is not None:
        if channel != Evaluation.Channel.PAPER or rated_at is None:
            raise Invalid("invalid", _("rated_at: a paper form needs the date it was filled in"), field="rated_at")
        rules.paper_grace_check(slot_facts(slot), at, now, grace=paper_grace, skew=MAX_CLOCK_SKEW)
        replacing = default_to_replace(slot)
        targets = [slot] if replacing is not None else _targets(slot, at)
    else:
        targets, replacing = _targets(slot, at), None
    who = rules.evaluator(rated_by, [slot_facts(t) for t in targets])
    receipt = new_receipt()
    blocked = not rules.counted(who)
    rows = [
        evaluation_build(
            target,
            level=level,
            source=Evaluation.Source.ACTIVE,
            channel=channel,
            rated_by=rated_by,
            rated_at=at,
            created_at=now,
            answers=answers,
            reasons=reasons,
            comment=comment,
            comment_sealed=comment_sealed,
            suggestion_sealed=suggestion_sealed,
            receipt=receipt,
            client_ref=ref,
            overall=slot.kind == RatingSlot.Kind.THEME,
            blocked=blocked,
            supersedes=replacing,
        )
        for target in targets
    ]
    try:
        _retrying(lambda: _store(rows, targets[0].region, who, now))
    except IntegrityError as exc:
        # R4/R7: someone rated this service first, on this channel or another.
        replay = _replay(slot, ref, level)
        if replay:
            return replay
        raise Conflict("already_rated", _("this service has been rated already")) from exc
    rollups_soon()
    return Submission(receipt=receipt, evaluations=rows)


def _store(rows: list[Evaluation], region: Region, who: rules.Party, now: dt.datetime) -> None:
    for row in rows:  # as built, should an earlier try have numbered them before it failed
        row.pk, row._state.adding = None, True
    if rules.opens_case(rows[0].level, who):
        # R12: a bad rating and its case are stored together, or neither is.
        with transaction.atomic():
            Evaluation.objects.bulk_create(rows)
            bad_rating_case_open(evaluations=rows, region=region, evaluator_id=who.person_id, now=now)
    else:
        _insert(rows)


# A rating's write is tried this many times more, after these pauses (seconds), when the database
# answers that it is busy: SQLite once its busy timeout (settings) passed without the write lock,
# PostgreSQL when it chose the transaction to break a deadlock. Either error left nothing stored;
# the slot's unique constraint (R4) would stop a second rating all the same.
RETRY_PAUSES = (0.05, 0.2, 0.5)


def _transient(exc: OperationalError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("database is locked", "deadlock detected", "could not serialize"))


def _retrying(write: Callable[[], None]) -> None:
    for pause in (*RETRY_PAUSES, None):
        try:
            write()
            return
        except OperationalError as exc:
            # Inside a caller's transaction the failed write cannot be taken again here.
            if not _transient(exc) or connection.in_atomic_block:
                raise
            if pause is None:
                raise Busy("busy", _("The system is busy: nothing was stored. Please try again.")) from exc
            time.sleep(pause)


# R2, R3: how long after a service's window closed its paper forms may still be keyed in, for the
# service's region; channels, which keeps the regions' channel policies, says so from its app's
# `ready` (`paper_grace_source`), so that evaluations never imports it.
_paper_grace_for: Callable[[Region], dt.timedelta] | None = None


def paper_grace_source(grace_for: Callable[[Region], dt.timedelta]) -> None:
    global _paper_grace_for
    _paper_grace_for = grace_for


class CaseOpener(Protocol):
    def __call__(
        self, *, evaluations: Sequence[Evaluation], region: Region, evaluator_id: int | None, now: dt.datetime
    ) -> object: ...


# R12: what opens a bad rating's case; rectification, which reads the evaluations, says so from its
# app's `ready` (`bad_rating_case_opener`), so that evaluations never imports it.
_case_opener: CaseOpener | None = None


def bad_rating_case_opener(open_case: CaseOpener) -> None:
    global _case_opener
    _case_opener = open_case


def bad_rating_case_open(
    *, evaluations: list[Evaluation], region: Region, evaluator_id: int | None, now: dt.datetime
) -> None:
    """R12: the case of a bad rating, inside the rating's transaction; `evaluator_id` is whoever
    rated (`rules.evaluator`, R7)."""
    if _case_opener is None:
        raise ImproperlyConfigured("no app opens the cases of bad ratings")
    _case_opener(evaluations=evaluations, region=region, evaluator_id=evaluator_id, now=now)


def _insert(rows: list[Evaluation]) -> None:
    if len(rows) == 1 and not connection.in_atomic_block:
        # One INSERT in autocommit is atomic and durable by itself: no BEGIN/COMMIT round trips.
        rows[0].save(force_insert=True)
        return
    with transaction.atomic():
        Evaluation.objects.bulk_create(rows)


def _replay(slot: RatingSlot, ref: str, level: int) -> Submission | None:
    """The earlier submission with this client reference, if this request is its retry."""
    if not ref:
        return None
    if slot.kind == RatingSlot.Kind.THEME:
        first = Evaluation.objects.filter(bundle=slot.bundle, client_ref=ref, overall=True).first()
    else:
        first = Evaluation.objects.filter(slot=slot, client_ref=ref).first()
    if first is None:
        return None
    if first.level != level:
        raise Conflict("client_ref_reused", _("client_ref: already used for a different rating"), field="client_ref")
    rows = list(
        Evaluation.objects.filter(receipt=first.receipt, region_id=first.region_id)
        .select_related("record")
        .order_by("id")
    )
    return Submission(receipt=first.receipt, evaluations=rows, replayed=True)


def evaluation_inherit(*, slot: RatingSlot) -> Evaluation | None:
    """R5/R6: a record that completes after its batch, or its theme as a whole, was rated takes that rating."""
    record = slot.record
    if slot.kind != RatingSlot.Kind.COMPLETION or record is None or record.bundle is None:
        return None
    given = Evaluation.objects.filter(
        bundle=record.bundle, slot__kind=RatingSlot.Kind.COMPLETION, source=Evaluation.Source.ACTIVE
    ).values_list("pk", "overall")
    key = rules.inherited_from(record.bundle.kind, [rules.Given(pk, overall) for pk, overall in given])
    if key is None:
        return None
    first = Evaluation.objects.get(pk=key)
    fields = (
        *("level", "channel", "rated_by", "rated_at", "answers", "reasons", "comment", "comment_sealed"),
        *("suggestion_sealed", "blocked"),
    )
    copy = {f: getattr(first, f) for f in fields}
    ev = evaluation_build(
        slot,
        **copy,
        source=Evaluation.Source.ACTIVE,
        created_at=timezone.now(),
        receipt=first.receipt,
        client_ref=first.client_ref,
        overall=first.overall,
    )
    ev.save(force_insert=True)
    rollups_soon()
    return ev


def defaults_record(*, now: dt.datetime | None = None, batch_size: int = 200) -> int:
    """R2: every ratable service whose window has closed unrated gets level 3, source default.

    Idempotent and safe to run concurrently: the unique slot constraint drops duplicates. Each
    batch is read and built before its transaction, which only inserts it: small batches keep
    the write lock for milliseconds.
    """
    now = now or timezone.now()
    created = 0
    last_id = 0
    while True:
        due = list(
            RatingSlot.objects.select_related(*SLOT_RELATED)
            .filter(rules.window_closed_q(now), evaluations__isnull=True, pk__gt=last_id)
            .exclude(kind=RatingSlot.Kind.THEME)
            .order_by("pk")[:batch_size]
        )
        if not due:
            return created
        last_id = due[-1].pk
        rows = [
            evaluation_build(
                slot,
                level=DEFAULT_LEVEL,
                source=Evaluation.Source.DEFAULT,
                channel="",
                rated_by="",
                rated_at=slot.closes_at,  # the moment the window closed
                created_at=now,
                answers={},
                reasons=[],
                comment="",
                receipt=DEFAULT_RECEIPT,
            )
            for slot in due
        ]
        with transaction.atomic():
            Evaluation.objects.bulk_create(rows, ignore_conflicts=True)
            rollups_soon()
        created += Evaluation.objects.filter(
            slot_id__in=[s.pk for s in due], source=Evaluation.Source.DEFAULT, created_at=now
        ).count()


# ---------------------------------------------------------------------------------------------
# The registry of malicious evaluators (R15): read by every rating, written by rectification once
# a manager has found a rating malicious.


def _digest_match(phone_digest: str | None, id_digest: str | None, cert_digest: str | None = None) -> Q:
    q = Q(pk__in=[])
    if phone_digest:
        q |= Q(phone_digest=phone_digest)
    if id_digest:
        q |= Q(id_digest=id_digest)
    if cert_digest:
        q |= Q(cert_digest=cert_digest)
    return q


@transaction.atomic
def blocked_evaluator_add(
    *,
    region_id: int,
    phone_digest: str | None,
    id_digest: str | None,
    case_id: int,
    cert_digest: str | None = None,
    reason: str,
    added_by_label: str,
    now: dt.datetime,
) -> BlockedEvaluator:
    """R15: enter a person in the registry, matched from now on by any of their keyed digests
    (phone, ID number, and the ID's national certKey that evaluations from lower systems carry)."""
    if not (phone_digest or id_digest or cert_digest):
        raise Conflict("no_identity", _("this rating has no phone or ID number to match"))
    live = BlockedEvaluator.objects.filter(removed_at__isnull=True)
    if live.filter(_digest_match(phone_digest, id_digest, cert_digest)).exists():
        raise Conflict("already_blocked", _("this evaluator is in the registry already"))
    reason, reason_sealed = seal_free_text(reason)
    return BlockedEvaluator.objects.create(
        region_id=region_id,
        phone_digest=phone_digest or None,
        id_digest=id_digest or None,
        cert_digest=cert_digest or None,
        case_id=case_id,
        reason=reason,
        reason_sealed=reason_sealed,
        added_by_label=added_by_label[:150],
        added_at=now,
    )


@transaction.atomic
def blocked_evaluator_remove(
    *, entry: BlockedEvaluator, reason: str, removed_by_label: str, now: dt.datetime
) -> BlockedEvaluator:
    """R15: take an entry out of the registry; the person's later ratings count again."""
    entry = BlockedEvaluator.objects.select_for_update().select_related("region").get(pk=entry.pk)
    if entry.removed_at is not None:
        raise Conflict("already_removed", _("this entry has been removed already"))
    entry.removed_at = now
    entry.removed_by_label = removed_by_label[:150]
    entry.removed_reason, entry.removed_reason_sealed = seal_free_text(reason)
    entry.save(update_fields=["removed_at", "removed_by_label", "removed_reason", "removed_reason_sealed"])
    return entry
