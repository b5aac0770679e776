from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from haoping.directory.models import Region


class ApiClient(models.Model):
    """A business system or channel client. Its key reaches only its region's subtree."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="api_clients")
    # Only a digest of the key is kept; the key itself is shown once, at creation.
    key_digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"
