"""综合点评 (R18): receiving a social comment from any channel and working it (accept, answer,
close). Every channel calls `comment_receive`; every step goes through `comment_act`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from haoping.accounts.access import Actor, manages, within_region
from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.channels.services import mobile_normalise
from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem
from haoping.directory.selectors import policy_for_region, region_contains
from haoping.errors import Forbidden, Invalid, NotFound
from haoping.feedback.models import SocialComment, SocialCommentEvent
from haoping.feedback.texts import COMMENT_ANSWERED
from haoping.fields import seal_free_text
from haoping.records.links import new_public_id
from haoping.rectification.deadlines import rules_for
from haoping.rectification.links import public_id_from_token, signed_token
from haoping.rectification.messaging import message_send
from haoping.rectification.models import Message
from haoping.rectification.sms import sms_signature

logger = logging.getLogger("haoping.feedback")

ANSWER_LINK = "comment-answer"
TEXT_MAX = 2000
CONTACT_MAX = 100
S = SocialComment.State
# The workflow, one table: action → (states it starts from, state it ends in).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({S.RECEIVED}), S.ACCEPTED),
    "answer": (frozenset({S.ACCEPTED}), S.ANSWERED),
    "close": (frozenset({S.ANSWERED}), S.CLOSED),
}


@dataclass(frozen=True)
class Routed:
    region: Region
    unit: Department | None
    object_id: int | None
    label: str


def comment_route(*, within: Region, target: str, code: str) -> Routed:
    """谁办理谁负责: a comment goes to the department of what it is about (an item's department);
    about a hall, a platform or the region in general, to the region's managers. Codes are looked
    up inside `within` only (an item also above it, as the console's rankings take them)."""
    if target == SocialComment.Target.REGION or not code:
        return Routed(within, None, None, within.name)
    found: Any
    if target == SocialComment.Target.INSTITUTION:
        found = Institution.objects.filter(within_region(within), code=code).select_related("region").first()
        if found is not None:
            return Routed(found.region, None, found.pk, found.name)
    elif target == SocialComment.Target.PLATFORM:
        found = Platform.objects.filter(within_region(within), code=code).select_related("region").first()
        if found is not None:
            return Routed(found.region, None, found.pk, found.name)
    elif target == SocialComment.Target.DEPARTMENT:
        found = Department.objects.filter(within_region(within), code=code).select_related("region").first()
        if found is not None:
            return Routed(found.region, found, found.pk, found.name)
    elif target == SocialComment.Target.ITEM:
        found = ServiceItem.objects.filter(code=code).select_related("department__region").first()
        if found is not None:
            home = found.department.region
            if region_contains(within, home) or region_contains(home, within):
                # An item of a level above, served here, is answered here.
                region = within if region_contains(home, within) else home
                return Routed(region, found.department, found.pk, found.name)
    else:
        raise Invalid("bad_target", _("target: not a kind of object a comment can be about"), field="target")
    raise Invalid("unknown_code", _("code: unknown code %(code)s") % {"code": code}, field="code")


def comment_receive(
    *,
    within: Region,
    channel: str,
    kind: str,
    target: str,
    code: str,
    text: str,
    contact: str = "",
    source_ref: str = "",
    entered_by_label: str = "",
    now: Any = None,
) -> tuple[SocialComment, bool]:
    """R18: one comment from any channel, routed and given its deadlines from the region's policy.
    A channel's reference received again returns the comment already stored (created False)."""
    text = (text or "").strip()
    contact = (contact or "").strip()
    if channel not in SocialComment.Channel.values:
        raise Invalid("bad_channel", _("channel: not a channel of social comments"), field="channel")
    if kind not in SocialComment.Kind.values:
        raise Invalid("bad_kind", _("kind: comment, suggestion or complaint"), field="kind")
    if not text:
        raise Invalid("text_required", _("text: write the comment"), field="text")
    if len(text) > TEXT_MAX:
        raise Invalid("text_too_long", _("text: at most %(n)d characters") % {"n": TEXT_MAX}, field="text")
    if len(contact) > CONTACT_MAX:
        raise Invalid("contact_too_long", _("contact: at most %(n)d characters") % {"n": CONTACT_MAX}, field="contact")
    if source_ref:
        existing = SocialComment.objects.filter(channel=channel, source_ref=source_ref).first()
        if existing is not None:
            return existing, False
    routed = comment_route(within=within, target=target, code=code)
    now = now or timezone.now()
    rules = rules_for(policy_for_region(routed.region).case_deadlines)
    masked, sealed = seal_free_text(text)
    try:
        with transaction.atomic():
            comment = SocialComment.objects.create(
                region=routed.region,
                unit=routed.unit,
                channel=channel,
                kind=kind,
                target=target if routed.object_id is not None else SocialComment.Target.REGION,
                object_id=routed.object_id,
                object_label=routed.label[:200],
                text=masked,
                text_sealed=sealed,
                contact=contact,
                source_ref=source_ref,
                entered_by_label=entered_by_label,
                received_at=now,
                # Accepting is timed like a case's contact, answering like a general case (R12).
                accept_due=rules.contact.after(now).at,
                answer_due=rules.general.after(now).at,
            )
            SocialCommentEvent.objects.create(
                comment=comment, at=now, action="receive", to_state=S.RECEIVED, actor_label=entered_by_label
            )
    except IntegrityError:
        # The same reference, received at the same moment by another worker.
        return SocialComment.objects.get(channel=channel, source_ref=source_ref), False
    return comment, True


def access_comment(actor: Actor, comment: SocialComment) -> None:
    """A comment is worked by its unit's handlers, or by a manager of its region or above."""
    if actor.unit_id is not None and comment.unit_id == actor.unit_id:
        return
    if manages(actor, comment.region):
        return
    raise Forbidden("forbidden", _("this comment belongs to another unit or region"))


@transaction.atomic
def comment_act(*, actor: Actor, comment: SocialComment, action: str, note: str = "") -> SocialComment:
    """Accept, answer or close a comment (TRANSITIONS). An answer goes to the sender by e-mail when
    they left an address, once the step has committed."""
    access_comment(actor, comment)
    if action not in TRANSITIONS:
        raise Invalid("bad_action", _("action: accept, answer or close"), field="action")
    comment = SocialComment.objects.select_for_update().get(pk=comment.pk)
    sources, target = TRANSITIONS[action]
    if comment.state not in sources:
        raise Invalid(
            "wrong_state",
            _("action: a comment %(state)s cannot be %(action)s")
            % {"state": comment.get_state_display(), "action": action},
            field="action",
        )
    note = note.strip()
    now = timezone.now()
    fields = ["state"]
    if action == "accept":
        comment.accepted_at = now
        fields.append("accepted_at")
    elif action == "answer":
        if not note:
            raise Invalid("answer_required", _("note: write the answer to the sender"), field="note")
        comment.answer, comment.answer_sealed = seal_free_text(note)
        comment.answered_at = now
        fields += ["answer", "answer_sealed", "answered_at"]
        if "@" in comment.contact:
            transaction.on_commit(lambda: _send_answer(comment.pk))
        elif sender_phone(comment.contact):
            fields += _text_answer(comment, now)
    else:
        comment.closed_at = now
        fields.append("closed_at")
    previous = comment.state
    comment.state = target
    comment.save(update_fields=fields)
    SocialCommentEvent.objects.create(
        comment=comment,
        at=now,
        action=action,
        from_state=previous,
        to_state=target,
        actor_label=actor.label,
        note=seal_free_text(note)[0] if action != "answer" else "",
    )
    return comment


REASON_MAX = 500


def reroute_choices(actor: Actor) -> list[Department]:
    """The units a manager may send a comment to: the departments of their region subtree."""
    if actor.region is None or not actor.has("manager"):
        return []
    return list(Department.objects.filter(within_region(actor.region)).select_related("region").order_by("code"))


@transaction.atomic
def comment_reroute(*, actor: Actor, comment: SocialComment, unit_code: str, reason: str) -> SocialComment:
    """R18 with 谁办理谁负责: a manager sends a comment that reached the wrong unit to the right one
    in their region (or to the region's managers, `unit_code` ""), with a reason. The comment
    starts again at the new unit (received), with deadlines from now under that unit's region
    policy; the step is in its history and in the audit log."""
    if not manages(actor, comment.region):
        raise Forbidden("forbidden", _("only a manager of the comment's region can send it to another unit"))
    reason = reason.strip()
    if not reason:
        raise Invalid("reason_required", _("reason: say why the comment goes to another unit"), field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid("reason_too_long", _("reason: at most %(n)d characters") % {"n": REASON_MAX}, field="reason")
    comment = SocialComment.objects.select_for_update().get(pk=comment.pk)
    if comment.state not in (S.RECEIVED, S.ACCEPTED):
        raise Invalid(
            "wrong_state",
            _("a comment %(state)s can no longer go to another unit") % {"state": comment.get_state_display()},
            field="unit",
        )
    assert actor.region is not None
    unit: Department | None = None
    region = actor.region if region_contains(actor.region, comment.region) else comment.region
    if unit_code:
        unit = Department.objects.filter(within_region(actor.region), code=unit_code).select_related("region").first()
        if unit is None:
            raise Invalid("unknown_code", _("unit: unknown code %(code)s") % {"code": unit_code}, field="unit")
        region = unit.region
    if unit == comment.unit and region == comment.region:
        raise Invalid("same_unit", _("unit: the comment is with this unit already"), field="unit")
    now = timezone.now()
    rules = rules_for(policy_for_region(region).case_deadlines)
    previous_state, previous_unit = comment.state, comment.unit.name if comment.unit else comment.region.name
    comment.region, comment.unit = region, unit
    comment.state = S.RECEIVED
    comment.accepted_at = None
    comment.accept_due = rules.contact.after(now).at
    comment.answer_due = rules.general.after(now).at
    comment.save(update_fields=["region", "unit", "state", "accepted_at", "accept_due", "answer_due"])
    to_label = unit.name if unit else region.name
    masked = seal_free_text(reason)[0]
    SocialCommentEvent.objects.create(
        comment=comment,
        at=now,
        action="reroute",
        from_state=previous_state,
        to_state=S.RECEIVED,
        actor_label=actor.label,
        note=_("from %(old)s to %(new)s: %(reason)s") % {"old": previous_unit, "new": to_label, "reason": masked},
    )
    audit_record(
        actor=actor.user,
        action=AuditEntry.Action.REROUTE_COMMENT,
        target=_("social comment #%(id)d") % {"id": comment.pk},
        reason=_("from %(old)s to %(new)s: %(reason)s") % {"old": previous_unit, "new": to_label, "reason": reason},
    )
    return comment


def sender_phone(contact: str) -> str:
    """The mainland mobile number a sender left as their contact, or "" (an e-mail, or no number)."""
    if "@" in contact:
        return ""
    try:
        return mobile_normalise(contact)
    except Invalid:
        return ""


def answer_url(comment: SocialComment) -> str:
    return settings.SITE_URL + reverse("comment-answer", args=[signed_token(ANSWER_LINK, comment.public_id)])


def comment_for_answer_token(token: str) -> SocialComment:
    """The comment an answer link stands for (404 unknown or unanswered, 403 forged)."""
    public_id = public_id_from_token(ANSWER_LINK, token)
    comment = SocialComment.objects.filter(public_id=public_id, answered_at__isnull=False).first()
    if comment is None:
        raise NotFound("not_found", _("no such link"))
    return comment


def _text_answer(comment: SocialComment, now: Any) -> list[str]:
    """R18: an SMS to a sender who left a phone number: the fixed template with a link to the
    answer's page, through the message gateway's outbox, in the step's transaction. The number
    goes into the outbox encrypted; the answer's text never goes into an SMS."""
    if not comment.public_id:
        comment.public_id = new_public_id()
    link = answer_url(comment)
    values = {"about": comment.object_label}
    message = message_send(
        at=now,
        kind=Message.Kind.COMMENT_ANSWER,
        to_phone=sender_phone(comment.contact),
        text=COMMENT_ANSWERED.render(signature=sms_signature(comment.region), link=link, **values),
        link=link,
        template=COMMENT_ANSWERED.code,
        params=values,
    )
    comment.answer_sent_at = message.sent_at
    return ["public_id", "answer_sent_at"]


def _send_answer(comment_id: int) -> None:
    comment = SocialComment.objects.get(pk=comment_id)
    try:
        send_mail(
            subject=_("Answer to your comment about %(what)s") % {"what": comment.object_label},
            message=comment.answer,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[comment.contact],
        )
    except OSError:
        # The answer stands; the console shows it as not sent.
        logger.warning("answer to comment %s not sent", comment_id)
        return
    SocialComment.objects.filter(pk=comment_id).update(answer_sent_at=timezone.now())
