"""China's working-day calendar: one row per day, from the holiday library, the fallback or an administrator."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CalendarDay(models.Model):
    """Whether a day is a working day. Days missing from the table count as the weekends-only fallback."""

    class Source(models.TextChoices):
        LIBRARY = "library", _("holiday library")
        FALLBACK = "fallback", _("weekends only (not yet published)")
        ADMIN = "admin", _("administrator")

    day = models.DateField(_("day"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("The holiday's name, or “make-up workday”.")
    )
    # False only for fallback days: the State Council has not published that year's arrangement yet,
    # so deadlines that reach such a day are provisional.
    confirmed = models.BooleanField(_("confirmed"), default=False)
    source = models.CharField(pgettext_lazy("calendar day", "source"), max_length=10, choices=Source.choices)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["day"]

    def __str__(self) -> str:
        return self.day.isoformat()
