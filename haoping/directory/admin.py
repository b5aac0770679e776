from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from haoping.audit.models import AuditEntry
from haoping.audit.services import audit_record
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
from haoping.directory.selectors import directory_rows, directory_workbook
from haoping.directory.services import (
    MODELS,
    SECTIONS,
    ImportErrors,
    directory_import,
    read_directory_upload,
    region_save,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A province's directory is a few MB as .xlsx; far larger is not a directory.
MAX_IMPORT_BYTES = 50 * 2**20
# Errors shown on the page; a file with more gets the count of the rest.
SHOWN_ERRORS = 500
SECTION_LABELS = {
    "regions": _("regions"),
    "departments": _("departments"),
    "institutions": _("institutions"),
    "windows": _("windows"),
    "platforms": _("platforms"),
    "items": _("service items"),
    "staff": _("staff"),
}


class DirectoryImportForm(forms.Form):
    file = forms.FileField(label=_("Directory file (.xlsx or .json)"))


def _may(request: HttpRequest, *actions: str) -> bool:
    """The import writes every kind of directory row, the export reads them all."""
    return request.user.has_perms(
        [f"directory.{action}_{model._meta.model_name}" for model in MODELS.values() for action in actions]
    )


class DirectoryAdmin(admin.ModelAdmin):
    """Every directory list links to the import and the export."""

    change_list_template = "admin/directory/change_list.html"


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
class RegionAdmin(DirectoryAdmin):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]
    inlines = [RegionPolicyInline]

    form = RegionForm

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        region_save(region=obj)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="directory_import"),
            path("export.xlsx", view(self.export_view), name="directory_export"),
            path("template.xlsx", view(self.template_view), name="directory_template"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """The import command's file, uploaded: checked whole first, then written, or nothing is."""
        if not _may(request, "add", "change"):
            raise PermissionDenied
        form = DirectoryImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        report = None
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                upload = form.cleaned_data["file"]
                if upload.size > MAX_IMPORT_BYTES:
                    errors = [
                        gettext_now("%(file)s: larger than %(max)d MB")
                        % {"file": upload.name, "max": MAX_IMPORT_BYTES // 2**20}
                    ]
                    status = 413
                else:
                    try:
                        data = read_directory_upload(name=upload.name, content=upload.read())
                        report = directory_import(data=data)
                    except ImportErrors as exc:
                        errors, status = exc.errors, 422
                    else:
                        audit_record(actor=request.user, action=AuditEntry.Action.IMPORT_DIRECTORY, target=upload.name)
                        status = 200
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import the directory"),
            "opts": self.model._meta,
            "form": form,
            "errors": errors[:SHOWN_ERRORS],
            "more_errors": max(0, len(errors) - SHOWN_ERRORS),
            "report": report
            and [
                (SECTION_LABELS[section], report.created.get(section, 0), report.updated.get(section, 0))
                for section in SECTIONS
            ],
            "sections": [(section, SECTION_LABELS[section], columns) for section, columns in SECTIONS.items()],
        }
        return render(request, "admin/directory/import.html", context, status=status)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not _may(request, "view"):
            raise PermissionDenied
        return _workbook(directory_workbook(directory_rows()), "directory.xlsx")

    def template_view(self, request: HttpRequest) -> HttpResponse:
        if not _may(request, "add", "change"):
            raise PermissionDenied
        return _workbook(directory_workbook({}), "directory-template.xlsx")


def _workbook(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@admin.register(Department)
class DepartmentAdmin(DirectoryAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0


@admin.register(Institution)
class InstitutionAdmin(DirectoryAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["code", "name"]
    inlines = [WindowInline]


@admin.register(Window)
class WindowAdmin(DirectoryAdmin):
    list_display = ["code", "name", "institution", "department"]
    list_filter = ["institution"]
    search_fields = ["code", "name"]


@admin.register(Platform)
class PlatformAdmin(DirectoryAdmin):
    list_display = ["code", "name", "kind", "region"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(ServiceItem)
class ServiceItemAdmin(DirectoryAdmin):
    list_display = ["code", "name", "type", "department", "legal_days", "promised_days"]
    list_filter = ["department"]
    search_fields = ["code", "name"]


@admin.register(Staff)
class StaffAdmin(DirectoryAdmin):
    list_display = ["staff_no", "name", "department", "institution", "window"]
    list_filter = ["institution", "department"]
    search_fields = ["staff_no", "name"]
