from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from haoping.accounts.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are made with `manage.py create_api_client`; here they can be seen and revoked."""

    list_display = ["name", "region", "key_prefix", "is_active", "created_at"]
    list_filter = ["is_active"]
    fields = ["name", "region", "key_prefix", "is_active", "created_at"]
    readonly_fields = ["name", "region", "key_prefix", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
