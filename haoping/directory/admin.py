from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import (
    Department,
    Institution,
    Platform,
    Region,
    RegionPolicy,
    ServiceItem,
    Staff,
    Window,
)
from haoping.directory.services import region_save


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "parent"]

    def clean_parent(self) -> Region | None:
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk and parent.path.startswith(self.instance.path):
            raise forms.ValidationError(_("A region cannot be placed under itself or its own subtree."))
        return parent


class RegionPolicyInline(admin.StackedInline):
    model = RegionPolicy
    can_delete = True
    max_num = 1


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    inlines = [RegionPolicyInline]

    form = RegionForm

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        region_save(region=obj)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["code", "name"]
    inlines = [WindowInline]


@admin.register(Window)
class WindowAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "institution", "department"]
    list_filter = ["institution"]
    search_fields = ["code", "name"]


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "type", "department", "legal_days", "promised_days"]
    list_filter = ["department"]
    search_fields = ["code", "name"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["staff_no", "name", "department", "institution", "window"]
    list_filter = ["institution", "department"]
    search_fields = ["staff_no", "name"]
