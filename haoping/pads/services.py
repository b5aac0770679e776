"""Writes for the pads: register, bind and revoke a pad; rate at a pad; staff photos."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haoping.accounts.access import Actor, manages, staff_home
from haoping.channels.services import mobile_normalise
from haoping.directory.models import Institution, Staff, Window
from haoping.errors import Conflict, Forbidden, Invalid, NotFound
from haoping.evaluations import rules
from haoping.evaluations.models import Evaluation
from haoping.evaluations.selectors import hall_questionnaire
from haoping.evaluations.services import RECEIPT_ALPHABET, Submission, content_check, evaluation_submit, new_receipt
from haoping.fields import lookup_digest, seal_free_text
from haoping.lib.gm import constant_time_equal
from haoping.pads.models import HallCode, HallRating, Pad, StaffPhoto
from haoping.pads.push import pad_windows_forget, slot_window_id
from haoping.records.links import token_for
from haoping.records.models import Applicant, RatingSlot
from haoping.records.services import phone_tail_digest
from haoping.rectification.messaging import message_send
from haoping.rectification.models import Message
from haoping.rectification.sms import SmsTemplate, sms_signature

# A device code is shown once and redeemed within this time: 8 symbols of 32 (40 bits).
CODE_LENGTH = 8
CODE_TTL = dt.timedelta(minutes=30)
PHOTO_MAX_BYTES = 5 * 2**20
PHOTO_SIZE = (360, 480)


def _code_digest(code: str) -> str:
    return lookup_digest("pad-code", code)


def device_code_normalise(code: str) -> str:
    """What a person types, as the code was shown: case, spaces and dashes do not matter."""
    return "".join(ch for ch in code.upper() if ch.isalnum())[: CODE_LENGTH + 4]


def _access_window(actor: Actor, window: Window) -> None:
    if not manages(actor, window.institution.region):
        raise Forbidden("forbidden", _("only a manager of the window's region may do this"))


@transaction.atomic
def pad_register(*, actor: Actor, window: Window, label: str = "", now: dt.datetime | None = None) -> tuple[Pad, str]:
    """A new pad for `window` and its one-time device code (returned once, stored only as a digest)."""
    _access_window(actor, window)
    now = now or timezone.now()
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _n in range(CODE_LENGTH))
    pad = Pad.objects.create(
        window=window,
        label=label.strip()[:60],
        code_digest=_code_digest(code),
        code_expires_at=now + CODE_TTL,
        created_at=now,
        created_by_label=actor.label[:150],
    )
    return pad, f"{code[:4]}-{code[4:]}"


def pad_bind(*, code: str, now: dt.datetime | None = None) -> Pad:
    """Redeem a device code on a tablet: the pad gets a fresh cookie nonce, the code is spent."""
    now = now or timezone.now()
    normalised = device_code_normalise(code)
    if len(normalised) != CODE_LENGTH:
        raise Invalid("invalid", _("code: enter the 8 characters of the device code"), field="code")
    digest = _code_digest(normalised)
    pad = Pad.objects.filter(code_digest=digest, revoked_at__isnull=True).first()
    if pad is None or pad.code_expires_at is None or pad.code_expires_at < now:
        raise NotFound("not_found", _("code: this device code is unknown, used or expired; ask for a new one"))
    nonce = secrets.token_hex(16)
    # A conditional update: two tablets typing the same code at once, only one binds.
    spent = Pad.objects.filter(pk=pad.pk, code_digest=digest, revoked_at__isnull=True).update(
        code_digest="", code_expires_at=None, cookie_nonce=nonce, bound_at=now
    )
    if spent != 1:
        raise NotFound("not_found", _("code: this device code is unknown, used or expired; ask for a new one"))
    pad.refresh_from_db()
    pad_windows_forget()
    return pad


@transaction.atomic
def pad_revoke(*, actor: Actor, pad: Pad, now: dt.datetime | None = None) -> Pad:
    """Stop a pad: its cookie is worthless from now on, and an unredeemed code too."""
    pad = Pad.objects.select_for_update().select_related("window__institution__region").get(pk=pad.pk)
    _access_window(actor, pad.window)
    if pad.revoked_at is not None:
        raise Conflict("already_revoked", _("this pad has been revoked already"))
    pad.revoked_at = now or timezone.now()
    pad.revoked_by_label = actor.label[:150]
    pad.code_digest = ""
    pad.cookie_nonce = ""
    pad.save(update_fields=["revoked_at", "revoked_by_label", "code_digest", "cookie_nonce"])
    pad_windows_forget()
    return pad


def _slot_at_pad(pad: Pad, public_id: str) -> RatingSlot:
    slot = (
        RatingSlot.objects.select_related("visit", "record")
        .filter(public_id=public_id, kind__in=[RatingSlot.Kind.VISIT, RatingSlot.Kind.COMPLETION])
        .first()
        if public_id and len(public_id) <= 24
        else None
    )
    # A pad rates only what took place at its own window.
    if slot is None or slot_window_id(slot) != pad.window_id:
        raise NotFound("not_found", _("this service is not one of this window's"))
    return slot


def pad_rate(
    *, pad: Pad, public_id: str, level: int, reasons: list[str], comment: str = "", rated_by: str = ""
) -> Submission:
    """A rating tapped at the pad: the same submission, and so the same rules, as every channel's,
    on channel `pad`. A second tap of the same button returns the first submission."""
    slot = _slot_at_pad(pad, public_id)
    return evaluation_submit(
        client=None,
        token=token_for(slot.public_id),
        level=level,
        channel=Evaluation.Channel.PAD,
        rated_by=rated_by or Evaluation.RatedBy.APPLICANT,
        reasons=reasons,
        comment=comment,
        client_ref=f"pad:{pad.pk}:{slot.public_id}",
    )


def pad_dismiss(*, pad: Pad, public_id: str) -> None:
    """暂不评价: the pad stops asking about this service (still ratable by link, R3)."""
    slot = _slot_at_pad(pad, public_id)
    Pad.objects.filter(pk=pad.pk).update(dismissed_slot=slot)


def _photo_jpeg(data: bytes) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            picture: Any = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Invalid("invalid", _("photo: not an image in a format we read (JPEG, PNG)"), field="photo") from exc
    picture.thumbnail(PHOTO_SIZE)
    out = io.BytesIO()
    # Saved afresh: nothing of the upload's metadata (EXIF, location) is kept.
    picture.save(out, format="JPEG", quality=85)
    return out.getvalue()


@transaction.atomic
def staff_photo_set(*, actor: Actor, staff: Staff, data: bytes, now: dt.datetime | None = None) -> StaffPhoto:
    """A staff member's photo for the pads' idle screen, replacing any earlier one."""
    region = staff_home(staff)
    if region is None or not manages(actor, region):
        raise Forbidden("forbidden", _("only a manager of the staff member's region may do this"))
    if not data:
        raise Invalid("required", _("photo: choose a file"), field="photo")
    if len(data) > PHOTO_MAX_BYTES:
        raise Invalid("too_large", _("photo: at most 5 MB"), field="photo")
    jpeg = _photo_jpeg(data)
    photo, _created = StaffPhoto.objects.update_or_create(
        staff=staff,
        defaults={"image": jpeg, "uploaded_at": now or timezone.now(), "uploaded_by_label": actor.label[:150]},
    )
    return photo


# ---------------------------------------------------------------------------------------------
# R11: the hall as a whole (中心总体), rated from the pad's idle screen or the hall's QR code.

HALL_CODE_TTL = dt.timedelta(minutes=5)
HALL_CODE_RESEND = dt.timedelta(seconds=60)
HALL_CODE_ATTEMPTS = 5
HALL_CODE = SmsTemplate(
    code="hall_code",
    label=gettext_lazy("code to rate the service hall"),
    text=gettext_lazy(
        "Your code to rate the service hall is %(code)s, valid for 5 minutes. "
        "Ignore this text if you did not ask for it."
    ),
    limits={"code": 6},
    choices={},
)


def _hall_code_digest(phone_digest: str, code: str) -> str:
    return lookup_digest("hall-code", f"{phone_digest}:{code}")


def hall_code_send(*, institution: Institution, phone: str, now: dt.datetime | None = None) -> HallCode:
    """Send a 6-digit code to a mobile number that wants to rate the hall (R11), at most one a minute."""
    now = now or timezone.now()
    number = mobile_normalise(phone)
    digest = lookup_digest("phone", number)
    if HallCode.objects.filter(phone_digest=digest, created_at__gt=now - HALL_CODE_RESEND).exists():
        raise Conflict(
            "too_soon", _("phone: a code was sent to this number less than a minute ago; please wait"), status=429
        )
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        row = HallCode.objects.create(
            phone_digest=digest,
            code_digest=_hall_code_digest(digest, code),
            created_at=now,
            expires_at=now + HALL_CODE_TTL,
        )
        # The outbox sends to an evaluator: the one with this number, or a new one holding only it.
        evaluator = Applicant.objects.filter(phone_digest=digest).order_by("-pk").first()
        if evaluator is None:
            evaluator = Applicant.objects.create(
                kind=Applicant.Kind.PERSON,
                phone=number,
                phone_digest=digest,
                phone_tail_digest=phone_tail_digest(number),
            )
        message_send(
            at=now,
            kind=Message.Kind.INVITATION,
            to_evaluator=evaluator,
            text=HALL_CODE.render(signature=sms_signature(institution.region), code=code),
            template=HALL_CODE.code,
            params={"code": code},
        )
    return row


def _hall_code_redeem(*, phone: str, code: str, now: dt.datetime) -> str:
    """The keyed digest of a number whose code is right; each wrong try counts, five end the code."""
    digest = lookup_digest("phone", mobile_normalise(phone))
    row = (
        HallCode.objects.filter(phone_digest=digest, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    wrong = Invalid("invalid", _("code: the code is wrong or has expired; ask for a new one"), field="code")
    if row is None or row.attempts >= HALL_CODE_ATTEMPTS:
        raise wrong
    if not constant_time_equal(_hall_code_digest(digest, code.strip()).encode(), row.code_digest.encode()):
        HallCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        raise wrong
    if HallCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now) != 1:
        raise wrong
    return digest


def hall_rate(
    *,
    institution: Institution,
    level: Any,
    reasons: list[str],
    comment: str = "",
    pad: Pad | None = None,
    phone: str = "",
    code: str = "",
    now: dt.datetime | None = None,
) -> HallRating:
    """R11: a rating of the hall's overall management, at most once a day per evaluator
    (`rules.hall_rating_evaluator`); kept apart from every service rating."""
    now = now or timezone.now()
    channel = HallRating.Channel.PAD if pad is not None else HallRating.Channel.QRCODE
    comment = comment.strip()
    # R1, R8: the same checks as a service rating's content; R9: the hall's options (the unit's
    # and on-site service's, `hall_questionnaire`).
    content_check(
        level=level,
        channel=channel,
        rated_by="applicant",
        answers={},
        reasons=reasons,
        comment=comment,
        questionnaire=hall_questionnaire(institution.region.path),
    )
    if pad is not None and pad.window.institution_id != institution.pk:
        raise NotFound("not_found", _("this pad is not in this hall"))
    phone_digest = _hall_code_redeem(phone=phone, code=code, now=now) if (phone or code or pad is None) else ""
    key, day = rules.hall_rating_evaluator(phone_digest=phone_digest, pad_id=pad.pk if pad else None, at=now)
    masked, sealed = seal_free_text(comment)
    try:
        with transaction.atomic():
            return HallRating.objects.create(
                region=institution.region,
                institution=institution,
                level=level,
                reasons=reasons,
                comment=masked,
                comment_sealed=sealed,
                channel=channel,
                pad=pad,
                evaluator_key=key,
                day=day,
                rated_at=now,
                receipt=new_receipt(),
            )
    except IntegrityError as exc:
        raise Conflict(
            "already_rated_today", _("this hall has been rated by you today; you may rate it again tomorrow")
        ) from exc
