from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.fields import EncryptedTextField


class AuditEntry(models.Model):
    """Who saw or changed something sensitive, and why. Written by `audit_record` only."""

    class Action(models.TextChoices):
        REVEAL_PERSONAL_DATA = "reveal_personal_data", _("revealed personal data")
        IMPORT_DIRECTORY = "import_directory", _("imported the directory")
        BLOCK_EVALUATOR = "block_evaluator", _("added an evaluator to the registry")
        UNBLOCK_EVALUATOR = "unblock_evaluator", _("removed an evaluator from the registry")
        REPLACE_DEFAULT = "replace_default", _("replaced a default rating by a paper form")
        REROUTE_COMMENT = "reroute_comment", _("sent a social comment to another unit")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    target = models.CharField(_("target"), max_length=200)
    # Stored masked; as written, encrypted beside it when masking changed it (seal_free_text).
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    reason_sealed = EncryptedTextField(_("reason as written (encrypted)"), blank=True, editable=False)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.get_action_display()} {self.target}"
