"""Reports are requested and built through the console; the admin lists them."""

from __future__ import annotations

from django.contrib import admin

from haoping.admin_base import ReadOnlyAdmin
from haoping.reports.models import MonthlyReport


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "region", "month", "state", "progress", "created_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["region"]
    exclude = ["xlsx", "pdf"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).defer("xlsx", "pdf")
