"""What a region publishes (R19, 51号 四(四)): its choice of what appears, and each published month,
frozen as it was published; a republished month keeps the figures it replaced and says why."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Region


class DisclosureSetting(models.Model):
    """Which objects a region's published months show (a region without a row shows the defaults)."""

    region = models.OneToOneField(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="disclosure_setting"
    )
    show_institutions = models.BooleanField(_("halls and centres"), default=True)
    show_departments = models.BooleanField(_("departments"), default=True)
    show_items = models.BooleanField(_("service items"), default=True)
    # 窗口人员公示: staff members' own figures, by staff number only (R10: never who rated them).
    show_staff = models.BooleanField(_("window staff by staff number"), default=False)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)
    updated_by_label = models.CharField(_("updated by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("disclosure setting")
        verbose_name_plural = _("disclosure settings")

    def __str__(self) -> str:
        return str(self.region_id)


class Publication(models.Model):
    """One region's published month: the figures as computed from the rollups when published.

    Public pages and downloads read only `figures`, so a published month never changes by itself;
    publishing it again replaces them and records a dated correction (PublicationCorrection)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    # The first day of the month.
    month = models.DateField(_("month"))
    figures = models.JSONField(_("published figures"))
    published_at = models.DateTimeField(_("published at"))
    published_by_label = models.CharField(_("published by"), max_length=150)
    # 1 when first published, one more each time it is published again: rendered pages are cached
    # under it, so a correction shows at once and nothing else ever changes them.
    revision = models.PositiveIntegerField(_("revision"), default=1)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="one_publication_per_region_month")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month:%Y-%m}"


class PublicationCorrection(models.Model):
    """A republished month: when, why, by whom, and the figures it replaced."""

    publication = models.ForeignKey(
        Publication, verbose_name=_("publication"), on_delete=models.CASCADE, related_name="corrections"
    )
    corrected_at = models.DateTimeField(_("corrected at"))
    note = models.TextField(_("correction note"))
    corrected_by_label = models.CharField(_("corrected by"), max_length=150)
    replaced_figures = models.JSONField(_("figures replaced"))

    class Meta:
        verbose_name = _("publication correction")
        verbose_name_plural = _("publication corrections")
        ordering = ["corrected_at"]

    def __str__(self) -> str:
        return f"{self.publication_id} {self.corrected_at:%Y-%m-%d}"


class RectificationNotice(models.Model):
    """整改公示 (R19): what the public reads of a bad review and its rectification, as a manager
    approved it. Until approved, a published bad review shows only its reason tags, state and
    outcome; the evaluator's own words never appear unless a manager put them here."""

    case = models.OneToOneField(
        "rectification.BadReviewCase", verbose_name=_("case"), on_delete=models.PROTECT, related_name="notice"
    )
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    # Stored as published: numbers and the names of the people the case knows removed.
    summary = models.TextField(_("problem, as published"))
    rectification = models.TextField(_("rectification, as published"), blank=True)
    approved_at = models.DateTimeField(_("approved at"))
    approved_by_label = models.CharField(_("approved by"), max_length=150)

    class Meta:
        verbose_name = _("rectification notice")
        verbose_name_plural = _("rectification notices")

    def __str__(self) -> str:
        return str(self.case_id)


class CaseStudy(models.Model):
    """案例库 (R19, GB/T 39735 8.4.4): a typical case, good or bad, made by a manager from a closed
    bad-review case or an outstanding good review, its text anonymised and edited, then published."""

    class Kind(models.TextChoices):
        GOOD = "good", _("good example")
        BAD = "bad", _("bad example")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    source_case = models.OneToOneField(
        "rectification.BadReviewCase",
        verbose_name=_("from the case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_evaluation = models.OneToOneField(
        "evaluations.Evaluation",
        verbose_name=_("from the good review"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    item = models.ForeignKey(
        "directory.ServiceItem", verbose_name=_("service item"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "directory.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    # The reason tags of the review (R8), searchable.
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # When it happened (the review's day): the year searched and the bulletin's period.
    day = models.DateField(_("day"))
    # Stored as published: numbers and the names of the people the case knows removed.
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"))
    created_by_label = models.CharField(_("created by"), max_length=150)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("typical case")
        verbose_name_plural = _("typical cases")
        indexes = [models.Index(fields=["region", "published_at"])]

    def __str__(self) -> str:
        return self.title
