"""Evaluations (评价): append-only, one per ratable service, sealed into an SM3 chain."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Department, Institution, Platform, Region, ServiceItem, Staff, Window
from haoping.evaluations import rules

# The levels are the rules' (R1), read from here by the many places that show them; the questions
# and reason tags are data (QuestionnaireSet, R8, R9), read through the selectors.
from haoping.evaluations.rules import LEVEL_LABELS as LEVEL_LABELS
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
    # The keyed digest of the national certKey, which evaluations from lower systems carry.
    cert_digest = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)  # noqa: DJ001
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


class QuestionnaireSet(models.Model):
    """R8, R9: what a rating of one kind of object asks (questions answered 1–5, reason tags of a
    bad rating), for a region and every region below it without a set of that kind of its own.
    A set without a region is the default at the root of the tree (migration 0014 seeds it)."""

    class Kind(models.TextChoices):
        INSTITUTION = rules.INSTITUTION, _("government-service institution or department")
        PLATFORM = rules.PLATFORM, _("government-service platform")
        STAFF = rules.STAFF, _("staff member")
        ONSITE = rules.ONSITE, _("on-site service in a hall")

    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Blank: the default, for every region without a set of this kind of its own or above it."),
    )
    kind = models.CharField(_("what is rated"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    # The version of the national evaluation-content catalogue the options' evalDetail codes belong to.
    catalogue_version = models.CharField(_("content catalogue version"), max_length=20, blank=True)
    # When the set or its options last changed: processes reload their cached sets when it moves.
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["region__path", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["region", "kind"], name="one_questionnaire_per_region_and_kind"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(region__isnull=True), name="one_default_questionnaire_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QuestionnaireOption(models.Model):
    """One option of a questionnaire: its stable key (stored in ratings), its Chinese label, its
    place, whether it is offered, and its evalDetail code upstream."""

    class Role(models.TextChoices):
        QUESTION = rules.QUESTION, _("question answered 1 to 5")
        REASON = rules.REASON, _("reason tag of a bad rating")

    questionnaire = models.ForeignKey(
        QuestionnaireSet, verbose_name=_("questionnaire"), on_delete=models.CASCADE, related_name="options"
    )
    role = models.CharField(_("kind of option"), max_length=8, choices=Role.choices)
    key = models.CharField(
        _("key"),
        max_length=rules.MAX_OPTION_KEY,
        validators=[
            RegexValidator(r"^[a-z][a-z0-9_]*$", _("lower-case letters, digits and _, starting with a letter"))
        ],
        help_text=_("Stored in every rating that chooses it: never change it, retire the option instead."),
    )
    label = models.CharField(_("label (Chinese)"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(
        _("offered"),
        default=True,
        help_text=_("Retired options are no longer offered; ratings that chose them keep them."),
    )
    eval_detail_code = models.CharField(
        _("evalDetail code"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Za-z_.-]+$", _("letters, digits, '.', '-' or '_'"))],
        help_text=_("Its code in the national content catalogue; blank: the region's code table maps the key."),
    )

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["questionnaire", "role", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "role", "key"], name="one_option_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.label}"
