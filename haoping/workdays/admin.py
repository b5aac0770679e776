from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from haoping.lib.numbers import whole_number
from haoping.workdays.models import CalendarDay
from haoping.workdays.services import calendar_day_set


class YearListFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("day", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        year = whole_number(value)
        if year is not None and 1 <= year <= 9999:
            return queryset.filter(day__year=year)
        return queryset


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["day", "weekday", "is_workday", "display_name", "confirmed", "source", "updated_at"]
    list_filter = [YearListFilter, "is_workday", "confirmed", "source"]
    search_fields = ["name"]
    date_hierarchy = "day"
    ordering = ["day"]
    fields = ["day", "is_workday", "name", "confirmed", "source", "updated_at"]
    list_per_page = 100

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The day is the row's identity; a ruling for another day is another row.
        readonly = ["confirmed", "source", "updated_at"]
        return ["day", *readonly] if obj is not None else readonly

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.day.weekday()])

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, obj: CalendarDay) -> str:
        # Seeded names are English msgids; an administrator's own wording passes through unchanged.
        return gettext(obj.name) if obj.name else ""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        saved = calendar_day_set(day=obj.day, is_workday=obj.is_workday, name=obj.name)
        # The admin's messages and change log need the stored row.
        obj.pk = saved.pk
        obj.confirmed = saved.confirmed
        obj.source = saved.source
        obj.updated_at = saved.updated_at
