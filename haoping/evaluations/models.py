"""Evaluations (评价): append-only, one per ratable service, sealed into an SM3 chain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem, Staff, Window

# The catalogues are the rules' (R1, R8), read from here by the many places that show them.
from haoping.evaluations.rules import LEVEL_LABELS as LEVEL_LABELS
from haoping.evaluations.rules import QUESTION_LABELS as QUESTION_LABELS
from haoping.evaluations.rules import REASON_LABELS as REASON_LABELS
from haoping.fields import EncryptedTextField
from haoping.records.models import Bundle, RatingSlot, ServiceRecord, Visit


class Evaluation(models.Model):
    class Source(models.TextChoices):
        ACTIVE = "active", _("rated by the applicant")
        DEFAULT = "default", _("default (not rated in time)")

    class Channel(models.TextChoices):
        PC = "pc", _("PC")
        MOBILE = "mobile", _("mobile")
        QRCODE = "qrcode", _("QR code")
        PAD = "pad", _("window pad")
        KIOSK = "kiosk", _("self-service kiosk")
        PHONE = "phone", _("phone")
        SMS = "sms", _("SMS")
        PAPER = "paper", _("paper form")

    class RatedBy(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        AGENT = "agent", _("agent")

    # Indexed as the first column of the indexes below.
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, db_index=False)
    slot = models.ForeignKey(
        RatingSlot, verbose_name=_("ratable service"), on_delete=models.PROTECT, related_name="evaluations"
    )
    record = models.ForeignKey(
        ServiceRecord, verbose_name=_("service record"), on_delete=models.PROTECT, related_name="evaluations"
    )
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    # Who was rated, copied from the record or visit so that indicators need no joins. The database
    # checks them on every insert too, so a rating never names a directory row that is not there
    # (their cost, a few per cent of a rating's CPU: bench/README.md, paired runs).
    item = models.ForeignKey(ServiceItem, verbose_name=_("service item"), on_delete=models.PROTECT)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT)
    institution = models.ForeignKey(
        Institution, verbose_name=_("institution"), null=True, blank=True, on_delete=models.PROTECT
    )
    platform = models.ForeignKey(
        Platform,
        verbose_name=_("platform"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    window = models.ForeignKey(Window, verbose_name=_("window"), null=True, blank=True, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT)
    bundle = models.ForeignKey(
        Bundle,
        verbose_name=_("bundle"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )

    level = models.PositiveSmallIntegerField(_("level"), choices=sorted(LEVEL_LABELS.items(), reverse=True))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, blank=True)
    rated_by = models.CharField(_("rated by"), max_length=10, choices=RatedBy.choices, blank=True)
    rated_at = models.DateTimeField(_("rated at"))
    created_at = models.DateTimeField(_("stored at"))
    answers = models.JSONField(_("questionnaire answers"), default=dict, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # Stored with phone and ID numbers masked; the original, when it held any, encrypted beside it.
    comment = models.TextField(_("comment"), blank=True)
    comment_sealed = EncryptedTextField(_("comment as written (encrypted)"), blank=True, editable=False)
    # Likewise the questionnaire's suggestion (R8): masked in `answers`, the original here. The row
    # MAC covers what is read (the masked texts), as for the comment.
    suggestion_sealed = EncryptedTextField(_("suggestion as written (encrypted)"), blank=True, editable=False)
    # One receipt per submission; a batch or theme rating shares it across its rows.
    receipt = models.CharField(_("receipt"), max_length=20)
    client_ref = models.CharField(_("client reference"), max_length=80, blank=True)
    # R6: given as a theme's overall rating, so records of the theme completing later inherit it.
    overall = models.BooleanField(_("theme overall rating"), default=False)
    # R15: given by someone in the registry of malicious evaluators: kept for audit, counted nowhere.
    blocked = models.BooleanField(_("from a blocked evaluator"), default=False)
    # R2 with R3: a paper form filled in while the window was open and keyed in within the grace
    # after it closed replaces the default rating the service got meanwhile. The default stays (the
    # table is append-only and chained) and counts nowhere once superseded.
    supersedes = models.ForeignKey(
        "self",
        verbose_name=_("replaces the default rating"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        db_index=False,
    )
    # R21: taken from a lower-level system (haoping.exchange.intake), named here; blank: rated here.
    # `source` keeps how it was rated there (active or default), which Annex A counts.
    origin = models.CharField(_("imported from"), max_length=100, blank=True)
    # Keyed SM3 over the row's content; the chain seals it (haoping.evaluations.chain).
    row_mac = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            # R4, R5, R7: one evaluation per ratable service, whichever channel or party rates; a
            # default's replacement by a paper form (`supersedes`) is the one other, once per default.
            models.UniqueConstraint(
                fields=["region", "slot"], condition=models.Q(supersedes__isnull=True), name="one_evaluation_per_slot"
            ),
            models.UniqueConstraint(
                fields=["region", "supersedes"],
                condition=models.Q(supersedes__isnull=False),
                name="one_replacement_per_default",
            ),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="level_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["region", "rated_at"]),
            models.Index(fields=["receipt"], name="evaluation_receipt"),
            # Most ratings have no visit, platform or bundle: those rows stay out of these indexes.
            models.Index(fields=["visit"], condition=models.Q(visit__isnull=False), name="evaluation_visit"),
            models.Index(fields=["platform"], condition=models.Q(platform__isnull=False), name="evaluation_platform"),
            models.Index(fields=["bundle"], condition=models.Q(bundle__isnull=False), name="evaluation_bundle"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.level}"


class ChainSeal(models.Model):
    """One link of the evaluation chain: chain_hash = HMAC-SM3(chain key, prev_hash | seq | evaluation | row_mac)."""

    seq = models.BigIntegerField(primary_key=True)
    # No database constraint, so that a deleted evaluation shows up as a broken link.
    evaluation = models.OneToOneField(Evaluation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="seal")
    row_mac = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    # Links sealed before the chain was keyed used a plain SM3; the first checkpoint anchors them.
    keyed = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("chain seal")
        verbose_name_plural = _("chain seals")

    def __str__(self) -> str:
        return f"#{self.seq}"


class ChainCheckpoint(models.Model):
    """A signed head of the chain after each sealing batch, also appended to a log outside the
    database (haoping.evaluations.chain), so that deleting rows, seals or checkpoints shows."""

    number = models.BigIntegerField(primary_key=True)
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    # The chain_hash of the seal at last_seq.
    head = models.CharField(max_length=64)
    # Evaluations sealed so far, per region id (cumulative): a deletion shows in its region's count.
    region_counts = models.JSONField(default=dict)
    prev_digest = models.CharField(max_length=64)
    # SM3 of the canonical payload, and the SM2 signature over it.
    digest = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)
    sealed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("chain checkpoint")
        verbose_name_plural = _("chain checkpoints")

    def __str__(self) -> str:
        return f"#{self.number} ≤{self.last_seq}"


class BlockedEvaluator(models.Model):
    """恶意评价人员信息库 (R15). Matched by keyed digests only; the clear numbers are never stored here."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT)
    # NULL, not '', when unknown, so that an empty digest never matches.
    phone_digest = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)  # noqa: DJ001
    id_digest = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)  # noqa: DJ001
    # The case whose rating was found malicious (rectification decides that; a name, not an import).
    case = models.ForeignKey(
        "rectification.BadReviewCase", verbose_name=_("case"), on_delete=models.PROTECT, related_name="+"
    )
    # Stored masked; as written, encrypted beside it when masking changed it (seal_free_text).
    reason = models.TextField(_("reason"))
    reason_sealed = EncryptedTextField(_("reason as written (encrypted)"), blank=True, editable=False)
    added_by_label = models.CharField(_("added by"), max_length=150)
    added_at = models.DateTimeField(_("added at"))
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by_label = models.CharField(_("removed by"), max_length=150, blank=True)
    removed_reason = models.TextField(_("why removed"), blank=True)
    removed_reason_sealed = EncryptedTextField(_("why removed, as written (encrypted)"), blank=True, editable=False)

    class Meta:
        # Kept where rectification first created it.
        db_table = "rectification_blockedevaluator"
        verbose_name = _("blocked evaluator")
        verbose_name_plural = _("blocked evaluators")

    def __str__(self) -> str:
        return f"#{self.pk}"
