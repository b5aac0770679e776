"""Per-day rollups of the Annex A counts (counts only, never rates), keyed day × object × channel.

Every row carries the region of the evaluations it counts, so the table can be distributed by
region later (Citus) and a region subtree is a filter on it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Region


class DailyCount(models.Model):
    class Kind(models.TextChoices):
        REGION = "region", _("region")
        DEPARTMENT = "department", _("department")
        INSTITUTION = "institution", _("institution")
        WINDOW = "window", _("window")
        PLATFORM = "platform", _("platform")
        ITEM = "item", _("service item")
        STAFF = "staff", _("staff member")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, db_constraint=False)
    # The local (Asia/Shanghai) date of the evaluations' rated_at.
    day = models.DateField(_("day"))
    kind = models.CharField(_("object kind"), max_length=12, choices=Kind.choices)
    object_id = models.BigIntegerField(_("object"))
    # "" for default ratings, which have no channel; "*" for all channels together.
    channel = models.CharField(_("channel"), max_length=8, blank=True)

    total = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)
    defaults = models.PositiveIntegerField(default=0)
    active_good = models.PositiveIntegerField(default=0)
    bad = models.PositiveIntegerField(default=0)
    invalid_bad = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    rectified = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    # Active ratings by level (R1), for the level distribution on dashboards.
    level_1 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)
    level_5 = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "day", "kind", "object_id", "channel"], name="one_rollup_row_per_key"
            )
        ]
        indexes = [models.Index(fields=["kind", "object_id", "day"]), models.Index(fields=["kind", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}:{self.object_id} {self.channel}"


class RollupMark(models.Model):
    """How far the incremental update has read the evaluations and the case history."""

    name = models.CharField(max_length=20, primary_key=True)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("rollup mark")
        verbose_name_plural = _("rollup marks")

    def __str__(self) -> str:
        return f"{self.name} {self.last_id}"


class ProblemTerm(models.Model):
    """How often a word (or a reason tag, as "#code") appears in the valid bad reviews of an item or
    a department on a day (堵点难点)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, db_constraint=False)
    day = models.DateField(_("day"))
    kind = models.CharField(_("object kind"), max_length=12)
    object_id = models.BigIntegerField(_("object"))
    term = models.CharField(_("term"), max_length=40)
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("problem term")
        verbose_name_plural = _("problem terms")
        constraints = [
            models.UniqueConstraint(fields=["region", "day", "kind", "object_id", "term"], name="one_term_row_per_key")
        ]
        indexes = [models.Index(fields=["kind", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}:{self.object_id} {self.term}"
