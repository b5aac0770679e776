"""What the periodic jobs last did, for the health check (`manage.py health`, /console/health/)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    """One row per periodic job: its last success and its last failure."""

    name = models.CharField(_("job"), max_length=64, unique=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_duration = models.FloatField(_("duration of the last success (s)"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    # The exception's type, or "locked" when another run held the job's lock; never its text,
    # which may quote personal data.
    last_failure = models.CharField(_("last failure reason"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")

    def __str__(self) -> str:
        return self.name
