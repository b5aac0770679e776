"""Monthly reports of a region (issue 4, item 5): requested by a manager, built in the background."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from haoping.directory.models import Region


class MonthlyReport(models.Model):
    """One build of a region's report for one month, and the Excel and PDF it produced.

    The files are kept in the database (binary fields), not under MEDIA_ROOT: a huey worker builds
    them, possibly on another host than the web process that serves the download, and the database
    is the one store both share. The files and the state change commit together, so a report is
    never "done" without its files. A month's report is small (tens of kB of Excel, a few hundred
    kB of PDF with the font subset); lists defer both fields.
    """

    class State(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("report state", "queued")
        RUNNING = "running", pgettext_lazy("report state", "being built")
        DONE = "done", pgettext_lazy("report state", "done")
        FAILED = "failed", pgettext_lazy("report state", "failed")

    class Step(models.TextChoices):
        NONE = "", _("waiting")
        RATES = "rates", _("the six rates of the region")
        REGIONS = "regions", _("rates by child region")
        INSTITUTIONS = "institutions", _("rates by institution")
        DEPARTMENTS = "departments", _("rates by department")
        RANKINGS = "rankings", _("rankings and key targets")
        PROBLEMS = "problems", _("hot problems")
        CASES = "cases", _("rectification performance")
        EXCEL = "excel", _("writing the Excel workbook")
        PDF = "pdf", _("writing the PDF")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    # The first day of the month reported.
    month = models.DateField(_("month"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=12, choices=Step.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # What went wrong, for a failed build: the exception, never the data being reported.
    error = models.TextField(_("error"), blank=True)
    xlsx = models.BinaryField(_("Excel workbook"), null=True, blank=True)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True)

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            # A repeated request while one is on its way gets that one.
            models.UniqueConstraint(
                fields=["region", "month"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_report_under_way_per_month",
            )
        ]
        indexes = [models.Index(fields=["region", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month:%Y-%m} #{self.pk}"
