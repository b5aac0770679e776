"""Evaluations are append-only: the admin lists them and never edits them. No evaluator shown.
Likewise the registry of malicious evaluators (R15), never with its digests."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from haoping.admin_base import ReadOnlyAdmin
from haoping.evaluations.models import BlockedEvaluator, Evaluation, QuestionnaireOption, QuestionnaireSet
from haoping.evaluations.selectors import questionnaire_cache_clear
from haoping.lib.masking import mask_text


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["record", "level", "source", "channel", "item", "institution", "window", "staff", "rated_at"]
    list_filter = ["level", "source", "channel", "region"]
    search_fields = ["record__record_no", "receipt"]
    date_hierarchy = "rated_at"
    list_select_related = ["record", "item", "institution", "window", "staff"]
    exclude = ["row_mac", "client_ref", "comment", "comment_sealed", "suggestion_sealed"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Evaluation._meta.fields if f.name not in self.exclude] + ["masked_comment"]

    @admin.display(description=_("comment"))
    def masked_comment(self, obj: Evaluation) -> str:
        # Applicants sometimes type their phone number into the comment.
        return mask_text(obj.comment)


@admin.register(BlockedEvaluator)
class BlockedEvaluatorAdmin(ReadOnlyAdmin):
    """Additions and removals go through the console, where they are audited."""

    list_display = ["id", "region", "case", "added_at", "added_by_label", "removed_at"]
    list_filter = ["region"]
    exclude = ["phone_digest", "id_digest"]


class QuestionnaireOptionFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        """An option's key and role are stored in every rating that chose it: an option in use is
        retired (offered off) and a new one added, never renamed."""
        super().clean()
        for form in self.forms:
            if form.instance.pk is None or not form.has_changed():
                continue
            for name in ("key", "role"):
                if name in form.changed_data:
                    form.add_error(name, _("stored in ratings: retire this option and add a new one instead"))


class QuestionnaireOptionInline(admin.TabularInline):
    model = QuestionnaireOption
    formset = QuestionnaireOptionFormSet
    extra = 1
    # Retired (offered off), never deleted: ratings that chose an option keep its label and code.
    can_delete = False
    fields = ["role", "key", "label", "order", "active", "eval_detail_code"]


@admin.register(QuestionnaireSet)
class QuestionnaireSetAdmin(admin.ModelAdmin):
    """R8, R9: a region's questionnaire per kind of object rated, its options inline. Every change
    is kept in the admin's history (who, when, which options changed); ratings ask the new options
    within seconds in every process (`haoping.evaluations.selectors.questionnaire_for`), at once in
    this one."""

    list_display = ["name", "kind", "region", "catalogue_version", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "region__name", "region__code"]
    autocomplete_fields = ["region"]
    inlines = [QuestionnaireOptionInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The set's own row moved its `updated_at` when saved; other processes see it by that.
        transaction.on_commit(questionnaire_cache_clear)

    def delete_model(self, request: HttpRequest, obj: QuestionnaireSet) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(questionnaire_cache_clear)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(questionnaire_cache_clear)
