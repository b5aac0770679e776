from __future__ import annotations

from django.contrib import admin

from haoping.admin_base import ReadOnlyAdmin
from haoping.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "target", "reason"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target"]
    date_hierarchy = "at"
