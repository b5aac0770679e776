"""Per-day rollups of the Annex A counts (counts only, never rates), keyed day × object × channel.

Every row carries the region of the evaluations it counts, so the table can be distributed by
region later (Citus) and a region subtree is a filter on it.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Region
from haoping.indicators.counting import COUNTS, LEVELS


class Rollup(models.Model):
    """The keys besides the date, and the counts, shared by the daily and the monthly rows."""

    class Kind(models.TextChoices):
        REGION = "region", _("region")
        DEPARTMENT = "department", _("department")
        INSTITUTION = "institution", _("institution")
        WINDOW = "window", _("window")
        PLATFORM = "platform", _("platform")
        ITEM = "item", _("service item")
        STAFF = "staff", _("staff member")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, db_constraint=False)
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
        abstract = True


class DailyCount(Rollup):
    # The local (Asia/Shanghai) date of the evaluations' rated_at.
    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "day", "kind", "object_id", "channel"], name="one_rollup_row_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "object_id", "day"]),
            # A region subtree's rows of one kind, read without the other channels' rows.
            models.Index(fields=["kind", "region", "day"], condition=Q(channel="*"), name="daily_all_channels"),
            models.Index(fields=["kind", "region", "day"], condition=~Q(channel="*"), name="daily_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}:{self.object_id} {self.channel}"


class MonthlyCount(Rollup):
    """The daily rows of a calendar month summed, same keys and counts with `month` for `day`.

    Reads of a period use these for its whole months and the daily rows for the days at either
    end, so a year is 12 rows per object instead of 365. They are always recomputed from the daily
    rows of their month, never counted on their own.
    """

    # The first day of the month.
    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("monthly count")
        verbose_name_plural = _("monthly counts")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "month", "kind", "object_id", "channel"], name="one_monthly_row_per_key"
            )
        ]
        indexes = [
            models.Index(fields=["kind", "object_id", "month"]),
            # Covering: a year's ranking of a province's halls is an index-only scan of 12 entries each.
            models.Index(
                fields=["kind", "region", "month"],
                include=["object_id", *COUNTS, *LEVELS],
                condition=Q(channel="*"),
                name="monthly_all_channels",
            ),
            models.Index(fields=["kind", "region", "month"], condition=~Q(channel="*"), name="monthly_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind}:{self.object_id} {self.channel}"


class RollupMark(models.Model):
    """How far the incremental update has read the evaluations and the case history."""

    name = models.CharField(max_length=20, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    # Ids at or below `last_id` that were missing when it was read, as [first, last] ranges: a
    # transaction that took its id earlier may still commit them (PostgreSQL), or it rolled back.
    # Each is read once it appears; ranges further back than the look-back are given up.
    gaps = models.JSONField(default=list, blank=True)

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


class CountedCase(models.Model):
    """The case outcome that the rollups count for the bad reviews of one submission (receipt).

    Every counted bad review of the receipt counts these flags; when the case moves on, the update
    adds the difference for those reviews. A receipt without a row counts none of them.
    """

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, db_constraint=False)
    receipt = models.CharField(_("receipt"), max_length=20)
    invalid = models.BooleanField(default=False)
    replied = models.BooleanField(default=False)
    rectified = models.BooleanField(default=False)
    satisfied = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("counted case")
        verbose_name_plural = _("counted cases")
        constraints = [models.UniqueConstraint(fields=["region", "receipt"], name="one_counted_case_per_receipt")]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.receipt}"
