from __future__ import annotations

from django.contrib import admin

from haoping.channels.models import ChannelPolicy


@admin.register(ChannelPolicy)
class ChannelPolicyAdmin(admin.ModelAdmin):
    list_display = ("region", "send_from", "send_until", "reminder_day", "daily_cap", "paper_grace_days")
    autocomplete_fields = ("region",)
