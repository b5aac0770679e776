from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from haoping.admin_base import ReadOnlyAdmin
from haoping.exchange.models import Batch, CodeEntry, CodeTable, Endpoint, IncomingRow, LowerSystem, OutgoingRow


class CodeEntryInline(admin.TabularInline):
    model = CodeEntry
    extra = 1


@admin.register(CodeTable)
class CodeTableAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "content_version"]
    inlines = [CodeEntryInline]


@admin.register(CodeEntry)
class CodeEntryAdmin(admin.ModelAdmin):
    list_display = ["table", "field", "local", "code"]
    list_filter = ["table", "field"]


class EndpointForm(forms.ModelForm):
    # The secrets are written here, never shown back; left blank, they stay as they are.
    url = forms.URLField(label=Endpoint._meta.get_field("url").verbose_name, max_length=300, assume_scheme="https")
    app_word = forms.CharField(
        label=Endpoint._meta.get_field("app_word").verbose_name,
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )
    sign_private_key = forms.CharField(
        label=Endpoint._meta.get_field("sign_private_key").verbose_name,
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )
    api_key = forms.CharField(
        label=Endpoint._meta.get_field("api_key").verbose_name,
        help_text=Endpoint._meta.get_field("api_key").help_text,
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )

    class Meta:
        model = Endpoint
        fields = [
            "region",
            "code_table",
            "active",
            "url",
            "tenancy_id",
            "app_mark",
            "app_word",
            "sign_private_key",
            "sign_public_key",
            "platform_public_key",
            "api_key",
            "batch_size",
            "every_minutes",
            "data_source",
            "project_no_prefix",
            "rating_link_pattern",
            "send_checkpoints",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("app_word", "sign_private_key"):
            if not data.get(name):
                if self.instance.pk is None:
                    self.add_error(name, forms.ValidationError(forms.Field.default_error_messages["required"]))
                else:
                    data[name] = getattr(self.instance, name)
        # Optional; left blank on an endpoint that has one, it stays.
        if not data.get("api_key") and self.instance.pk is not None:
            data["api_key"] = self.instance.api_key
        return data


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["region", "url", "code_table", "active", "batch_size", "every_minutes", "last_run_at"]
    readonly_fields = ["last_run_at"]

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        obj.app_word = form.cleaned_data["app_word"]
        obj.sign_private_key = form.cleaned_data["sign_private_key"]
        obj.api_key = form.cleaned_data.get("api_key") or ""
        super().save_model(request, obj, form, change)


@admin.register(OutgoingRow)
class OutgoingRowAdmin(ReadOnlyAdmin):
    list_display = ["natural_key", "kind", "region", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["natural_key", "project_no"]


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["pk", "endpoint", "started_at", "size", "tries", "outcome", "http_status"]


class LowerSystemForm(forms.ModelForm):
    # Secrets are written here, never shown back; left blank on a saved system, they stay.
    app_word = forms.CharField(
        label=LowerSystem._meta.get_field("app_word").verbose_name,
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )
    decrypt_private_key = forms.CharField(
        label=LowerSystem._meta.get_field("decrypt_private_key").verbose_name,
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )

    class Meta:
        model = LowerSystem
        fields = [
            "name",
            "region",
            "api_client",
            "code_table",
            "active",
            "app_mark",
            "app_word",
            "sign_public_key",
            "decrypt_private_key",
            "chain_public_key",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("app_word", "decrypt_private_key"):
            if not data.get(name) and self.instance.pk is not None:
                data[name] = getattr(self.instance, name)
        return data


@admin.register(LowerSystem)
class LowerSystemAdmin(admin.ModelAdmin):
    """The registry of lower-level systems whose rows come in here (汇聚)."""

    form = LowerSystemForm
    list_display = ["name", "region", "api_client", "code_table", "active"]
    list_filter = ["active"]

    def save_model(self, request: HttpRequest, obj: LowerSystem, form: Any, change: bool) -> None:
        obj.app_word = form.cleaned_data.get("app_word") or ""
        obj.decrypt_private_key = form.cleaned_data.get("decrypt_private_key") or ""
        super().save_model(request, obj, form, change)


@admin.register(IncomingRow)
class IncomingRowAdmin(ReadOnlyAdmin):
    list_display = ["natural_key", "kind", "system", "status", "answer", "field", "times", "updated_at"]
    list_filter = ["status", "kind", "system"]
    search_fields = ["natural_key"]
    # The row as sent may hold a comment with personal data: it stays out of the list and the form.
    exclude = ["payload"]
