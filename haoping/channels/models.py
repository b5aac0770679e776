"""Rating channels beyond the link page: SMS invitations and replies, the hotline's key press, paper forms."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Region
from haoping.fields import EncryptedTextField
from haoping.records.models import Applicant, RatingSlot


def validate_key_map(value: object) -> None:
    """Each key one of 0–9, * or #, each standing for a level of R1."""
    from django.core.exceptions import ValidationError

    from haoping.errors import Invalid
    from haoping.evaluations.rules import level_check

    if not isinstance(value, dict) or not value:
        raise ValidationError(_('give keys and levels, e.g. {"1": 5, "2": 3, "3": 1}'))
    for key, level in value.items():
        if key not in KEYS:
            raise ValidationError(_("%(key)s is not a telephone key (0–9, * or #)") % {"key": key})
        try:
            level_check(level)
        except Invalid as exc:
            raise ValidationError(f"{key}: {exc.detail}") from exc


KEYS = frozenset("0123456789*#")

TEMPLATE_PAIR = re.compile(r"^[a-z_]{1,40}=[A-Za-z0-9_.-]{1,64}$")


def sms_template_ids(value: str) -> dict[str, str]:
    """ "invitation=SMS_1,reminder=SMS_2" → our template code → the provider's template id."""
    pairs = [pair.split("=", 1) for pair in value.split(",") if "=" in pair]
    return {ours.strip(): theirs.strip() for ours, theirs in pairs if ours.strip() and theirs.strip()}


def validate_sms_templates(value: str) -> None:
    """Pairs of our template code and the provider's template id, separated by commas."""
    from django.core.exceptions import ValidationError

    for pair in (p.strip() for p in value.split(",")):
        if pair and not TEMPLATE_PAIR.match(pair):
            raise ValidationError(
                _("%(pair)s: give our template code and the provider's template id, e.g. invitation=SMS_123456")
                % {"pair": pair}
            )


def default_key_map() -> dict[str, int]:
    # R1 as most hotlines read it out: 1 非常满意 … 5 非常不满意.
    return {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1}


class ChannelPolicy(models.Model):
    """A region's settings for invitations, the hotline and paper forms; the nearest ancestor's applies."""

    region = models.OneToOneField(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="channel_policy"
    )
    # R22: messages go out in daytime only (China time); outside these hours they wait.
    send_from = models.TimeField(_("send SMS from"), default=dt.time(8, 0))
    send_until = models.TimeField(_("send SMS until"), default=dt.time(20, 0))
    # R22: one reminder on this day of the rating window (day 1: the day of the service).
    reminder_day = models.PositiveSmallIntegerField(
        _("reminder on day"), default=5, validators=[MinValueValidator(2), MaxValueValidator(90)]
    )
    daily_cap = models.PositiveSmallIntegerField(
        _("at most this many messages per phone per day"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    # A paper form left in the box may still be keyed in this many days after its service's window closed.
    paper_grace_days = models.PositiveSmallIntegerField(
        _("paper forms: grace after the rating window (days)"),
        default=7,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
    )
    # R22: the hotline's keys and the level each one stands for (R1), e.g. {"1": 5, "2": 3, "3": 1}.
    key_map = models.JSONField(_("hotline key map"), default=default_key_map, validators=[validate_key_map])
    # The provider's template ids this region's texts go out with (its own signature is the region
    # policy's); a template not named here is the nearest ancestor's, else HAOPING_SMS_TEMPLATES.
    sms_templates = models.CharField(
        _("SMS templates"),
        max_length=500,
        blank=True,
        validators=[validate_sms_templates],
        help_text=_("e.g. invitation=SMS_123456,reminder=SMS_123457; blank for the deployment's templates."),
    )

    class Meta:
        verbose_name = _("channel policy")
        verbose_name_plural = _("channel policies")

    def __str__(self) -> str:
        return str(self.region_id)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.send_from >= self.send_until:
            raise ValidationError({"send_until": _("must be later than the time sending starts")})


class Invitation(models.Model):
    """R22: the SMS inviting one ratable service's rating, with its short link; at most one per
    service, with at most one reminder."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    slot = models.OneToOneField(
        RatingSlot, verbose_name=_("ratable service"), on_delete=models.CASCADE, related_name="invitation"
    )
    # The short link's path /s/<code>/: random, unguessable, bound to the service.
    code = models.CharField(_("short code"), max_length=8, unique=True, editable=False)
    to = models.ForeignKey(Applicant, verbose_name=_("sent to"), on_delete=models.PROTECT, related_name="+")
    rated_by = models.CharField(_("invited as"), max_length=10)
    phone_digest = models.CharField(max_length=64, db_index=True, editable=False)
    invited_at = models.DateTimeField(_("invited at"))
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["phone_digest", "invited_at"], name="invitation_phone_time")]

    def __str__(self) -> str:
        return self.code


class OptOut(models.Model):
    """A phone that replied TD/退订: it gets no more invitations (matched by keyed digest)."""

    phone_digest = models.CharField(max_length=64, unique=True, editable=False)
    opted_out_at = models.DateTimeField(_("opted out at"))

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")

    def __str__(self) -> str:
        return f"#{self.pk}"


class InboundSms(models.Model):
    """A reply received, kept whatever came of it: nothing an evaluator sends is lost."""

    class Outcome(models.TextChoices):
        RATED = "rated", _("rated")
        OPTED_OUT = "opted_out", _("opted out")
        UNCLEAR = "unclear", _("not understood")
        NO_INVITATION = "no_invitation", _("no invitation")
        RATED_ALREADY = "rated_already", _("rated already")
        CLOSED = "closed", _("rating period ended")
        REFUSED = "refused", _("refused")

    provider = models.CharField(_("provider"), max_length=16)
    # The provider's id of the message, when it gives one: a redelivered callback is stored once.
    provider_ref = models.CharField(_("provider reference"), max_length=64, blank=True)
    phone_digest = models.CharField(max_length=64, db_index=True, editable=False)
    # Masked like every free text; as written, encrypted beside it when masking changed it.
    text = models.TextField(_("text"))
    text_sealed = EncryptedTextField(_("text as written (encrypted)"), blank=True, editable=False)
    received_at = models.DateTimeField(_("received at"))
    invitation = models.ForeignKey(
        Invitation, verbose_name=_("invitation"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    receipt = models.CharField(_("receipt"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("SMS reply")
        verbose_name_plural = _("SMS replies")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~models.Q(provider_ref=""),
                name="inbound_sms_once_per_provider_ref",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


def paper_photo_path(instance: PaperForm, filename: str) -> str:
    # The stored name is ours: the region and the content's digest.
    return f"paper/{instance.region_id}/{instance.photo_sha256[:24]}{instance.photo_extension}"


class PaperForm(models.Model):
    """书面评价表: a paper form keyed in at the console, with a photo of the form as evidence. Its
    rating is an evaluation on channel paper; `replaced` is the default rating it replaced (R2, R3)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    evaluation = models.ForeignKey(
        "evaluations.Evaluation", verbose_name=_("evaluation"), on_delete=models.PROTECT, related_name="+"
    )
    replaced = models.ForeignKey(
        "evaluations.Evaluation",
        verbose_name=_("default rating replaced"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    record_no = models.CharField(_("record number"), max_length=64)
    form_date = models.DateField(_("date on the form"))
    photo = models.FileField(_("photo of the form"), upload_to=paper_photo_path)
    photo_sha256 = models.CharField(max_length=64, editable=False)
    photo_extension = models.CharField(max_length=8, editable=False)
    photo_type = models.CharField(max_length=40, editable=False)
    keyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("keyed in by"), on_delete=models.PROTECT, related_name="+"
    )
    keyed_by_label = models.CharField(_("keyed in by"), max_length=150)
    keyed_at = models.DateTimeField(_("keyed in at"), db_index=True)

    class Meta:
        verbose_name = _("paper form")
        verbose_name_plural = _("paper forms")

    def __str__(self) -> str:
        return self.record_no
