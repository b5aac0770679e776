"""Cases change only through their workflow (the console and the API); the admin shows them and
the registry, and never the evaluator's identity."""

from __future__ import annotations

from django.contrib import admin

from haoping.admin_base import ReadOnlyAdmin
from haoping.rectification.models import (
    Appeal,
    BadReviewCase,
    CaseEvent,
    Message,
    SpotCheck,
    SpotCheckItem,
)


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = readonly_fields = ("at", "action", "from_state", "to_state", "actor_label", "note")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(BadReviewCase)
class BadReviewCaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "state", "category", "level", "unit", "item", "opened_at", "due_at", "was_overdue", "invalid"]
    list_filter = ["state", "category", "invalid", "was_overdue", "provisional", "region"]
    search_fields = ["record__record_no", "receipt"]
    date_hierarchy = "opened_at"
    list_select_related = ["unit", "item"]
    exclude = ["evaluator", "public_id"]
    inlines = [CaseEventInline]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "state", "filed_at", "decide_due", "decided_at"]
    list_filter = ["state", "region"]


class SpotCheckItemInline(admin.TabularInline):
    model = SpotCheckItem
    fields = readonly_fields = ("case", "result", "note", "checked_by_label", "checked_at")
    extra = 0
    can_delete = False


@admin.register(SpotCheck)
class SpotCheckAdmin(ReadOnlyAdmin):
    list_display = ["id", "region", "closed_from", "closed_to", "population", "drawn_at"]
    inlines = [SpotCheckItemInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "case", "to_unit", "to_region", "created_at", "sent_at", "backend"]
    list_filter = ["kind", "backend"]
    # Whom a text went to is never shown (R10): neither the evaluator nor a comment sender's number.
    exclude = ["to_evaluator", "to_phone"]
