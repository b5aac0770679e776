from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from haoping.accounts.models import ApiClient, Membership


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are made with `manage.py create_api_client`; here they can be seen, given another role
    and revoked."""

    list_display = ["name", "region", "role", "key_prefix", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    fields = ["name", "region", "role", "key_prefix", "is_active", "created_at"]
    readonly_fields = ["name", "region", "key_prefix", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who may use the console, and as what: a region's manager, a unit's handler, or a staff member."""

    list_display = ["user", "role", "region", "department", "staff"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__last_name", "user__first_name"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["region", "department", "staff"]
