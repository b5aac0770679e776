"""Window pads (评价器): tablets bound to a window, the staff photos they show, and the ratings of
a hall as a whole (R11)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Institution, Region, Staff, Window
from haoping.evaluations.rules import LEVEL_LABELS
from haoping.fields import EncryptedTextField
from haoping.records.models import RatingSlot


class Pad(models.Model):
    """A tablet at a window. A manager registers it and is shown a one-time device code; the tablet
    redeems the code once and keeps a signed cookie naming the pad and its `cookie_nonce`. Revoking
    the pad, or binding it again, makes every earlier cookie worthless."""

    window = models.ForeignKey(Window, verbose_name=_("window"), on_delete=models.PROTECT, related_name="pads")
    label = models.CharField(_("label"), max_length=60, blank=True)
    # Keyed SM3 of the device code, only until it is redeemed or expires; the code itself is never stored.
    code_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    code_expires_at = models.DateTimeField(_("device code expires at"), null=True, blank=True)
    cookie_nonce = models.CharField(max_length=32, blank=True, editable=False)
    bound_at = models.DateTimeField(_("bound at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"))
    created_by_label = models.CharField(_("registered by"), max_length=150)
    revoked_by_label = models.CharField(_("revoked by"), max_length=150, blank=True)
    # The service the applicant set aside with 暂不评价: not shown again on this pad (still ratable by link, R3).
    dismissed_slot = models.ForeignKey(
        RatingSlot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("window pad")
        verbose_name_plural = _("window pads")

    def __str__(self) -> str:
        return f"{self.window.name} #{self.pk}"


class StaffPhoto(models.Model):
    """A staff member's photo for the pad's idle screen: re-encoded as a small JPEG (no EXIF kept)."""

    staff = models.OneToOneField(Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="photo")
    image = models.BinaryField(_("image"))
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by_label = models.CharField(_("uploaded by"), max_length=150)

    class Meta:
        verbose_name = _("staff photo")
        verbose_name_plural = _("staff photos")

    def __str__(self) -> str:
        return str(self.staff_id)


class HallRating(models.Model):
    """R11: a rating of a hall's overall management (中心总体), never of a service and never mixed
    into the service ratings' indicators. At most once a day per evaluator: per keyed phone digest
    after an SMS code, or per pad and minute when given anonymously at a pad."""

    class Channel(models.TextChoices):
        PAD = "pad", _("window pad")
        QRCODE = "qrcode", _("QR code")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), on_delete=models.PROTECT, related_name="hall_ratings"
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=sorted(LEVEL_LABELS.items(), reverse=True))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    comment_sealed = EncryptedTextField(_("comment as written (encrypted)"), blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    pad = models.ForeignKey(Pad, verbose_name=_("pad"), null=True, blank=True, on_delete=models.PROTECT)
    # What makes "once a day" hold under concurrency (unique below): "phone:<keyed digest>" or
    # "pad:<id>:<minute>", with the (China) day.
    evaluator_key = models.CharField(max_length=100, editable=False)
    day = models.DateField(_("day"))
    rated_at = models.DateTimeField(_("rated at"))
    receipt = models.CharField(_("receipt"), max_length=20)

    class Meta:
        verbose_name = _("hall rating")
        verbose_name_plural = _("hall ratings")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "institution", "evaluator_key", "day"], name="one_hall_rating_per_evaluator_day"
            ),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="hall_level_1_to_5"),
        ]
        indexes = [models.Index(fields=["institution", "day"])]

    def __str__(self) -> str:
        return f"{self.institution_id} {self.day} {self.level}"


class HallCode(models.Model):
    """A code sent by SMS to confirm a mobile number before it rates a hall (R11). Only keyed
    digests are kept: of the number, and of the code with the number."""

    phone_digest = models.CharField(max_length=64, db_index=True, editable=False)
    code_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hall rating code")
        verbose_name_plural = _("hall rating codes")

    def __str__(self) -> str:
        return f"#{self.pk}"
