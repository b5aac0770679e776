"""Records in the admin. Personal data is masked; the full view is a separate, audited step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from haoping.admin_base import ReadOnlyAdmin
from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
from haoping.lib.masking import mask_id_number, mask_name, mask_phone
from haoping.records.links import evaluation_url
from haoping.records.models import Applicant, Bundle, RatingSlot, ServiceRecord, Visit

REVEAL_PERMISSION = "records.view_personal_data"


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("Why do you need the full personal data?"), max_length=500)


@admin.register(Applicant)
class ApplicantAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "masked_name", "masked_phone", "masked_id_number"]
    list_filter = ["kind"]
    fields = readonly_fields = ("kind", "masked_name", "masked_phone", "masked_id_number", "reveal_link")

    @admin.display(description=_("name"))
    def masked_name(self, obj: Applicant) -> str:
        return mask_name(obj.name or "")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: Applicant) -> str:
        return mask_phone(obj.phone or "")

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Applicant) -> str:
        return mask_id_number(obj.id_number or "")

    @admin.display(description=_("full data"))
    def reveal_link(self, obj: Applicant) -> str:
        url = reverse("admin:records_applicant_reveal", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Show in full (audited)"))

    def get_urls(self) -> list[Any]:
        return [
            path("<int:pk>/reveal/", self.admin_site.admin_view(self.reveal_view), name="records_applicant_reveal"),
            *super().get_urls(),
        ]

    def reveal_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(REVEAL_PERMISSION):
            raise PermissionDenied
        applicant = get_object_or_404(Applicant, pk=pk)
        form = RevealForm(request.POST or None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Personal data"),
            "form": form,
            "opts": self.model._meta,
        }
        if request.method == "POST" and form.is_valid():
            audit_record(
                actor=request.user,
                action=AuditEntry.Action.REVEAL_PERSONAL_DATA,
                target=f"applicant:{applicant.pk}",
                reason=form.cleaned_data["reason"],
            )
            context["applicant"] = applicant
        return render(request, "admin/records/applicant_reveal.html", context)


class VisitInline(admin.TabularInline):
    model = Visit
    extra = 0
    fields = readonly_fields = ("window", "staff", "at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SlotInline(admin.TabularInline):
    model = RatingSlot
    extra = 0
    fields = readonly_fields = ("kind", "opens_at", "closes_at", "link")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("rating link"))
    def link(self, obj: RatingSlot) -> str:
        url = evaluation_url(obj.public_id)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("open"))


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ["record_no", "item", "institution", "platform", "mode", "on_the_spot", "status", "accepted_at"]
    list_filter = ["status", "mode", "on_the_spot", "region"]
    search_fields = ["record_no", "item__name", "item__code"]
    date_hierarchy = "accepted_at"
    list_select_related = ["item", "institution", "platform"]
    exclude = ["applicant", "agent"]
    readonly_fields = ["applicant_link", "agent_link"]
    inlines = [VisitInline, SlotInline]

    @admin.display(description=_("applicant"))
    def applicant_link(self, obj: ServiceRecord) -> str:
        return self._party(obj.applicant)

    @admin.display(description=_("agent"))
    def agent_link(self, obj: ServiceRecord) -> str:
        return self._party(obj.agent) if obj.agent else "-"

    def _party(self, party: Applicant) -> str:
        url = reverse("admin:records_applicant_change", args=[party.pk])
        return format_html('<a href="{}">{} {}</a>', url, mask_name(party.name or ""), mask_phone(party.phone or ""))


@admin.register(Bundle)
class BundleAdmin(ReadOnlyAdmin):
    list_display = ["bundle_no", "kind", "region", "created_at"]
    list_filter = ["kind"]
    search_fields = ["bundle_no"]
