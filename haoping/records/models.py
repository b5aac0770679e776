"""Service records (办件), their window visits, and the ratable services they open."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.fields import EncryptedTextField


class Applicant(models.Model):
    """服务对象 or 帮办代办人. Name, phone and ID number are SM4-encrypted; digests allow matching."""

    class Kind(models.TextChoices):
        PERSON = "person", _("natural person")
        LEGAL_PERSON = "legal_person", _("legal person")
        OTHER = "other", _("other organisation")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = EncryptedTextField(_("name"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    phone_digest = models.CharField(_("phone digest"), max_length=64, blank=True, db_index=True, editable=False)
    id_digest = models.CharField(_("ID number digest"), max_length=64, blank=True, db_index=True, editable=False)
    # R15 across systems: the keyed digest of the national certKey (the ID number's SM3), the only
    # identity an evaluation received from another 好差评 system carries (haoping.fields.cert_digest).
    cert_digest = models.CharField(_("certKey digest"), max_length=64, blank=True, db_index=True, editable=False)
    # The last four digits, keyed: handlers find a case by what a caller reads out, never decrypting.
    phone_tail_digest = models.CharField(
        _("phone tail digest"), max_length=64, blank=True, db_index=True, editable=False
    )

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        permissions = [("view_personal_data", _("Can see personal data in full (audited)"))]

    def __str__(self) -> str:
        from haoping.lib.masking import mask_name

        return mask_name(self.name or "")


class Bundle(models.Model):
    """批量业务 (batch) or 一件事 (theme): records rated together (R5, R6)."""

    class Kind(models.TextChoices):
        BATCH = "batch", _("batch")
        THEME = "theme", _("theme")

    bundle_no = models.CharField(_("bundle number"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bundle")
        verbose_name_plural = _("bundles")

    def __str__(self) -> str:
        return self.bundle_no


class ServiceRecord(models.Model):
    class Mode(models.TextChoices):
        ONSITE = "onsite", _("on site")
        ONLINE = "online", _("online")
        MIXED = "mixed", _("online and on site")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("in progress")
        COMPLETED = "completed", _("completed")

    record_no = models.CharField(_("record number"), max_length=64, unique=True)
    # Keyed SM3 of the row that registered it (haoping.records.services.RecordRow.digest): the
    # same row sent again is a replay, a different one under the same number a conflict.
    body_digest = models.CharField(_("registration digest"), max_length=64, blank=True, editable=False)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    item = models.ForeignKey(ServiceItem, verbose_name=_("service item"), on_delete=models.PROTECT)
    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), null=True, blank=True, on_delete=models.PROTECT
    )
    platform = models.ForeignKey(Platform, verbose_name=_("platform"), null=True, blank=True, on_delete=models.PROTECT)
    window = models.ForeignKey(Window, verbose_name=_("window"), null=True, blank=True, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    on_the_spot = models.BooleanField(_("completed on the spot"), default=False)
    applicant = models.ForeignKey(
        Applicant, verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="records"
    )
    agent = models.ForeignKey(
        Applicant,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agent_records",
    )
    bundle = models.ForeignKey(
        Bundle, verbose_name=_("bundle"), null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    accepted_at = models.DateTimeField(_("accepted at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        indexes = [models.Index(fields=["region", "accepted_at"])]

    def __str__(self) -> str:
        return self.record_no


class Visit(models.Model):
    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), on_delete=models.CASCADE, related_name="visits"
    )
    window = models.ForeignKey(Window, verbose_name=_("window"), on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField(_("visited at"))

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [models.UniqueConstraint(fields=["record", "window", "at"], name="one_visit_per_window_and_time")]

    def __str__(self) -> str:
        return f"{self.record.record_no} #{self.pk}"


class RatingSlot(models.Model):
    """One ratable service: a visit, a completion, or a theme's overall rating.

    The rating link carries `public_id` signed with the link key. An evaluation row per slot
    (unique) is what makes "rated once" hold under concurrency (R4, R5, R7).
    """

    class Kind(models.TextChoices):
        VISIT = "visit", _("window visit")
        COMPLETION = "completion", _("completion")
        THEME = "theme", _("theme overall")

    public_id = models.CharField(max_length=24, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    record = models.ForeignKey(
        ServiceRecord,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="slots",
        verbose_name=_("service record"),
    )
    visit = models.OneToOneField(
        Visit, null=True, blank=True, on_delete=models.CASCADE, related_name="slot", verbose_name=_("visit")
    )
    bundle = models.ForeignKey(
        Bundle, null=True, blank=True, on_delete=models.CASCADE, related_name="slots", verbose_name=_("bundle")
    )
    opens_at = models.DateTimeField(_("opens at"))
    # Stored when the slot opens (R2): the policy in force then decides, never recomputed.
    closes_at = models.DateTimeField(_("closes at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("ratable service")
        verbose_name_plural = _("ratable services")
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=models.Q(kind="completion"), name="one_completion_slot_per_record"
            ),
            models.UniqueConstraint(
                fields=["bundle"], condition=models.Q(kind="theme"), name="one_theme_slot_per_bundle"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"
