"""Writes for the channels: invitations and reminders (R22), SMS replies, opt-outs.

Every rating that arrives here is stored by the one rating service (`evaluation_submit`), which
asks the rules (haoping.evaluations.rules); nothing here restates a rule.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import access_visible
from haoping.accounts.models import ApiClient
from haoping.channels.models import ChannelPolicy, InboundSms, Invitation, OptOut
from haoping.channels.replies import reply_parse
from haoping.channels.selectors import channel_policy_for
from haoping.channels.texts import INVITATION, REMINDER, REPLY_ANSWER
from haoping.directory.models import Region
from haoping.errors import DomainError, Invalid, NotFound
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.services import Submission, evaluation_submit
from haoping.fields import lookup_digest, seal_free_text
from haoping.records.links import token_for
from haoping.records.models import Applicant, RatingSlot, ServiceRecord
from haoping.rectification.messaging import message_send
from haoping.rectification.models import Message
from haoping.rectification.sms import SmsTemplate, sms_signature

logger = logging.getLogger("haoping.channels")

# 54 symbols without look-alikes (0/O, 1/l/I): 8 of them are about 46 random bits.
CODE_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def new_short_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def short_url(code: str) -> str:
    return settings.SITE_URL + reverse("short-link", args=[code])


def phone_normalise(phone: str) -> str:
    """A mainland mobile number as records store it: digits only, without +86 / 0086 / 86."""
    digits = re.sub(r"\D", "", phone)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


MOBILE = re.compile(r"1[3-9][0-9]{9}")


def mobile_normalise(phone: str) -> str:
    """A mainland mobile number as typed (spaces, dashes, +86 or 0086, full-width digits) → 11 digits."""
    digits = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in phone if not ch.isspace())
    digits = digits.replace("-", "").replace("－", "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
    if not MOBILE.fullmatch(digits):
        raise Invalid("invalid", _("phone: enter an 11-digit mobile number"), field="phone")
    return digits


def phone_digest(phone: str) -> str:
    return lookup_digest("phone", phone_normalise(phone))


def in_sending_hours(policy: ChannelPolicy, now: dt.datetime) -> bool:
    """R22: daytime only, in China time (the project's time zone)."""
    local = timezone.localtime(now).time()
    return policy.send_from <= local < policy.send_until


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _sent_today(digest: str, now: dt.datetime) -> int:
    start = _day_start(now)
    invited = Invitation.objects.filter(phone_digest=digest, invited_at__gte=start).count()
    reminded = Invitation.objects.filter(phone_digest=digest, reminded_at__gte=start).count()
    return invited + reminded


@dataclass
class SweepResult:
    invited: int = 0
    reminded: int = 0
    held: int = 0  # due, but outside sending hours or over a phone's daily cap


class _Sweep:
    """One run's view: each region's policy, and each phone's messages so far today."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.policies: dict[int, ChannelPolicy] = {}
        self.sent: Counter[str] = Counter()
        self.result = SweepResult()

    def policy(self, region: Region) -> ChannelPolicy:
        if region.pk not in self.policies:
            self.policies[region.pk] = channel_policy_for(region)
        return self.policies[region.pk]

    def may_send(self, region: Region, digest: str) -> bool:
        policy = self.policy(region)
        if not in_sending_hours(policy, self.now):
            self.result.held += 1
            return False
        if digest not in self.sent:
            self.sent[digest] = _sent_today(digest, self.now)
        if self.sent[digest] >= policy.daily_cap:
            self.result.held += 1
            return False
        return True


def _opted_out(digest_field: str) -> Exists:
    return Exists(OptOut.objects.filter(phone_digest=OuterRef(digest_field)))


def _recipient(slot: RatingSlot) -> tuple[Applicant, str]:
    """Who is invited: the agent if one handled the service (R7: then the agent rates), else the applicant."""
    record = slot.record
    assert record is not None
    if record.agent is not None and record.agent.phone_digest:
        return record.agent, Evaluation.RatedBy.AGENT
    return record.applicant, Evaluation.RatedBy.APPLICANT


def _send(*, kind: str, template: SmsTemplate, invitation: Invitation, at: dt.datetime, **values: str) -> Message:
    link = short_url(invitation.code) if template.link else ""
    text = template.render(signature=sms_signature(invitation.region), link=link, **values)
    return message_send(
        at=at,
        kind=kind,
        region=invitation.region,
        to_evaluator_id=invitation.to_id,
        text=text,
        link=link,
        template=template.code,
        params=values,
    )


def invitations_send(*, now: dt.datetime | None = None, batch_size: int = 500) -> SweepResult:
    """R22: invite each open, unrated service once, and remind once on the policy's day.

    Never twice for one service (one invitation per slot, one reminder per invitation, both
    claimed by the database), never after it was rated, never to a number that opted out, only in
    daytime and within each phone's daily cap; what is held waits for the next run.
    """
    now = now or timezone.now()
    sweep = _Sweep(now)
    _invite(sweep, batch_size)
    _remind(sweep, batch_size)
    return sweep.result


def _invite(sweep: _Sweep, batch_size: int) -> None:
    now = sweep.now
    due = (
        RatingSlot.objects.filter(rules.window_open_q(now), record__isnull=False)
        .exclude(kind=RatingSlot.Kind.THEME)
        .filter(evaluations__isnull=True, invitation__isnull=True)
        .filter(Q(record__applicant__phone_digest__gt="") | Q(record__agent__phone_digest__gt=""))
        .select_related("region", "record__item", "record__applicant", "record__agent", "record__bundle")
        .order_by("opens_at", "pk")[:batch_size]
    )
    # R5: a batch is rated once, through any of its records: one invitation for it.
    invited_bundles = set(
        Invitation.objects.filter(
            slot__record__bundle__in=[s.record.bundle_id for s in due if s.record and s.record.bundle_id]
        ).values_list("slot__record__bundle_id", "slot__kind")
    )
    for slot in due:
        record = slot.record
        assert record is not None
        if record.bundle_id and (record.bundle_id, slot.kind) in invited_bundles:
            continue
        to, rated_by = _recipient(slot)
        if not to.phone_digest or OptOut.objects.filter(phone_digest=to.phone_digest).exists():
            continue
        if not sweep.may_send(slot.region, to.phone_digest):
            continue
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    region=slot.region,
                    slot=slot,
                    code=new_short_code(),
                    to=to,
                    rated_by=rated_by,
                    phone_digest=to.phone_digest,
                    invited_at=now,
                )
                _send(
                    kind=Message.Kind.INVITATION,
                    template=INVITATION,
                    invitation=invitation,
                    at=now,
                    item=record.item.name,
                )
        except IntegrityError:
            continue  # invited by a concurrent run (or, once in 10^13, a code drawn twice: next run)
        if record.bundle_id:
            invited_bundles.add((record.bundle_id, slot.kind))
        sweep.sent[to.phone_digest] += 1
        sweep.result.invited += 1


def _remind(sweep: _Sweep, batch_size: int) -> None:
    now = sweep.now
    candidates = (
        Invitation.objects.filter(rules.window_open_q(now, prefix="slot__"), reminded_at__isnull=True)
        .exclude(Exists(Evaluation.objects.filter(slot_id=OuterRef("slot_id"))))
        .exclude(_opted_out("phone_digest"))
        .select_related("region", "slot__record__item")
        .order_by("invited_at", "pk")[:batch_size]
    )
    today = timezone.localdate(now)
    for invitation in candidates:
        policy = sweep.policy(invitation.region)
        opened = timezone.localdate(invitation.slot.opens_at)
        if today < opened + dt.timedelta(days=policy.reminder_day - 1):
            continue
        if not sweep.may_send(invitation.region, invitation.phone_digest):
            continue
        with transaction.atomic():
            claimed = Invitation.objects.filter(pk=invitation.pk, reminded_at__isnull=True).update(reminded_at=now)
            if not claimed:
                continue
            record = invitation.slot.record
            assert record is not None
            _send(kind=Message.Kind.REMINDER, template=REMINDER, invitation=invitation, at=now, item=record.item.name)
        sweep.sent[invitation.phone_digest] += 1
        sweep.result.reminded += 1


# ---------------------------------------------------------------------------------------------
# Replies


def opt_out(*, digest: str, at: dt.datetime) -> None:
    OptOut.objects.get_or_create(phone_digest=digest, defaults={"opted_out_at": at})


def sms_reply_receive(
    *, provider: str, phone: str, text: str, at: dt.datetime | None = None, provider_ref: str = ""
) -> InboundSms:
    """An SMS reply: a rating of the service this number was last invited to rate (channel sms),
    an opt-out, or a polite answer that changes nothing. Kept whatever it says; a redelivered
    callback (same provider reference) is answered by the reply already stored."""
    at = at or timezone.now()
    digest = phone_digest(phone)
    provider_ref = provider_ref[:64]
    if provider_ref:
        earlier = InboundSms.objects.filter(provider=provider, provider_ref=provider_ref).first()
        if earlier is not None:
            return earlier
    masked, sealed = seal_free_text(text[:2000])
    inbound = InboundSms(
        provider=provider,
        provider_ref=provider_ref,
        phone_digest=digest,
        text=masked,
        text_sealed=sealed,
        received_at=at,
    )
    reply = reply_parse(text)
    invitation = (
        Invitation.objects.filter(phone_digest=digest)
        .select_related("region", "slot")
        .order_by("-invited_at", "-pk")
        .first()
    )
    inbound.invitation = invitation
    if reply.kind == "opt_out":
        opt_out(digest=digest, at=at)
        inbound.outcome = InboundSms.Outcome.OPTED_OUT
    elif invitation is None:
        inbound.outcome = InboundSms.Outcome.NO_INVITATION
    elif reply.kind == "unclear":
        inbound.outcome = InboundSms.Outcome.UNCLEAR
    else:
        assert reply.level is not None
        inbound.outcome, inbound.receipt = _rate(
            invitation, reply.level, reply.comment, provider, provider_ref, inbound
        )
    try:
        inbound.save(force_insert=True)
    except IntegrityError:
        return InboundSms.objects.get(provider=provider, provider_ref=provider_ref)
    if invitation is not None:
        _answer(invitation, inbound.outcome, at)
    return inbound


def _rate(
    invitation: Invitation, level: int, comment: str, provider: str, provider_ref: str, inbound: InboundSms
) -> tuple[str, str]:
    ref = f"sms:{provider}:{provider_ref}" if provider_ref else ""
    try:
        submission = evaluation_submit(
            client=None,
            token=token_for(invitation.slot.public_id),
            level=level,
            channel=Evaluation.Channel.SMS,
            rated_by=invitation.rated_by,
            comment=comment,
            client_ref=ref,
        )
    except DomainError as exc:
        if exc.code == "already_rated":
            return InboundSms.Outcome.RATED_ALREADY, ""
        if exc.code == "window_closed":
            return InboundSms.Outcome.CLOSED, ""
        logger.info("SMS reply %s refused (%s)", provider, exc.code)
        return InboundSms.Outcome.REFUSED, ""
    return InboundSms.Outcome.RATED, submission.receipt


def _answer(invitation: Invitation, outcome: str, at: dt.datetime) -> None:
    _send(kind=Message.Kind.REPLY, template=REPLY_ANSWER, invitation=invitation, at=at, answer=outcome)


# ---------------------------------------------------------------------------------------------
# The hotline's key press (R22)


def key_level(key_map: dict[str, int], digits: str) -> int:
    """The level a key stands for in the region's key map. No key pressed is no rating: never a
    default, never a good one."""
    pressed = digits.strip().rstrip("#").strip()
    if not pressed:
        raise Invalid("no_key_press", _("digits: no key was pressed, so there is no rating to record"), field="digits")
    if pressed not in key_map:
        raise Invalid(
            "unknown_key",
            _("digits: key %(key)s stands for no level here (keys: %(keys)s)")
            % {"key": pressed, "keys": "、".join(sorted(key_map))},
            field="digits",
        )
    return key_map[pressed]


def keypress_rate(*, client: ApiClient, record_no: str, digits: str, call_ref: str = "") -> tuple[Submission, int]:
    """R22: a call's key press rates its record on channel phone, through the rating service."""
    record = ServiceRecord.objects.filter(record_no=record_no).select_related("region").first()
    if record is None:
        raise NotFound("not_found", _("record %(no)s not found") % {"no": record_no})
    access_visible(client, record.region, _("record %(no)s") % {"no": record_no})
    level = key_level(channel_policy_for(record.region).key_map, digits)
    submission = evaluation_submit(
        client=client,
        record_no=record_no,
        level=level,
        channel=Evaluation.Channel.PHONE,
        client_ref=f"ivr:{call_ref}" if call_ref else "",
    )
    return submission, level
